"""Restore Colours (`api.restore_colours`): faded prints back, toned prints neutral, unfaded
photos, grey photos and strength 0 left alone, 16-bit kept."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine import api
from engine.colour_restore import analyse_colours

H, W = 240, 320


def _field(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """A smooth random field stretched onto [0, 1] (its minimum 0, its maximum 1)."""
    field = cv2.GaussianBlur(rng.normal(size=(H, W)), (0, 0), sigma)
    return (field - field.min()) / (field.max() - field.min())


def _photo(seed: int = 0) -> np.ndarray:
    """A natural-looking float photo on [0, 1]: a full-range lightness with mild colour
    patches, every channel reaching black and white (as almost every unfaded photo does)."""
    rng = np.random.default_rng(seed)
    light = _field(rng, 12)
    chroma = np.stack([_field(rng, 25) for _ in range(3)], -1)
    chroma = (chroma - chroma.mean(axis=(0, 1))) * 0.3  # colours, balanced over the photo
    rgb = np.clip(light[..., None] + chroma * (light * (1 - light))[..., None] * 4, 0, 1)
    rgb[:4, :4] = 0.0  # a black and a white somewhere, in every channel
    rgb[-4:, -4:] = 1.0
    return rgb


def _pixels(unit: np.ndarray, dtype=np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.clip(unit * top + 0.5, 0, top).astype(dtype)


def _fade(unit: np.ndarray) -> np.ndarray:
    """Per-channel gamma, offset and scale, then a loss of contrast: a faded colour print."""
    gamma, offset, scale = np.array([0.85, 1.0, 1.2]), np.array([0.12, 0.05, 0.02]), 0.85
    return 0.5 + 0.8 * (offset + scale * unit**gamma - 0.5)


def _psnr(a: np.ndarray, b: np.ndarray, top: float = 255.0) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(top**2 / error)) if error else float("inf")


def test_a_faded_print_comes_back_close_to_its_original():
    original = _pixels(_photo())
    faded = _pixels(_fade(_photo()))
    restored = api.restore_colours(faded)
    assert restored.shape == faded.shape and restored.dtype == np.uint8
    assert analyse_colours(faded).faded == 1.0 and analyse_colours(faded).toned == 0.0
    assert _psnr(restored, original) > _psnr(faded, original) + 5.0
    assert _psnr(restored, original) > 26.0
    # the cast is smaller: the channel means move towards the original's (the mid-tone
    # tilt is corrected only in part, by design: a scene's own colours tilt it too)
    means = [im.reshape(-1, 3).mean(0) for im in (original, faded, restored)]
    assert np.abs(means[2] - means[0]).max() < 0.65 * np.abs(means[1] - means[0]).max()


@pytest.mark.parametrize(
    ("gamma", "weight"),
    [((0.8, 1.0, 1.35), (1.0, 0.88, 0.7)), ((1.3, 1.0, 0.8), (0.55, 0.8, 1.0))],
    ids=["sepia", "cyanotype"],
)
def test_a_toned_print_comes_back_neutral_grey(gamma, weight):
    grey = _field(np.random.default_rng(1), 10)
    toned = 0.04 + 0.9 * np.asarray(weight) * grey[..., None] ** np.asarray(gamma)
    image = _pixels(toned)
    assert not api.is_grey(image) and analyse_colours(image).toned == 1.0
    restored = api.restore_colours(image)
    assert api.is_grey(restored)  # neutral, to the bit
    assert _psnr(restored[..., 0], _pixels(grey)) > 24.0  # the grey photo's lightness


def test_an_unfaded_photo_comes_back_unchanged():
    for seed in range(3):
        photo = _pixels(_photo(seed))
        assert analyse_colours(photo).faded == 0.0
        assert np.array_equal(api.restore_colours(photo), photo)


def test_a_saturated_scene_without_black_is_not_taken_for_a_fade():
    # A red flower filling the frame: no pixel reaches black, and blue spans little.
    rng = np.random.default_rng(3)
    light, hue = _field(rng, 10)[..., None], _field(rng, 20)[..., None]
    flower = np.array([0.35, 0.1, 0.08]) + light * np.array([0.65, 0.25, 0.1])
    flower += hue * np.array([0.0, 0.2, 0.1])  # red to orange and pink: not one hue
    photo = _pixels(flower)
    assert photo.min() > 0.05 * 255 and analyse_colours(photo).faded == 0.0
    assert np.array_equal(api.restore_colours(photo), photo)


def test_strength_zero_returns_the_input_and_strength_blends():
    faded = _pixels(_fade(_photo()))
    same = api.restore_colours(faded, strength=0.0)
    assert np.array_equal(same, faded) and same is not faded
    full = api.restore_colours(faded).astype(np.float64)
    half = api.restore_colours(faded, strength=0.5).astype(np.float64)
    np.testing.assert_allclose(half, (full + faded) / 2, atol=1.0)


def test_sixteen_bit_stays_sixteen_bit_and_uses_its_precision():
    faded = _pixels(_fade(_photo()), np.uint16)
    restored = api.restore_colours(faded)
    assert restored.dtype == np.uint16
    assert len(np.unique(restored[..., 1])) > 4 * 256  # not 8-bit steps
    assert np.count_nonzero(restored % 257) > restored.size // 2  # between 8-bit levels
    eight = api.restore_colours(api.convert_depth(faded, np.uint8))
    # the same correction as the 8-bit copy gets, within an 8-bit step and its rounding
    difference = np.abs(restored.astype(np.float64) / 257 - eight)
    assert difference.max() <= 3.0 and difference.mean() < 0.6


def test_a_grey_photo_stays_grey_and_a_faded_one_gets_its_range_back():
    grey = _field(np.random.default_rng(2), 8)
    faded = _pixels(np.repeat((0.15 + 0.7 * grey)[..., None], 3, axis=2))
    restored = api.restore_colours(faded)
    assert api.is_grey(restored)
    assert restored.min() <= 2 and restored.max() >= 253
    flat = np.full((16, 16, 3), 128, np.uint8)
    assert np.array_equal(api.restore_colours(flat), flat)  # nothing to stretch


@pytest.mark.parametrize("strength", [1.5, -0.1, float("nan"), "strong"])
def test_a_bad_strength_is_refused_with_one_line(strength):
    with pytest.raises(api.InvalidRequest) as caught:
        api.restore_colours(np.zeros((8, 8, 3), np.uint8), strength=strength)
    assert "strength must be" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(api.InvalidRequest, match="strength must be between 0 and 1"):
        api.ColoursRequest(strength=2.0)


def test_progress_cancel_and_the_input_left_alone():
    faded = _pixels(_fade(_photo()))
    before = faded.copy()
    seen: list[api.Progress] = []
    api.restore_colours(faded, progress=seen.append)
    assert np.array_equal(faded, before)
    assert seen and all(p.task == "colours" for p in seen) and seen[-1].fraction == 1.0
    token = api.CancelToken()
    token.cancel()
    with pytest.raises(api.Cancelled):
        api.restore_colours(faded, cancel=token)
    with pytest.raises(api.UnsupportedImage):
        api.restore_colours(np.zeros((8, 8), np.uint8))
