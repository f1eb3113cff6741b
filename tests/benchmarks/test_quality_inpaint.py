"""The inpainting benchmark's own pieces: crops, the hole protocol and the scores."""

from __future__ import annotations

import numpy as np
import pytest

# Appended, not prepended: benchmarks/editor_speed.py must not shadow the `editor` package.
from benchmarks import quality_inpaint as q
from benchmarks import speed_inpaint


def _photo(height: int = 40, width: int = 56) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([128 + 60 * np.sin(x / 9), 100 + 50 * np.cos(y / 7), 2 * x], -1)
    return rgb.round().astype(np.uint8)


def test_centre_crop_takes_the_middle():
    image = _photo(40, 56)
    crop = q.centre_crop(image, 20)
    assert crop.shape == (20, 20, 3)
    np.testing.assert_array_equal(crop, image[10:30, 18:38])


def test_score_hides_the_hole_and_measures_inside_it():
    clean = _photo()
    hole = np.zeros(clean.shape[:2], bool)
    hole[10:20, 10:30] = True
    seen = []

    def keep_input(damaged: np.ndarray, mask: np.ndarray) -> np.ndarray:
        seen.append(damaged.copy())
        return damaged

    def fill_with_mean(damaged: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = damaged.copy()
        out[mask] = damaged[~mask].mean(axis=0).round().astype(np.uint8)
        return out

    blank = q.score(keep_input, [clean], [hole])
    # The method never sees what was under the hole: it is zeroed.
    assert not seen[0][hole].any()
    np.testing.assert_array_equal(seen[0][~hole], clean[~hole])
    better = q.score(fill_with_mean, [clean], [hole])
    assert better["hole_psnr"] > blank["hole_psnr"] + 3
    # Outside the hole both are exact, so the whole-image PSNR is higher than the hole's.
    assert better["psnr"] > better["hole_psnr"]
    assert better["images"] == 1 and better["seconds"] >= 0


def test_speed_benchmark_scratches_are_thin_strokes_of_the_asked_count():
    mask = speed_inpaint.strokes(400, 600, 6, 100, 5, seed=3)
    assert mask.dtype == bool and mask.shape == (400, 600)
    assert 0 < mask.mean() < 0.05
    again = speed_inpaint.strokes(400, 600, 6, 100, 5, seed=3)
    np.testing.assert_array_equal(mask, again)


@pytest.mark.parametrize("name", ["harmonic", "push_pull"])
def test_fill_peers_keep_known_pixels_and_beat_a_black_hole(name):
    clean = _photo()
    hole = np.zeros(clean.shape[:2], bool)
    hole[12:22, 20:34] = True
    fill = q.fill_method(name)
    out = fill(q.damage(clean, hole), hole)
    np.testing.assert_array_equal(out[~hole], clean[~hole])
    zero = q.score(lambda d, m: d, [clean], [hole])
    assert q.score(fill, [clean], [hole])["hole_psnr"] > zero["hole_psnr"] + 10
