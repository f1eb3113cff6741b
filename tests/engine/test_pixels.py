"""The shared pixel policies: value scales, bit depth, grey and colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.io import read_image
from engine.pixels import (
    colourfulness,
    convert_depth,
    from_unit,
    has_colour,
    is_grey,
    to_grey,
    to_unit,
)


def test_bit_depth_conversion_rounds_and_round_trips():
    eight = np.arange(256, dtype=np.uint8)
    sixteen = convert_depth(eight, np.uint16)
    assert sixteen.dtype == np.uint16 and sixteen[-1] == 65535 and sixteen[1] == 257
    assert np.array_equal(convert_depth(sixteen, np.uint8), eight)
    # rounding, not truncation: 128.5 is the half-way point of a step of 257
    assert convert_depth(np.array([129, 128, 65535], np.uint16), np.uint8).tolist() == [1, 0, 255]
    assert convert_depth(eight, np.uint8) is eight
    with pytest.raises(ValueError, match="uint8 or uint16"):
        convert_depth(np.zeros(3, np.float32), np.uint8)


def test_unit_scale_round_trips_both_depths():
    for dtype in (np.uint8, np.uint16):
        pixels = np.arange(0, np.iinfo(dtype).max, 97, dtype=dtype)
        assert np.array_equal(from_unit(to_unit(pixels), dtype), pixels)


def test_grey_means_three_identical_channels():
    rng = np.random.default_rng(0)
    grey = np.repeat((rng.random((600, 7, 1)) * 255).astype(np.uint8), 3, axis=2)
    assert is_grey(grey)
    grey[599, 6, 2] += 1  # one value in the last row block differs
    assert not is_grey(grey)
    colour = (rng.random((5, 5, 3)) * 65535).astype(np.uint16)
    flattened = to_grey(colour)
    assert is_grey(flattened) and flattened.dtype == np.uint16
    assert abs(int(flattened[0, 0, 0]) - colour[0, 0].mean()) <= 0.5


def test_a_toned_print_is_not_a_colour_photo_but_a_colourful_one_is():
    ramp = np.linspace(0, 1, 200, dtype=np.float32)[None, :, None].repeat(50, axis=0)
    sepia = ramp * np.array([1.0, 0.85, 0.65], np.float32)
    assert not has_colour((sepia * 255).astype(np.uint8))
    assert colourfulness((sepia * 65535).astype(np.uint16)) < 1.0
    stripes = np.zeros((50, 200, 3), np.float32)
    stripes[:, ::2] = (0.8, 0.2, 0.2)  # red and blue: chroma in two directions
    stripes[:, 1::2] = (0.2, 0.3, 0.9)
    assert has_colour((stripes * 255).astype(np.uint8))


SAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "samples").glob("*.png"))


def test_toned_prints_are_not_colour_photos_but_the_bundled_faded_ones_are() -> None:
    ramp = np.linspace(0.0, 1.0, 64 * 48).reshape(48, 64, 1)
    grey = np.repeat(ramp, 3, axis=2)
    sepia = np.concatenate([ramp**0.8, ramp**0.95, ramp**1.25], axis=2)  # warm, uneven tone
    for toned in (grey, sepia):
        assert not has_colour((toned * 255).astype(np.uint8))
        assert not has_colour((toned * 65535).astype(np.uint16))
    # The bundled samples are faded early colour photos: they count as colour...
    assert any(sample.stem.endswith("_bw") for sample in SAMPLES) and len(SAMPLES) > 3
    for sample in SAMPLES:
        pixels = read_image(sample).pixels
        if sample.stem.endswith("_bw"):  # ...but the black-and-white one, made to colorize
            assert not has_colour(pixels), sample.name
            continue
        assert has_colour(pixels), sample.name
        # ...and the same photos toned to one colour do not.
        tone = pixels.mean(axis=2, keepdims=True) / 255.0
        toned = np.concatenate([tone**0.8, tone**0.95, tone**1.25], axis=2)
        assert colourfulness((toned * 255).astype(np.uint8)) < 2.5, sample.name
