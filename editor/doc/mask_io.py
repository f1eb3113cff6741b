"""Mask files: the document's mask as an image file, and any image file as a mask.

A mask file is grey, the photo's size, white = hole (what Inpaint fills), black = keep; the
brush's soft edge is written as the grey levels in between. It is read back with the
engine's own rule for mask files (`api.read_mask`: white or bright = hole, strokes on a
transparent layer = hole), so a mask drawn elsewhere means here what it means to
``python -m engine inpaint --mask``. The grey levels of a plain (opaque) file are kept as
the soft edge, always on the right side of the hole threshold: what the engine calls a hole
is a hole here, and nothing else is. Exporting and importing therefore gives back the same
mask, soft edge included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from editor.doc.holes import HOLE_THRESHOLD
from engine import api

_ROWS = 512  # rows converted at a time: a 24 MP scan needs no full-size 32-bit temporaries


class MaskSizeError(ValueError):
    """A mask file whose size is not the photo's: `found` and `expected` are (height, width)."""

    def __init__(self, found: tuple[int, int], expected: tuple[int, int]) -> None:
        super().__init__(f"the mask is {_size(found)} pixels, the photo {_size(expected)}")
        self.found, self.expected = found, expected


def _size(shape: tuple[int, int]) -> str:
    return f"{shape[1]} × {shape[0]}"


def write_mask_file(path: Path, mask: np.ndarray) -> None:
    """Write `mask` (H×W uint8, 255 = hole) as an 8-bit grey image, atomically."""
    if mask.ndim != 2 or mask.dtype != np.uint8:
        raise ValueError(f"a mask is H×W uint8, not {mask.shape} {mask.dtype}")
    api.write_image(path, mask)


def read_mask_file(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The mask in the image file at `path` (H×W uint8, 255 = hole, soft edge kept) for a
    photo of `shape` (height, width). Raises MaskSizeError for another size, and the
    engine's errors for a file it cannot read."""
    loaded = api.read_image(path, compressible=True)
    found = (loaded.height, loaded.width)
    if found != tuple(shape):
        raise MaskSizeError(found, (int(shape[0]), int(shape[1])))
    # The engine's reading decides what is a hole (read twice: masks are small files).
    holes = api.read_mask(path, shape=found)
    alpha = loaded.alpha
    if alpha is not None and not bool((alpha > 0).all()):
        # Strokes on a transparent layer: the colours say nothing about a soft edge.
        return holes.astype(np.uint8) * np.uint8(255)
    return grey_levels(loaded.pixels, holes)


def grey_levels(pixels: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """8-bit luma of `pixels` (H×W×3, uint8 or uint16), moved just across the hole threshold
    where it disagrees with `holes` (rounding at mid-grey), so the two always agree."""
    levels = np.empty(pixels.shape[:2], np.uint8)
    for top in range(0, pixels.shape[0], _ROWS):
        block = api.convert_depth(pixels[top : top + _ROWS], np.uint8).astype(np.uint32)
        luma = (299 * block[..., 0] + 587 * block[..., 1] + 114 * block[..., 2] + 500) // 1000
        inside = holes[top : top + _ROWS]
        row = luma.astype(np.uint8)
        row[inside] = np.maximum(row[inside], HOLE_THRESHOLD + 1)
        row[~inside] = np.minimum(row[~inside], HOLE_THRESHOLD)
        levels[top : top + _ROWS] = row
    return levels
