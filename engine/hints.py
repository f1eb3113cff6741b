"""Colour hints for the hint-conditioned colorizer (`engine.archs.colorize_hint`): where the
hint channels come from, shared by training (hints drawn from the truth) and inference
(hints a user placed), so both write them the same way. numpy only.

A hint is a point (x to the right, y down, origin top-left, in pixels of the network's
input), an ab colour and a patch side. As in Zhang et al. 2017 (their training code writes
the P×P patch mean into the whole patch and sets the mask there), the hint's colour fills a
``patch``×``patch`` square centred on the point, clipped to the image, and the mask is 1
over that square. Patch sides are odd, so a square has a centre pixel. Where squares
overlap, the later hint wins: a user's newest pin is on top.

The network input (`encode_input`) is H×W×4: ``normalize_l(L)``, the hint ab normalised
like the network's output (``normalize_ab``, 0 where there is no hint), and the mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.color import normalize_ab, rgb_to_lab

__all__ = [
    "DEFAULT_PATCH",
    "MAX_PATCH",
    "encode_input",
    "hint_ab",
    "patch_box",
    "patch_mean_ab",
    "place_hints",
    "working_pixels",
]

# A user's pin at the network's resolution: 3×3, inside the 1-9 px range training draws,
# unless the model's weight file names its own (`engine.tasks.colorize.Colorizer.hint_patch`).
DEFAULT_PATCH = 3
MAX_PATCH = 9  # the largest patch side training draws (Zhang 2017's P ≤ 9)

Points = np.ndarray | Sequence[tuple[int, int]]


def patch_box(shape: tuple[int, int], x: int, y: int, patch: int) -> tuple[slice, slice]:
    """(rows, cols) of the ``patch``-sided square centred on (x, y), clipped to ``shape``
    (H, W). Raises ValueError for an even or non-positive side or a point off the image."""
    height, width = shape
    if patch < 1 or patch % 2 == 0:
        raise ValueError(f"a hint patch side must be a positive odd number, not {patch}")
    if not (0 <= x < width and 0 <= y < height):
        raise ValueError(f"hint point ({x}, {y}) lies outside the {width}×{height} image")
    half = patch // 2
    rows = slice(max(0, y - half), min(height, y + half + 1))
    cols = slice(max(0, x - half), min(width, x + half + 1))
    return rows, cols


def _as_points(points: Points) -> np.ndarray:
    return np.asarray(points, dtype=np.int64).reshape(-1, 2)


def _patches(patch: int | Sequence[int], count: int) -> list[int]:
    if isinstance(patch, int | np.integer):
        return [int(patch)] * count
    sides = [int(p) for p in patch]
    if len(sides) != count:
        raise ValueError(f"{len(sides)} patch sides for {count} hint points")
    return sides


def patch_mean_ab(ab: np.ndarray, points: Points, patch: int | Sequence[int]) -> np.ndarray:
    """The mean of ``ab`` (H×W×2) over each point's patch (clipped to the image): (N, 2)
    float32. Training's hint values; also an eyedropper's, averaged over a few pixels."""
    xy = _as_points(points)
    out = np.zeros((len(xy), 2), np.float32)
    for i, ((x, y), side) in enumerate(zip(xy, _patches(patch, len(xy)), strict=True)):
        rows, cols = patch_box(ab.shape[:2], int(x), int(y), side)
        out[i] = ab[rows, cols].reshape(-1, 2).mean(axis=0, dtype=np.float64)
    return out


def place_hints(
    shape: tuple[int, int],
    points: Points,
    ab_values: np.ndarray | Sequence[Sequence[float]],
    patch: int | Sequence[int] = DEFAULT_PATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """The hint map and mask of an (H, W) image: (H×W×2 float32 ab, H×W float32 mask).

    ``points`` (N, 2) are (x, y) pixels; ``ab_values`` (N, 2) their colours, written as
    given (in LAB units or normalised: the caller's choice, `encode_input` takes LAB
    units); ``patch`` one odd side for all or one per point. No points: all zeros.
    """
    xy = _as_points(points)
    values = np.asarray(ab_values, dtype=np.float32).reshape(-1, 2)
    if len(values) != len(xy):
        raise ValueError(f"{len(values)} hint colours for {len(xy)} hint points")
    ab_map = np.zeros((*shape, 2), np.float32)
    mask = np.zeros(shape, np.float32)
    for (x, y), value, side in zip(xy, values, _patches(patch, len(xy)), strict=True):
        rows, cols = patch_box(shape, int(x), int(y), side)
        ab_map[rows, cols] = value
        mask[rows, cols] = 1.0
    return ab_map, mask


def encode_input(l_norm: np.ndarray, ab_map: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The network's H×W×4 float32 input from ``normalize_l(L)`` (H×W), a hint map in LAB
    units (H×W×2, as `place_hints` wrote it) and its mask (H×W)."""
    hints = normalize_ab(ab_map) * mask[..., None]  # no stray colour where there is no hint
    stacked = np.concatenate([l_norm[..., None], hints, mask[..., None]], axis=2)
    return np.ascontiguousarray(stacked, dtype=np.float32)


def working_pixels(
    points: np.ndarray | Sequence[tuple[float, float]],
    size: tuple[int, int],
    working: tuple[int, int],
) -> np.ndarray:
    """(N, 2) int64 pixels (x, y) of a working copy ``working`` (W, H) of a ``size`` (W, H)
    image resized whole (as `cv2.resize` does: the pixel grids' edges coincide), for (x, y)
    points of the image (a point lies in pixel floor(x), floor(y)). A user pins a colour on
    the photo; the network sees a downscaled copy: each pin lands where its pixel's centre
    falls there."""
    xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.empty(xy.shape, np.int64)
    for axis in (0, 1):
        pixel = np.clip(np.floor(xy[:, axis]), 0, size[axis] - 1)
        centre = (pixel + 0.5) * (working[axis] / size[axis])
        out[:, axis] = np.clip(np.floor(centre), 0, working[axis] - 1)
    return out


def hint_ab(rgb: np.ndarray | Sequence[Sequence[int]]) -> np.ndarray:
    """(N, 2) float32 LAB ab of (N, 3) 0-255 sRGB colours: a pin's colour as `place_hints`
    takes it (its lightness is dropped: the photo keeps its own)."""
    unit = np.asarray(rgb, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    return np.ascontiguousarray(rgb_to_lab(unit)[:, 0, 1:], dtype=np.float32)
