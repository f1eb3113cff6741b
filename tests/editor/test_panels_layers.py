"""The Layers panel's selection and opacity slider through undo, redo and History jumps.

A document, a history with its History view, and the panel, wired as the main window wires
them (the panel is shown the stack after every layer change), then the whole window once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHBoxLayout, QUndoView, QWidget

from editor import commands
from editor.doc import Change, ChangeKind, Document
from editor.history import History
from editor.panels.layers import OPACITY_DELAY_MS, LayersPanel, pick_current

SHAPE = (12, 16, 3)


@dataclass
class Editor:
    document: Document
    history: History
    view: QUndoView
    panel: LayersPanel

    def add(self, name: str) -> int:
        layer = self.document.add_layer(np.zeros(SHAPE, np.uint8), name)
        self.history.push(commands.AddLayer(self.document, name, layer, owns_pixels=True))
        return layer.id

    def set_opacity(self, layer_id: int, opacity: float) -> None:
        old = self.document.set_opacity(layer_id, opacity)
        self.history.push(commands.SetOpacity(self.document, layer_id, old, opacity))

    def delete(self, layer_id: int) -> None:
        removed = self.document.remove_layer(layer_id)
        self.history.push(commands.RemoveLayer(self.document, *removed))

    def selected(self) -> str:
        layer_id = self.panel.current_id()
        return "-" if layer_id is None else self.document.layer(layer_id).name

    def click_history(self, row: int) -> None:
        """A click on a row of the History view (row 0: the opened document)."""
        rect = self.view.visualRect(self.view.model().index(row, 0))
        QTest.mouseClick(self.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    def assert_slider_shows_the_selection(self) -> None:
        layer = self.document.layer(self.panel.current_id())  # type: ignore[arg-type]
        assert self.panel.opacity.value() == round(layer.opacity * 100), layer.name
        assert self.panel.opacity_label.text() == f"Opacity {round(layer.opacity * 100)} %"


@pytest.fixture
def editor(qtbot) -> Iterator[Editor]:  # noqa: ANN001 (pytest-qt's types)
    document = Document(np.zeros(SHAPE, np.uint8))
    history, panel, host = History(), LayersPanel(), QWidget()
    view = QUndoView(history)
    row = QHBoxLayout(host)
    row.addWidget(panel)
    row.addWidget(view)
    qtbot.addWidget(host)
    host.show()

    def changed(change: Change) -> None:
        if change.kind is ChangeKind.LAYERS:
            panel.set_layers(document.layers)

    editor = Editor(document, history, view, panel)
    document.subscribe(changed)
    panel.set_layers(document.layers)
    panel.opacityChanged.connect(editor.set_opacity)
    yield editor
    history.clear()


def test_redo_of_an_add_selects_the_layer_again_not_the_original(editor: Editor) -> None:
    editor.add("A")
    assert editor.selected() == "A"
    editor.history.undo()
    assert editor.selected() == "Original"  # the only layer left
    editor.history.redo()
    assert editor.selected() == "A"
    editor.assert_slider_shows_the_selection()


def test_history_jumps_keep_the_selection_and_the_slider_true(editor: Editor) -> None:
    a, b = editor.add("A"), editor.add("B")
    editor.panel.select(a)
    editor.set_opacity(a, 0.4)
    editor.panel.select(b)
    editor.set_opacity(b, 0.7)  # steps: opened, A, B, A 40 %, B 70 %
    seen = []
    for row in (3, 2, 1, 0, 1, 2, 3, 4):
        editor.click_history(row)
        assert editor.history.index() == row
        editor.assert_slider_shows_the_selection()
        seen.append(editor.selected())
    assert seen == ["B", "B", "A", "Original", "A", "B", "B", "B"]
    assert editor.panel.opacity.value() == 70


def test_undoing_another_layers_opacity_leaves_the_selection(editor: Editor) -> None:
    a, b = editor.add("A"), editor.add("B")
    editor.set_opacity(b, 0.25)
    editor.panel.select(a)
    editor.set_opacity(a, 0.5)
    editor.history.undo()
    editor.history.undo()  # B's opacity: the selection stays on A, which shows its own
    assert editor.selected() == "A" and editor.panel.opacity.value() == 100
    editor.history.redo()
    editor.history.redo()
    assert editor.selected() == "A" and editor.panel.opacity.value() == 50


def test_delete_selects_the_neighbour_and_undo_the_layer_again(editor: Editor) -> None:
    a, b = editor.add("A"), editor.add("B")
    editor.add("C")
    editor.set_opacity(a, 0.3)
    editor.panel.select(b)
    editor.delete(b)
    assert editor.selected() == "A"  # the layer below, which took its row
    editor.assert_slider_shows_the_selection()
    editor.history.undo()
    assert editor.selected() == "B"
    editor.history.redo()
    assert editor.selected() == "A"
    editor.assert_slider_shows_the_selection()


def test_merge_and_its_undo_select_the_layers_it_touched(editor: Editor) -> None:
    a, b = editor.add("A"), editor.add("B")
    editor.panel.select(b)
    editor.history.push(commands.MergeDown(editor.document, editor.document.merge_down(b)))
    assert editor.panel.current_id() == a  # the merged layer keeps the lower one's id
    editor.history.undo()
    assert editor.selected() == "B"
    editor.history.redo()
    assert editor.panel.current_id() == a


def test_an_opacity_change_waiting_to_be_sent_is_not_sent_inside_an_undo(
    editor: Editor, qtbot
) -> None:
    a, b = editor.add("A"), editor.add("B")
    editor.panel.select(a)
    editor.panel.opacity.setValue(40)  # throttled: sent a little later
    sent: list[tuple[int, float]] = []
    editor.panel.opacityChanged.connect(lambda *args: sent.append(args))
    editor.history.undo()  # B goes: the stack is shown again, the change still waits
    assert sent == [] and editor.selected() == "A"
    qtbot.waitUntil(lambda: sent == [(a, 0.4)], timeout=OPACITY_DELAY_MS * 20)
    assert editor.document.layer(a).opacity == 0.4 and editor.panel.opacity.value() == 40
    assert editor.history.count() == 2 and editor.history.text(1) == "Opacity of “A”"
    assert b not in [layer.id for layer in editor.document.layers]


def test_a_change_waiting_for_a_layer_that_went_is_dropped(editor: Editor, qtbot) -> None:
    editor.add("A")
    editor.panel.opacity.setValue(40)
    sent: list[tuple[int, float]] = []
    editor.panel.opacityChanged.connect(lambda *args: sent.append(args))
    editor.history.undo()  # A goes before its change is sent
    qtbot.wait(OPACITY_DELAY_MS * 3)
    assert sent == [] and editor.history.canRedo()
    assert editor.selected() == "Original" and editor.panel.opacity.value() == 100


@pytest.mark.parametrize(
    ("old", "new", "current", "expected"),
    [
        ([1, 2], [1, 2, 3], 2, 3),  # an add (or redo of one): the new layer
        ([1, 2, 3], [1, 2], 3, 2),  # the selected layer went: the one below it
        ([1, 2, 3], [1, 3], 3, 3),  # another went: the selection stays
        ([1, 4], [1, 2, 3], 4, 3),  # undo of a flatten: the topmost layer back
        ([1, 2, 3], [1, 3, 2], 2, 2),  # a move: the selection stays
        ([], [1, 2], None, 2),  # first shown: the top layer
        ([1], [], 1, None),
    ],
)
def test_pick_current(
    old: list[int], new: list[int], current: int | None, expected: int | None
) -> None:
    assert pick_current(old, new, current) == expected


def test_undo_and_redo_in_the_window_keep_the_selection(opened) -> None:  # noqa: ANN001
    document, panel = opened.document, opened.layers_panel
    result = np.zeros(document.shape, document.dtype)
    opened.edits.add_result(result, "Denoise", None, False)
    layer_id = panel.current_id()
    opened.edits.set_opacity(layer_id, 0.6)
    opened.act.undo.trigger()
    opened.act.undo.trigger()
    assert panel.current_id() == document.original.id
    opened.act.redo.trigger()
    assert panel.current_id() == layer_id and panel.opacity.value() == 100
    opened.act.redo.trigger()
    assert panel.current_id() == layer_id and panel.opacity.value() == 60
