"""How noisy a photo looks to the installed denoiser, in 8-bit levels: the RMS of what it
removes (from the lightness) on a few crops spread over the photo.

The denoiser's own judgement, not a classical estimator: the classical ones (Immerkær's
Laplacian difference, wavelet MAD) read film grain and scan noise — correlated between
neighbouring pixels — as texture and call grainy old scans cleaner than sharp modern photos
(measured on the sample scans), while the network was trained on exactly that grain. Six
192-pixel crops stand for the photo: a 24 MP scan costs a fraction of a second.
"""

from __future__ import annotations

import numpy as np

from engine.options import DenoiseRequest
from engine.pixels import pixel_scale
from engine.run import RunOptions, run_task
from engine.tiling import CancelToken

_SIDE = 192
_ROWS, _COLUMNS = 3, 2


def _crops(image: np.ndarray) -> list[np.ndarray]:
    height, width = image.shape[:2]
    if height < _SIDE * _ROWS or width < _SIDE * _COLUMNS:
        return [image]  # small enough to measure whole
    ys = np.linspace(0, height - _SIDE, _ROWS).astype(int)
    xs = np.linspace(0, width - _SIDE, _COLUMNS).astype(int)
    return [image[y : y + _SIDE, x : x + _SIDE] for y in ys for x in xs]


def measure_noise(
    image: np.ndarray, options: RunOptions, cancel: CancelToken | None = None
) -> float:
    """The median over the crops of the RMS lightness change the denoiser makes at strength
    1, in 8-bit levels (clean modern photos ~1-3, grainy old scans ~2-7)."""
    to_levels = 255.0 / pixel_scale(image.dtype)
    values = []
    for crop in _crops(image):
        cleaned = run_task("denoise", crop, DenoiseRequest(), options=options, cancel=cancel)
        change = cleaned.astype(np.float32).mean(axis=2) - crop.astype(np.float32).mean(axis=2)
        values.append(float(np.sqrt(np.mean(change * change))) * to_levels)
    return float(np.median(values))
