"""Proposing a mask of scratches and dust on an old scan (classical morphology, no network).

Scratches and dust are thin or small features much brighter or darker than their
surroundings: a white top-hat (image minus its opening) finds the bright ones, a black
top-hat (closing minus image) the dark ones. Responses above a robust threshold, and well
above the response around them (dense texture such as foliage or a weave is thin features
side by side, each scratch-like on its own), are kept when their component is elongated
(a scratch) or small (a speck of dust); wider features such as eyes or buttons give no
top-hat response, and compact texture is not elongated.
The result is a proposal the user edits with the brush.
"""

from __future__ import annotations

import cv2
import numpy as np

from engine.color import luminance
from engine.pixels import to_unit
from engine.tiling import CancelToken

_STRIPE = 512


def _odd(value: float) -> int:
    return int(value) // 2 * 2 + 1


def _grey(image: np.ndarray, cancel: CancelToken | None) -> np.ndarray:
    """8-bit luminance, computed in stripes (bounded memory, cancellable between stripes)."""
    grey = np.empty(image.shape[:2], np.uint8)
    for y in range(0, image.shape[0], _STRIPE):
        if cancel is not None:
            cancel.raise_if_cancelled()
        rows = luminance(to_unit(image[y : y + _STRIPE]))
        grey[y : y + _STRIPE] = np.clip(rows * 2.55, 0, 255).astype(np.uint8)
    return grey


def detect_scratches(
    image: np.ndarray, sensitivity: float = 0.5, cancel: CancelToken | None = None
) -> np.ndarray:
    """Bool H×W mask (True = scratch/dust) for an H×W×3 uint8/uint16 image.

    `sensitivity` 0..1: higher finds fainter defects (and more false alarms). `cancel` is
    checked between stripes of the luminance pass and between the morphology steps.
    """
    height, width = image.shape[:2]
    grey = _grey(image, cancel)
    # Features up to ~1/250 of the short side wide count as thin; wider ones are content.
    size = _odd(max(5, min(height, width) / 250))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    if cancel is not None:
        cancel.raise_if_cancelled()
    response = np.maximum(bright, cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel))
    response = response.astype(np.float32)
    if cancel is not None:
        cancel.raise_if_cancelled()
    # Robust noise level of the response: the median absolute deviation.
    median = float(np.median(response))
    spread = float(np.median(np.abs(response - median))) * 1.4826 + 1.0
    sensitivity = float(np.clip(sensitivity, 0.0, 1.0))
    threshold = max(median + (12.0 - 9.0 * sensitivity) * spread, 12.0)
    # Texture (foliage, weave, rigging, lettering) is many thin features side by side, each
    # passing the global threshold; a defect stands out from its own neighbourhood. So the
    # response must also exceed a multiple of its RMS over a window ~12 kernels wide: a lone
    # speck or a scratch crossing the window clears that easily, dense texture does not.
    window = _odd(12 * size)
    local = np.sqrt(cv2.boxFilter(response * response, -1, (window, window)))
    if cancel is not None:
        cancel.raise_if_cancelled()
    candidates = response > np.maximum(threshold, (4.0 - 2.0 * sensitivity) * local)
    candidates = candidates.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, 8)
    keep = np.zeros(count, bool)
    dust_area = max(4, (size * size) // 2)
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        length = max(w, h)
        # The top-hat already passes only features thinner than the kernel; a scratch is
        # also long for its area (crossing scratches too), while texture is compact.
        elongated = length >= 3 * size and length >= 4 * np.sqrt(area)
        keep[label] = area <= dust_area or elongated
    mask = keep[labels]
    # Grow by a pixel: the edges of a scratch are blended and would show after inpainting.
    return cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
