"""The analysis' noise measure (`engine.noise_level`) with the shipped denoiser: it tells a
grainy photo from a clean one."""

from __future__ import annotations

import cv2
import numpy as np

from engine import api
from engine.noise_level import measure_noise
from engine.restore_options import NOISE_AT


def _smooth(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    field = cv2.GaussianBlur(rng.normal(size=(256, 256, 3)), (0, 0), 8)
    field = (field - field.min()) / (field.max() - field.min())
    return (field * 200 + 25).astype(np.float32)


def test_grain_measures_above_the_threshold_and_a_clean_photo_below():
    clean = _smooth()
    rng = np.random.default_rng(1)
    grain = cv2.GaussianBlur(rng.normal(size=clean.shape), (0, 0), 0.7) * 12  # correlated
    options = api.RunOptions(device="cpu")
    quiet = measure_noise(np.clip(clean + 0.5, 0, 255).astype(np.uint8), options)
    noisy = measure_noise(np.clip(clean + grain + 0.5, 0, 255).astype(np.uint8), options)
    assert quiet < NOISE_AT < noisy
    sixteen = np.clip((clean + grain) * 257 + 0.5, 0, 65535).astype(np.uint16)
    assert abs(measure_noise(sixteen, options) - noisy) < 0.25 * noisy  # in 8-bit levels
