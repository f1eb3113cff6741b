"""What the canvas reads its pixels from: a duck-typed protocol the document (or a test) meets."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

#: (y0, y1, x0, x1) in image pixels, half-open like numpy slices.
Region = tuple[int, int, int, int]


@runtime_checkable
class CanvasSource(Protocol):
    """An image document as the canvas sees it. The canvas only ever reads from it."""

    width: int
    height: int

    def composite_rgb8(self, region: Region | None = None) -> np.ndarray:
        """The current result in `region` (None = everything): h×w×3 uint8."""
        ...

    def original_rgb8(self, region: Region | None = None) -> np.ndarray:
        """The untouched original in `region` (for before/after): h×w×3 uint8."""
        ...

    @property
    def mask(self) -> np.ndarray:
        """H×W uint8, 0..255, 255 = hole."""
        ...


def clip_region(region: Region | None, width: int, height: int) -> Region | None:
    """`region` clipped to the image (None = the whole image); None when nothing is left."""
    if region is None:
        return (0, height, 0, width) if width > 0 and height > 0 else None
    y0, y1, x0, x1 = (int(v) for v in region)
    y0, y1 = max(0, y0), min(height, y1)
    x0, x1 = max(0, x0), min(width, x1)
    if y0 >= y1 or x0 >= x1:
        return None
    return (y0, y1, x0, x1)
