"""The document's mask: strokes, clear/invert/set, snapshots, and change notices."""

from __future__ import annotations

import numpy as np
import pytest
from doc_support import H, W, make_pixels

from editor.doc import BrushStroke, Change, ChangeKind, Document, DocumentError, MaskSnapshot

# --- the document's mask -------------------------------------------------------------------


def test_document_strokes_notify_the_dirty_region_and_undo_by_patches() -> None:
    doc = Document(make_pixels(0, shape=(200, 300)))
    seen: list[Change] = []
    unsubscribe = doc.subscribe(seen.append)
    doc.begin_stroke(BrushStroke(radius=8, hardness=1.0))
    rects = [doc.stroke_to(p) for p in [(50, 50), (120, 90)]]
    with pytest.raises(DocumentError, match="stroke"):
        doc.clear_mask()
    edit = doc.end_stroke()
    assert [c.kind for c in seen] == [ChangeKind.MASK, ChangeKind.MASK]
    assert [c.region for c in seen] == rects
    assert edit is not None and edit.region == doc.mask_bbox()
    painted = doc.mask.copy()
    seen.clear()
    old = doc.apply_mask_patch(edit.y0, edit.x0, edit.before)
    assert np.array_equal(old, edit.after) and doc.mask_is_empty()
    assert seen == [Change(ChangeKind.MASK, edit.region)]
    doc.apply_mask_patch(edit.y0, edit.x0, edit.after)
    assert np.array_equal(doc.mask, painted) and doc.modified
    unsubscribe()
    doc.rename_layer(doc.original.id, "x")
    assert len(seen) == 2


def test_cancelling_a_stroke_puts_the_mask_back() -> None:
    doc = Document(make_pixels(0, shape=(100, 100)))
    doc.begin_stroke(BrushStroke(radius=10))
    doc.stroke_to((10, 10))
    doc.stroke_to((90, 90))
    assert not doc.mask_is_empty()
    doc.cancel_stroke()
    assert doc.mask_is_empty() and not doc.stroke_in_progress


def test_clear_invert_set_and_restore() -> None:
    doc = Document(make_pixels(0))
    soft = np.zeros((H, W), np.uint8)
    soft[4:10, 6:20] = 200
    soft[5:7, 8:9] = 37
    doc.set_mask(soft)
    assert doc.mask_bbox() == (4, 10, 6, 20) and not doc.mask_is_empty()
    assert np.array_equal(doc.hole_mask(), soft > 127)
    snap = doc.clear_mask()
    assert doc.mask_is_empty()
    redo = doc.restore_mask(snap)
    assert np.array_equal(doc.mask, soft)
    doc.restore_mask(redo)
    assert doc.mask_is_empty()
    doc.restore_mask(snap)
    snap = doc.invert_mask()
    assert np.array_equal(doc.mask, 255 - soft)
    doc.restore_mask(snap)
    snap = doc.set_mask(np.ones((H, W), bool))
    assert np.all(doc.mask == 255)
    doc.restore_mask(snap)
    assert np.array_equal(doc.mask, soft)
    with pytest.raises(ValueError):
        doc.set_mask(np.zeros((H, W + 1), np.uint8))


def test_mask_snapshots_are_small() -> None:
    mask = np.zeros((2000, 3000), np.uint8)
    mask[500:900, 1000:1800] = 255
    mask[1200:1210, 10:2900] = 255
    snap = MaskSnapshot.capture(mask)
    assert snap.binary and snap.nbytes < mask.nbytes // 500
    assert np.array_equal(snap.expand(), mask)


def test_mask_changes_report_their_region() -> None:
    doc = Document(make_pixels(0))
    mask = np.zeros((H, W), np.uint8)
    mask[2:5, 3:7] = 255
    seen: list[Change] = []
    doc.subscribe(seen.append)
    doc.set_mask(mask)
    doc.clear_mask()
    doc.invert_mask()
    assert seen == [
        Change(ChangeKind.MASK, (2, 5, 3, 7)),
        Change(ChangeKind.MASK, (2, 5, 3, 7)),
        Change(ChangeKind.MASK, None),
    ]
