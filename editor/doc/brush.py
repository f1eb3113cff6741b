"""The mask brush: round, soft-edged, painted along segments, with undo records of the
changed rectangle only.

Points are ``(x, y)`` in image pixels, like a mouse position mapped onto the image; pixel
``(row, col)`` has its centre at ``(col + 0.5, row + 0.5)``. Rectangles are
``(y0, y1, x0, x1)`` like every region of the document.

A segment is painted as the exact union of brush dabs centred on every point of it (a
"capsule"): each pixel gets the brush value at its distance to the segment. That is the
limit of stamping with spacing → 0, so fast strokes have no gaps, and because the brush value
only falls with distance, overlapping stamps combine by maximum, never adding up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from editor.doc.mask import MaskEdit
from editor.doc.types import Region, clip_region, nonzero_bbox, union_region

Point = tuple[float, float]
"""``(x, y)`` in image pixels."""

# A long segment is cut into pieces at most this many radii long, so the work stays
# proportional to the painted area instead of the square of the segment's bounding box.
_PIECE_RADII = 4.0
_TILE = 128  # StrokeRecorder's copy-on-first-touch granularity (16 KB per tile)


@dataclass(frozen=True)
class BrushStroke:
    """The brush a stroke is painted with.

    Attributes:
        radius: in image pixels (> 0).
        hardness: 0..1: the fraction of the radius painted at full strength; beyond it the
            value falls smoothly to 0 at the radius. 1 gives a hard edge (0 or 255 only).
        erase: remove from the mask instead of adding to it.
    """

    radius: float
    hardness: float = 1.0
    erase: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"the brush radius must be > 0, got {self.radius}")
        if not 0.0 <= self.hardness <= 1.0:
            raise ValueError(f"the brush hardness must be within 0..1, got {self.hardness}")


def _check_mask(mask: np.ndarray) -> None:
    if mask.ndim != 2 or mask.dtype != np.uint8 or not mask.flags.writeable:
        raise ValueError("the mask must be a writable H×W uint8 array")


def segment_bounds(p0: Point, p1: Point, radius: float, shape: tuple[int, int]) -> Region | None:
    """A rectangle sure to hold everything `stamp_segment` may touch, clipped to `shape`."""
    return clip_region(
        (
            math.floor(min(p0[1], p1[1]) - radius),
            math.ceil(max(p0[1], p1[1]) + radius) + 1,
            math.floor(min(p0[0], p1[0]) - radius),
            math.ceil(max(p0[0], p1[0]) + radius) + 1,
        ),
        *shape,
    )


def _capsule(
    mask: np.ndarray, a: Point, b: Point, radius: float, hardness: float, erase: bool
) -> Region | None:
    """Paint one piece; the tight rectangle of pixels it gave a non-zero brush value."""
    (ax, ay), (bx, by) = a, b
    box = segment_bounds(a, b, radius, mask.shape)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    # Offsets of pixel centres from `a`, as a row and a column that broadcast to the box.
    px = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - ax))[None, :]
    py = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - ay))[:, None]
    dx, dy = np.float32(bx - ax), np.float32(by - ay)
    length2 = float(dx * dx + dy * dy)
    if length2 > 0.0:
        t = (px * dx + py * dy) * np.float32(1.0 / length2)
        np.clip(t, 0.0, 1.0, out=t)
        ex, ey = px - t * dx, py - t * dy
        dist2 = ex * ex + ey * ey
    else:
        dist2 = px * px + py * py
    if hardness >= 1.0:
        value = np.where(dist2 <= np.float32(radius * radius), np.uint8(255), np.uint8(0))
    else:
        # Full strength up to radius·hardness, then a smoothstep down to 0 at the radius.
        falloff = np.float32(radius * (1.0 - hardness))
        t = (np.float32(radius) - np.sqrt(dist2)) / falloff
        np.clip(t, 0.0, 1.0, out=t)
        strength = t * t * (np.float32(3.0) - np.float32(2.0) * t) * np.float32(255.0)
        value = np.rint(strength).astype(np.uint8)
    tight = nonzero_bbox(value)
    if tight is None:
        return None
    ty0, ty1, tx0, tx1 = tight
    value = value[ty0:ty1, tx0:tx1]
    target = mask[y0 + ty0 : y0 + ty1, x0 + tx0 : x0 + tx1]
    if erase:
        np.minimum(target, np.uint8(255) - value, out=target)
    else:
        np.maximum(target, value, out=target)
    return (y0 + ty0, y0 + ty1, x0 + tx0, x0 + tx1)


def stamp_segment(
    mask: np.ndarray, p0: Point, p1: Point, radius: float, hardness: float, erase: bool
) -> Region | None:
    """Paint the round brush along ``p0 → p1`` into `mask` (H×W uint8, in place).

    Returns the dirty rectangle ``(y0, y1, x0, x1)``: exactly the pixels the brush reached
    with a non-zero value, clipped to the image; None when it reached none. `p0 == p1` paints
    a single dab. Only the segment's bounding box is computed (in pieces for long segments).
    """
    _check_mask(mask)
    brush = BrushStroke(radius, hardness, erase)  # validates
    (ax, ay), (bx, by) = (float(p0[0]), float(p0[1])), (float(p1[0]), float(p1[1]))
    pieces = max(1, math.ceil(math.hypot(bx - ax, by - ay) / (_PIECE_RADII * brush.radius)))
    dirty: Region | None = None
    for i in range(pieces):
        s, e = i / pieces, (i + 1) / pieces
        a = (ax + (bx - ax) * s, ay + (by - ay) * s)
        b = (ax + (bx - ax) * e, ay + (by - ay) * e)
        dirty = union_region(dirty, _capsule(mask, a, b, brush.radius, hardness, erase))
    return dirty


class StrokeRecorder:
    """Paints one stroke into a mask and records what it changed, for undo.

    Nothing is copied up front: before a segment is painted, each 128×128 tile it may touch
    is copied the first time (copy on first touch). `finish` then rebuilds the "before" of
    the changed rectangle from those tiles, so memory stays proportional to the painted area.

    Use: ``begin(mask)``, then ``stroke_to(point)`` for each mouse position (the first one
    paints a dab), then ``finish()`` (or ``cancel()``).
    """

    def __init__(self, brush: BrushStroke) -> None:
        self.brush = brush
        self._mask: np.ndarray | None = None
        self._last: Point | None = None
        self._tiles: dict[tuple[int, int], np.ndarray] = {}
        self._dirty: Region | None = None

    @property
    def active(self) -> bool:
        return self._mask is not None

    @property
    def dirty(self) -> Region | None:
        """Everything painted so far in this stroke."""
        return self._dirty

    def begin(self, mask: np.ndarray) -> None:
        _check_mask(mask)
        if self._mask is not None:
            raise RuntimeError("a stroke is already in progress")
        self._mask, self._last, self._tiles, self._dirty = mask, None, {}, None

    def stroke_to(self, point: Point) -> Region | None:
        """Paint from the previous point to `point`; returns the rectangle painted now."""
        mask = self._require()
        start = self._last if self._last is not None else point
        bounds = segment_bounds(start, point, self.brush.radius, mask.shape)
        self._last = (float(point[0]), float(point[1]))
        if bounds is None:
            return None
        self._save_tiles(mask, bounds)
        brush = self.brush
        rect = stamp_segment(mask, start, point, brush.radius, brush.hardness, brush.erase)
        self._dirty = union_region(self._dirty, rect)
        return rect

    def finish(self) -> MaskEdit | None:
        """End the stroke: the tight changed rectangle before and after, or None."""
        mask = self._require()
        try:
            if self._dirty is None:
                return None
            y0, y1, x0, x1 = self._dirty
            after = mask[y0:y1, x0:x1]
            before = after.copy()
            for (ty, tx), tile in self._tiles.items():
                # The part of this tile inside the dirty rectangle, in both coordinate frames.
                r = clip_region((y0 - ty, y1 - ty, x0 - tx, x1 - tx), *tile.shape)
                if r is not None:
                    before[ty + r[0] - y0 : ty + r[1] - y0, tx + r[2] - x0 : tx + r[3] - x0] = tile[
                        r[0] : r[1], r[2] : r[3]
                    ]
            changed = nonzero_bbox(before != after)
            if changed is None:
                return None
            c0, c1, d0, d1 = changed
            return MaskEdit(
                y0 + c0, x0 + d0, before[c0:c1, d0:d1].copy(), after[c0:c1, d0:d1].copy()
            )
        finally:
            self._reset()

    def cancel(self) -> Region | None:
        """Abandon the stroke, putting the mask back as it was; returns the region restored."""
        mask = self._require()
        for (ty, tx), tile in self._tiles.items():
            mask[ty : ty + tile.shape[0], tx : tx + tile.shape[1]] = tile
        dirty = self._dirty
        self._reset()
        return dirty

    def _require(self) -> np.ndarray:
        if self._mask is None:
            raise RuntimeError("no stroke in progress: call begin() first")
        return self._mask

    def _reset(self) -> None:
        self._mask, self._last, self._tiles, self._dirty = None, None, {}, None

    def _save_tiles(self, mask: np.ndarray, bounds: Region) -> None:
        y0, y1, x0, x1 = bounds
        for ty in range(y0 // _TILE * _TILE, y1, _TILE):
            for tx in range(x0 // _TILE * _TILE, x1, _TILE):
                if (ty, tx) not in self._tiles:
                    self._tiles[(ty, tx)] = mask[ty : ty + _TILE, tx : tx + _TILE].copy()
