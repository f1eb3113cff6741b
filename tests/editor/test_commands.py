"""Undo commands and the history's memory budget, on a document without a window."""

from __future__ import annotations

import numpy as np
import pytest

from editor import commands
from editor.doc import BrushStroke, Document
from editor.history import History

H, W = 20, 30


@pytest.fixture
def document() -> Document:
    return Document(np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8))


def _add(document: Document, history: History, value: int) -> commands.AddLayer:
    layer = document.add_layer(np.full((H, W, 3), value, np.uint8), f"Layer {value}")
    command = commands.AddLayer(document, layer.name, layer, owns_pixels=True)
    history.push(command)
    return command


def test_push_does_not_apply_an_edit_twice(document: Document, qapp) -> None:
    history = History()
    document.begin_stroke(BrushStroke(3, 1.0))
    document.stroke_to((5, 5))
    document.stroke_to((15, 5))
    edit = document.end_stroke()
    revision = document.revision
    history.push(commands.Stroke(document, edit, erase=False))
    assert document.revision == revision  # push's redo() did nothing
    painted = document.mask.copy()
    history.undo()
    assert not document.mask.any()
    history.redo()
    assert np.array_equal(document.mask, painted)
    assert history.command(0).cost == edit.nbytes < document.mask.nbytes  # the region only


def test_opacity_changes_of_one_layer_merge(document: Document, qapp) -> None:
    history = History()
    layer = _add(document, history, 10).layer
    for value in (0.8, 0.5, 0.3):
        old = document.set_opacity(layer.id, value)
        history.push(commands.SetOpacity(document, layer.id, old, value))
    assert history.count() == 2
    history.undo()
    assert document.layer(layer.id).opacity == 1.0
    history.redo()
    assert document.layer(layer.id).opacity == pytest.approx(0.3)
    # Dragged back to where it started: the merged step is obsolete and disappears.
    old = document.set_opacity(layer.id, 1.0)
    history.push(commands.SetOpacity(document, layer.id, old, 1.0))
    assert history.count() == 1 and document.layer(layer.id).opacity == 1.0
    old = document.set_opacity(layer.id, 0.9)
    history.push(commands.SetOpacity(document, layer.id, old, 0.9))
    history.push(commands.MoveLayer(document, layer.id, 1, 1))  # another kind: no merge
    old = document.set_opacity(layer.id, 0.7)
    history.push(commands.SetOpacity(document, layer.id, old, 0.7))
    assert history.count() == 4


def test_jumping_in_the_history_view_undoes_several_steps(document: Document, qapp) -> None:
    history = History()
    for value in (10, 20, 30):
        _add(document, history, value)
    history.setIndex(1)  # what clicking the first step in the History panel does
    assert [x.name for x in document.layers] == ["Original", "Layer 10"]
    history.setIndex(3)
    assert len(document.layers) == 4


def test_the_budget_expires_the_oldest_steps(document: Document, qapp) -> None:
    layer_bytes = H * W * 3
    history = History(budget=2 * layer_bytes)
    first, second = _add(document, history, 10), _add(document, history, 20)
    assert history.cost() == 2 * layer_bytes and not first.expired
    history.setClean()
    third = _add(document, history, 30)
    assert first.expired and first.layer is None  # its memory is released
    assert not second.expired and not third.expired
    assert history.cost() == 2 * layer_bytes
    assert history.text(0).endswith("(no longer undoable)")
    # Undoing all the way: the expired step stays done, the others undo exactly.
    while history.canUndo():
        history.undo()
    assert [x.name for x in document.layers] == ["Original", "Layer 10"]
    while history.canRedo():
        history.redo()
    assert [x.name for x in document.layers] == ["Original", "Layer 10", "Layer 20", "Layer 30"]


def test_expiring_past_the_saved_state_makes_it_unreachable(document: Document, qapp) -> None:
    history = History(budget=H * W * 3)
    _add(document, history, 10)
    history.setClean()  # saved here (index 1)
    _add(document, history, 20)  # expires step 0: index 1 is still a real state
    assert history.cleanIndex() == 1
    _add(document, history, 30)  # expires step 1: index 1 would now show Layer 20
    assert history.cleanIndex() == -1 and not history.isClean()


def test_a_macro_expires_as_a_whole(document: Document, qapp) -> None:
    history = History(budget=H * W * 3 + 10)
    mask = np.zeros((H, W), np.uint8)
    mask[2:5, 2:5] = 255
    document.set_mask(mask)
    history.beginMacro("Inpaint")
    _add(document, history, 10)
    history.push(commands.MaskChange(document, "Clear mask", document.clear_mask()))
    history.endMacro()
    assert history.count() == 1
    _add(document, history, 20)
    assert history.text(0) == "Inpaint (no longer undoable)"
    history.undo()
    history.undo()
    assert len(document.layers) == 2 and document.mask_is_empty()  # expired: stays done


def test_the_step_limit(document: Document, qapp) -> None:
    history = History(step_limit=3)
    for value in range(5):
        old = document.rename_layer(document.original.id, f"n{value}")
        history.push(commands.RenameLayer(document, document.original.id, old, f"n{value}"))
    assert history.count() == 3 and history.undoLimit() == 3


def test_an_inpaint_step_clears_its_holes_soft_edges_and_undoes_exactly(
    document: Document, qapp
) -> None:
    """As the window records an inpainting result: the layer and the cleared holes are one
    step; the soft edge goes with the holes, a stroke painted during the run stays."""
    history = History()
    document.begin_stroke(BrushStroke(5, 0.3))
    document.stroke_to((8, 8))
    history.push(commands.Stroke(document, document.end_stroke(), erase=False))
    holes = document.hole_mask()  # sent to the engine
    document.begin_stroke(BrushStroke(2, 1.0))
    document.stroke_to((26, 16))  # painted while it ran
    history.push(commands.Stroke(document, document.end_stroke(), erase=False))
    painted = document.mask.copy()
    history.beginMacro("Inpaint")
    _add(document, history, 10)
    history.push(commands.MaskChange(document, "Clear mask", document.clear_holes(holes)))
    history.endMacro()
    later = np.zeros((H, W), bool)
    later[12:, 22:] = True
    assert not document.mask[~later].any()  # no faint outline left of the first stroke
    assert np.array_equal(document.mask[later], painted[later]) and not document.mask_is_empty()
    history.undo()
    assert len(document.layers) == 1 and np.array_equal(document.mask, painted)
    history.redo()
    assert len(document.layers) == 2 and not document.mask[~later].any()
    assert np.array_equal(document.mask[later], painted[later])
