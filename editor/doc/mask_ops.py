"""The document's mask operations, as a base class of `Document`.

They live in their own module only to keep each file short; `Document` is the one public
class. Every operation returns what undoes it, so the editor's undo commands stay trivial:

- stroke: ``edit = doc.end_stroke()``; undo/redo ``doc.apply_mask_patch(edit.y0, edit.x0,
  edit.before / edit.after)``;
- clear/invert/set, clearing inpainted holes: ``snap = doc.clear_mask()``; undo
  ``doc.restore_mask(snap)`` (which returns the snapshot that redoes it).
"""

from __future__ import annotations

import numpy as np

from editor.doc.brush import BrushStroke, Point, StrokeRecorder
from editor.doc.holes import has_holes, holes_of, inpainted_area
from editor.doc.mask import MaskEdit, MaskSnapshot
from editor.doc.types import (
    ChangeKind,
    DocumentError,
    Region,
    check_plane,
    check_region,
    frozen,
    nonzero_bbox,
    slices,
    union_region,
)


class MaskOperations:
    """Mask state and editing; `Document` provides `_changed` and the image size."""

    _mask: np.ndarray
    _stroke: StrokeRecorder | None

    def _changed(self, kind: ChangeKind, region: Region | None) -> None:
        raise NotImplementedError  # provided by Document

    # --- reading -------------------------------------------------------------------------

    @property
    def mask(self) -> np.ndarray:
        """H×W uint8, 0 = keep, 255 = hole to inpaint (soft edges in between); read-only."""
        return frozen(self._mask)

    def mask_is_empty(self) -> bool:
        """True when the mask has no hole (see `hole_mask`): a soft edge alone is nothing
        Inpaint could fill, so it does not count."""
        return not has_holes(self._mask)

    def mask_bbox(self) -> Region | None:
        """``(y0, y1, x0, x1)`` around every non-zero mask value (soft edges included), None
        when the mask is all zero."""
        return nonzero_bbox(self._mask)

    def hole_mask(self, region: Region | None = None) -> np.ndarray:
        """The mask as booleans (value > 127 is a hole), for the inpainting task."""
        return holes_of(self._mask[slices(check_region(region, *self._mask.shape))])

    # --- brush strokes -------------------------------------------------------------------

    @property
    def stroke_in_progress(self) -> bool:
        return self._stroke is not None

    def begin_stroke(self, brush: BrushStroke) -> None:
        """Start painting the mask with `brush`; follow with `stroke_to` and `end_stroke`."""
        self._no_stroke("start a new stroke")
        recorder = StrokeRecorder(brush)
        recorder.begin(self._mask)
        self._stroke = recorder

    def stroke_to(self, point: Point) -> Region | None:
        """Paint up to `point` (``(x, y)``); observers get a MASK change for that rectangle."""
        if self._stroke is None:
            raise DocumentError("no brush stroke in progress")
        rect = self._stroke.stroke_to(point)
        if rect is not None:
            self._changed(ChangeKind.MASK, rect)
        return rect

    def end_stroke(self) -> MaskEdit | None:
        """Finish the stroke: its undo record (only the changed rectangle), or None."""
        if self._stroke is None:
            raise DocumentError("no brush stroke in progress")
        recorder, self._stroke = self._stroke, None
        return recorder.finish()

    def cancel_stroke(self) -> None:
        """Abandon the stroke in progress, leaving the mask as it was before it."""
        if self._stroke is None:
            return
        recorder, self._stroke = self._stroke, None
        region = recorder.cancel()
        if region is not None:
            self._changed(ChangeKind.MASK, region)

    # --- whole-mask and patch operations -------------------------------------------------

    def apply_mask_patch(self, y0: int, x0: int, patch: np.ndarray) -> np.ndarray:
        """Write `patch` (h×w uint8) at ``(y0, x0)``; returns the values it replaced."""
        self._no_stroke("change the mask")
        if not isinstance(patch, np.ndarray) or patch.ndim != 2 or patch.dtype != np.uint8:
            raise ValueError("a mask patch must be a 2-D uint8 array")
        region = check_region((y0, y0 + patch.shape[0], x0, x0 + patch.shape[1]), *self._mask.shape)
        target = self._mask[slices(region)]
        old = target.copy()
        target[...] = patch
        self._changed(ChangeKind.MASK, region)
        return old

    def clear_mask(self) -> MaskSnapshot:
        """Empty the mask; returns the snapshot that restores it."""
        self._no_stroke("clear the mask")
        snapshot = MaskSnapshot.capture(self._mask)
        if snapshot.region is not None:
            self._mask[slices(snapshot.region)] = 0
            self._changed(ChangeKind.MASK, snapshot.region)
        return snapshot

    def clear_holes(self, holes: np.ndarray) -> MaskSnapshot | None:
        """Clear inpainted holes (bool H×W, `hole_mask()` when the task started) with their
        soft edge; strokes painted elsewhere since then stay (see `holes.inpainted_area`).
        Returns the snapshot that restores the mask, or None when nothing was cleared."""
        self._no_stroke("clear the mask")
        holes = check_plane(holes, self._mask.shape, "the inpainted holes", np.bool_)
        found = inpainted_area(self._mask, holes)
        if found is None:
            return None
        region, cleared = found
        snapshot = MaskSnapshot.capture(self._mask)
        self._mask[slices(region)][cleared] = 0
        c0, c1, d0, d1 = nonzero_bbox(cleared) or (0, 0, 0, 0)  # never empty when found
        y0, x0 = region[0], region[2]
        self._changed(ChangeKind.MASK, (y0 + c0, y0 + c1, x0 + d0, x0 + d1))
        return snapshot

    def invert_mask(self) -> MaskSnapshot:
        """Holes become kept and kept becomes holes (255 - value)."""
        self._no_stroke("invert the mask")
        snapshot = MaskSnapshot.capture(self._mask)
        np.subtract(np.uint8(255), self._mask, out=self._mask)
        self._changed(ChangeKind.MASK, None)
        return snapshot

    def set_mask(self, array: np.ndarray) -> MaskSnapshot:
        """Replace the mask (H×W uint8 0..255, or bool: True = hole = 255)."""
        self._no_stroke("replace the mask")
        if isinstance(array, np.ndarray) and array.dtype == np.bool_:
            array = array.astype(np.uint8) * np.uint8(255)
        if not isinstance(array, np.ndarray) or array.dtype != np.uint8:
            raise ValueError("the mask must be a uint8 or bool array")
        if array.shape != self._mask.shape:
            raise ValueError(f"the mask is {array.shape}, the image is {self._mask.shape}")
        snapshot = MaskSnapshot.capture(self._mask)
        self._mask[...] = array
        region = union_region(snapshot.region, nonzero_bbox(self._mask))
        if region is not None:
            self._changed(ChangeKind.MASK, region)
        return snapshot

    def restore_mask(self, snapshot: MaskSnapshot) -> MaskSnapshot:
        """Put back a snapshot; returns one of the mask it replaced (to redo)."""
        self._no_stroke("restore the mask")
        if snapshot.shape != self._mask.shape:
            raise DocumentError(f"the snapshot is {snapshot.shape}, the mask {self._mask.shape}")
        current = MaskSnapshot.capture(self._mask)
        snapshot.write_into(self._mask)
        region = union_region(current.region, snapshot.region)
        if region is not None:
            self._changed(ChangeKind.MASK, region)
        return current

    def _no_stroke(self, action: str) -> None:
        # A stroke's undo record is built from tiles copied during the stroke; changing the
        # mask under it would make that record wrong.
        if self._stroke is not None:
            raise DocumentError(f"cannot {action} while a brush stroke is in progress")
