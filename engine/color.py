"""CIE LAB conversions shared by colorization inference and training.

The networks see L scaled to [-1, 1] and predict ab scaled to [-1, 1]; these helpers are the
only place that scaling is defined, so training and inference can never disagree.

The conversion is computed exactly (sRGB, D65, float32) rather than with OpenCV's float
path, whose table-based gamma keeps only about 9 bits — too coarse for 16-bit scans.
"""

from __future__ import annotations

import numpy as np

L_SCALE = 50.0  # L in [0, 100]  ->  L / 50 - 1 in [-1, 1]
AB_SCALE = 110.0  # a, b in about [-110, 110] for sRGB  ->  [-1, 1]

_RGB_TO_XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
_WHITE = _RGB_TO_XYZ.sum(axis=1)  # D65 white of this matrix, so grey maps to a = b = 0
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_EPSILON = (6.0 / 29.0) ** 3
_KAPPA = (29.0 / 6.0) ** 2 / 3.0


def _to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPSILON, np.cbrt(t), _KAPPA * t + 4.0 / 29.0)


def _f_inverse(t: np.ndarray) -> np.ndarray:
    return np.where(t > 6.0 / 29.0, t**3, (t - 4.0 / 29.0) / _KAPPA)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """float RGB in [0, 1] (H×W×3) -> float32 LAB: L in [0, 100], a/b in about [-128, 127]."""
    linear = _to_linear(np.asarray(rgb, dtype=np.float32))
    xyz = linear @ (_RGB_TO_XYZ / _WHITE[:, None]).T.astype(np.float32)
    fx, fy, fz = (_f(xyz[..., i]) for i in range(3))
    lab = np.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)
    return lab.astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """LAB (as from rgb_to_lab) -> float32 RGB clipped to [0, 1]."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_f_inverse(fx), _f_inverse(fy), _f_inverse(fz)], axis=-1)
    linear = xyz @ (_XYZ_TO_RGB * _WHITE[None, :]).T.astype(np.float32)
    return _to_srgb(linear).astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The L channel (0..100) of float RGB in [0, 1]."""
    linear = _to_linear(np.asarray(rgb, dtype=np.float32))
    y = linear @ _RGB_TO_XYZ[1].astype(np.float32)
    return (116.0 * _f(y) - 16.0).astype(np.float32)


def normalize_l(lightness: np.ndarray) -> np.ndarray:
    return lightness / L_SCALE - 1.0


def normalize_ab(ab: np.ndarray) -> np.ndarray:
    return np.clip(ab / AB_SCALE, -1.0, 1.0)


def denormalize_ab(ab_norm: np.ndarray) -> np.ndarray:
    return ab_norm * AB_SCALE
