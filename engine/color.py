"""CIE LAB conversions shared by colorization inference and training.

The networks see L scaled to [-1, 1] and predict ab scaled to [-1, 1]; these helpers are the
only place that scaling is defined, so training and inference can never disagree.
"""

from __future__ import annotations

import cv2
import numpy as np

L_SCALE = 50.0  # L in [0, 100]  ->  L / 50 - 1 in [-1, 1]
AB_SCALE = 110.0  # a, b in about [-110, 110] for sRGB  ->  [-1, 1]


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """float32 RGB in [0, 1] (H×W×3) -> LAB with L in [0, 100], a/b in about [-128, 127]."""
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """LAB (as from rgb_to_lab) -> float32 RGB clipped to [0, 1]."""
    rgb = cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb, 0.0, 1.0, out=rgb)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The L channel (0..100) of float32 RGB in [0, 1]."""
    return rgb_to_lab(rgb)[..., 0]


def normalize_l(lightness: np.ndarray) -> np.ndarray:
    return lightness / L_SCALE - 1.0


def normalize_ab(ab: np.ndarray) -> np.ndarray:
    return np.clip(ab / AB_SCALE, -1.0, 1.0)


def denormalize_ab(ab_norm: np.ndarray) -> np.ndarray:
    return ab_norm * AB_SCALE
