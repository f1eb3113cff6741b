"""Shared vocabulary of the document model: errors, change notices, regions, array checks.

No Qt and no torch here (nor anywhere in `editor.doc`): the model must be importable, and
testable, before the GUI toolkit or the engine's heavy dependencies are loaded.

Regions are ``(y0, y1, x0, x1)`` tuples, half-open, in image pixels (rows first, like numpy
slicing). Brush points, by contrast, are ``(x, y)`` like a mouse position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import numpy as np

Region = tuple[int, int, int, int]
"""``(y0, y1, x0, x1)``, half-open: ``array[y0:y1, x0:x1]``."""


class DocumentError(Exception):
    """An operation the document refuses (with a message meant for the user), or a file it
    cannot read or write."""


class ChangeKind(Enum):
    """What changed, so an observer redraws or refreshes only what it must."""

    LAYERS = "layers"  # stack structure, names, order, visibility, opacity (or merged pixels)
    PIXELS = "pixels"  # a layer's pixels changed inside `region`
    MASK = "mask"  # the inpainting mask changed inside `region`
    HINTS = "hints"  # the colour pins (`editor.doc.hints`): added, moved, recoloured, removed


@dataclass(frozen=True)
class Change:
    """One notice sent to observers. ``region`` None means the whole image. ``visual`` False:
    nothing shown changed (a layer renamed), so the composite need not be redrawn."""

    kind: ChangeKind
    region: Region | None = None
    visual: bool = True


Observer = Callable[[Change], None]


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only view of `array`.

    Layers share their arrays freely (a duplicate, an undo record, a save snapshot all hold the
    same array), which is only safe because nobody can write into them.
    """
    view = array.view()
    view.flags.writeable = False
    return view


def check_pixels(pixels: object) -> np.ndarray:
    """Return `pixels` as a C-contiguous H×W×3 uint8/uint16 array, else raise ValueError."""
    if not isinstance(pixels, np.ndarray):
        raise ValueError(f"expected a numpy array of pixels, got {type(pixels).__name__}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected H×W×3 RGB pixels, got shape {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected 8- or 16-bit pixels, got {pixels.dtype}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError("the image is empty")
    return np.ascontiguousarray(pixels)


def check_plane(array: object, shape: tuple[int, int], what: str, dtype: type) -> np.ndarray:
    """Return `array` as a C-contiguous H×W array of `dtype`, else raise ValueError."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{what}: expected a numpy array, got {type(array).__name__}")
    if array.shape != shape:
        raise ValueError(f"{what} is {array.shape}, the image is {shape}")
    if array.dtype != dtype:
        raise ValueError(f"{what} must be {np.dtype(dtype)}, got {array.dtype}")
    return np.ascontiguousarray(array)


def check_region(region: Region | None, height: int, width: int) -> Region:
    """The full image for None; otherwise `region` itself if it is a non-empty part of it."""
    if region is None:
        return (0, height, 0, width)
    y0, y1, x0, x1 = (int(v) for v in region)
    if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
        raise ValueError(f"region {region} is empty or outside the {width}×{height} image")
    return (y0, y1, x0, x1)


def clip_region(region: Region, height: int, width: int) -> Region | None:
    """`region` clipped to the image, or None when nothing of it is left."""
    y0, y1, x0, x1 = region
    y0, x0 = max(0, y0), max(0, x0)
    y1, x1 = min(height, y1), min(width, x1)
    return (y0, y1, x0, x1) if y0 < y1 and x0 < x1 else None


def union_region(a: Region | None, b: Region | None) -> Region | None:
    """The smallest region holding both (None stands for "nothing" here, not "everything")."""
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]))


def nonzero_bbox(plane: np.ndarray) -> Region | None:
    """Tight ``(y0, y1, x0, x1)`` around the non-zero values of a 2-D array, None if all zero."""
    rows = np.flatnonzero(plane.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(plane[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def slices(region: Region) -> tuple[slice, slice]:
    """``array[slices(region)]`` is the part of `array` inside `region`."""
    y0, y1, x0, x1 = region
    return slice(y0, y1), slice(x0, x1)
