"""Holes and soft edges: what Inpaint fills, what "the mask is empty" means, and clearing
inpainted holes with the soft edge of the strokes that made them (`Document.clear_holes`)."""

from __future__ import annotations

import numpy as np
import pytest

from editor.doc import BrushStroke, Change, ChangeKind, Document
from editor.doc.holes import HOLE_THRESHOLD, inpainted_area

SHAPE = (80, 120)


def _document() -> Document:
    return Document(np.zeros((*SHAPE, 3), np.uint8))


def _paint(doc: Document, points: list[tuple[float, float]], radius: float = 7.0) -> None:
    """One soft stroke (a wide edge: hardness 0.3) through `points`, ``(x, y)``."""
    doc.begin_stroke(BrushStroke(radius, hardness=0.3))
    for point in points:
        doc.stroke_to(point)
    doc.end_stroke()


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)


def _soft_edge(mask: np.ndarray) -> np.ndarray:
    return (mask > 0) & (mask <= HOLE_THRESHOLD)


def test_clearing_inpainted_holes_takes_their_soft_edge_too() -> None:
    doc = _document()
    _paint(doc, [(20, 20), (60, 30)])
    _paint(doc, [(90, 60)])
    painted = doc.mask.copy()
    holes = doc.hole_mask()
    assert _soft_edge(painted).sum() > 100  # the edge that used to stay behind as an outline
    seen: list[Change] = []
    doc.subscribe(seen.append)
    snapshot = doc.clear_holes(holes)
    assert snapshot is not None and not doc.mask.any()
    assert doc.mask_is_empty() and doc.mask_bbox() is None
    assert seen == [Change(ChangeKind.MASK, _bbox(painted))]
    redo = doc.restore_mask(snapshot)  # the whole mask comes back exactly, soft edge included
    assert np.array_equal(doc.mask, painted)
    doc.restore_mask(redo)
    assert not doc.mask.any()


def test_a_stroke_painted_elsewhere_during_the_run_stays_whole() -> None:
    doc = _document()
    _paint(doc, [(20, 20), (40, 25)])
    holes = doc.hole_mask()  # what the task was given
    _paint(doc, [(95, 60), (105, 65)])  # painted while it ran, away from the first stroke
    before = doc.mask.copy()
    doc.clear_holes(holes)
    away = np.zeros(SHAPE, bool)
    away[40:, 70:] = True
    assert np.array_equal(doc.mask[away], before[away])  # hole and soft edge alike
    assert not doc.mask[~away].any()
    assert not doc.mask_is_empty()
    assert np.array_equal(doc.hole_mask(), (before > HOLE_THRESHOLD) & away)


def test_an_edge_shared_with_a_new_stroke_is_split_between_them() -> None:
    doc = _document()
    _paint(doc, [(20, 40), (40, 40)])  # holes up to column 44, then its soft edge
    holes = doc.hole_mask()
    _paint(doc, [(53, 40), (95, 40)])  # holes from column 48, its soft edge before them
    before = doc.mask.copy()
    assert before[40, 44:49].all()  # one painted area: the two edges meet
    doc.clear_holes(holes)
    after = doc.mask
    staying = (before > HOLE_THRESHOLD) & ~holes
    assert np.array_equal(after[staying], before[staying])  # the new holes are untouched
    assert not after[:, :46].any()  # the old stroke's side of the edge is gone...
    assert np.array_equal(after[:, 46:], before[:, 46:])  # ...the new one's side stays
    assert _soft_edge(after[:, 46:48]).any()


def test_nothing_left_of_the_holes_clears_nothing() -> None:
    doc = _document()
    _paint(doc, [(20, 20)])
    holes = doc.hole_mask()
    doc.clear_mask()  # e.g. the user cleared the mask while the task ran
    _paint(doc, [(90, 60)])
    before, revision = doc.mask.copy(), doc.revision
    assert doc.clear_holes(holes) is None
    assert np.array_equal(doc.mask, before) and doc.revision == revision


def test_the_inpainted_holes_are_checked() -> None:
    doc = _document()
    with pytest.raises(ValueError, match="holes"):
        doc.clear_holes(np.zeros((SHAPE[0], SHAPE[1] + 1), bool))
    with pytest.raises(ValueError, match="holes"):
        doc.clear_holes(np.zeros(SHAPE, np.uint8))


def test_empty_means_no_hole_so_it_agrees_with_what_inpaint_fills() -> None:
    doc = _document()
    faint = np.zeros(SHAPE, np.uint8)
    faint[10:20, 10:20] = HOLE_THRESHOLD  # soft edge only: nothing Inpaint would fill
    doc.set_mask(faint)
    assert doc.mask_is_empty() and not doc.hole_mask().any()
    assert doc.mask_bbox() == (10, 20, 10, 20)  # still drawn, still cleared by Clear
    rng = np.random.default_rng(3)
    for top in (0, 60, 127, 128, 255):
        doc.set_mask(rng.integers(0, top + 1, SHAPE, dtype=np.uint8))
        assert doc.mask_is_empty() == (not doc.hole_mask().any())
        assert doc.mask_is_empty() == (top <= HOLE_THRESHOLD)


def test_inpainted_area_is_only_the_region_of_the_painted_mask() -> None:
    mask = np.zeros(SHAPE, np.uint8)
    mask[30:40, 50:60] = 255
    mask[29, 50:60] = 40  # its soft edge
    mask[70, 5] = 30  # a stray soft pixel touching no hole
    found = inpainted_area(mask, mask > HOLE_THRESHOLD)
    assert found is not None
    region, cleared = found
    assert region == (29, 71, 5, 60) and cleared.shape == (42, 55)
    full = np.zeros(SHAPE, bool)
    full[region[0] : region[1], region[2] : region[3]] = cleared
    assert np.array_equal(full, mask >= 40)  # the hole and its edge, not the stray pixel
    assert inpainted_area(np.zeros(SHAPE, np.uint8), np.ones(SHAPE, bool)) is None
