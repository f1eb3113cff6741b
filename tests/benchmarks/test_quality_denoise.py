"""The denoising benchmark's own pieces: noise protocols and the classical peers."""

from __future__ import annotations

import numpy as np

# Appended, not prepended: benchmarks/editor_speed.py must not shadow the `editor` package.
from benchmarks import quality_denoise as q


def _photo() -> np.ndarray:
    y, x = np.mgrid[0:64, 0:80].astype(np.float64)
    return np.stack([128 + 60 * np.sin(x / 9), 100 + 50 * np.cos(y / 7), 2 * x], -1).round()


def test_noise_is_reproducible_and_follows_the_protocol():
    clean = _photo()
    unclipped = q.make_noisy(clean, q.Noise("gaussian", 25, clipped=False), seed=3)
    assert np.array_equal(unclipped, q.make_noisy(clean, q.Noise("gaussian", 25, False), 3))
    assert unclipped.dtype == np.float64 and abs(np.std(unclipped - clean) - 25) < 1
    clipped = q.make_noisy(clean, q.Noise("gaussian", 25, clipped=True), seed=3)
    assert clipped.dtype == np.uint8
    sp = q.make_noisy(clean, q.Noise("salt_and_pepper", 0.3, True), seed=1)
    hit = np.any(sp != clean, axis=2)
    assert abs(hit.mean() - 0.3) < 0.03 and set(np.unique(sp[hit])) <= {0, 255}


def test_switching_median_restores_impulses_and_leaves_the_rest():
    clean = _photo()
    noisy = q.make_noisy(clean, q.Noise("salt_and_pepper", 0.1, True), seed=2)
    restored = q.switching_median(noisy, 0.0)
    untouched = (noisy != 0) & (noisy != 255)
    assert np.array_equal(restored[untouched], clean[untouched])
    assert np.abs(restored - clean).mean() < np.abs(noisy - clean).mean() / 10
    assert q.detail(clean) > 0 and q.detail(np.full_like(clean, 9.0)) == 0
