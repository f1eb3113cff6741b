"""Editing in the window: brush strokes with the mouse, mask operations, layer operations
from the Layers panel, and undo/redo of each; the before/after divider."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt

from editor.main_window import MainWindow


def _paint(window: MainWindow, qtbot, points: list[QPointF], button=Qt.MouseButton.LeftButton):
    """A stroke through `points` given in image pixels, with real mouse events."""
    canvas = window.canvas
    screen = [canvas.map_from_image(p).toPoint() for p in points]
    qtbot.mousePress(canvas, button, pos=screen[0])
    for pos in screen[1:]:
        qtbot.mouseMove(canvas, pos)
    qtbot.mouseRelease(canvas, button, pos=screen[-1])


def _ids(window: MainWindow) -> list[int]:
    return [layer.id for layer in window.document.layers]


def _add_layers(window: MainWindow, count: int) -> list[int]:
    """Result-like layers on top of the original (as a restoration would add them)."""
    document = window.document
    for i in range(count):
        pixels = np.full(document.shape, 40 * (i + 1), document.dtype)
        window.edits.add_result(pixels, f"Layer {i + 1}", None, clear_mask=False)
    return _ids(window)[1:]


def test_a_mouse_stroke_paints_the_mask_and_undoes_as_one_step(opened: MainWindow, qtbot) -> None:
    opened.tools_panel.size.setValue(6)  # radius 3 image pixels
    opened.tools_panel.hardness.setValue(100)
    assert opened.canvas.brush_radius == 3.0 and opened.canvas.brush_hardness == 1.0
    _paint(opened, qtbot, [QPointF(10.5, 20.5), QPointF(30.5, 20.5), QPointF(50.5, 20.5)])
    mask = opened.document.mask
    assert mask[20, 10] == 255 and mask[20, 30] == 255 and mask[20, 50] == 255
    assert mask[20, 40] == 255  # between mouse events: interpolated, no gaps
    assert mask[5, 30] == 0 and mask[35, 30] == 0
    painted = mask.copy()
    assert opened.history.count() == 1 and opened.history.text(0) == "Paint mask"
    assert opened.is_modified and opened.isWindowModified()
    opened.act.undo.trigger()
    assert not opened.document.mask.any()
    assert not opened.is_modified
    opened.act.redo.trigger()
    assert np.array_equal(opened.document.mask, painted)
    assert opened.restore_panel.inpaint_note.text() != ""


def test_right_drag_and_the_eraser_erase(opened: MainWindow, qtbot) -> None:
    opened.tools_panel.size.setValue(10)
    _paint(opened, qtbot, [QPointF(10, 24), QPointF(54, 24)])
    _paint(opened, qtbot, [QPointF(30, 24), QPointF(31, 24)], Qt.MouseButton.RightButton)
    assert opened.document.mask[24, 15] > 0 and opened.document.mask[24, 30] == 0
    opened.act.eraser.trigger()
    assert opened.canvas.eraser
    _paint(opened, qtbot, [QPointF(15, 24), QPointF(16, 24)])
    assert opened.document.mask[24, 15] == 0
    assert [opened.history.text(i) for i in range(3)] == [
        "Paint mask", "Erase mask", "Erase mask",
    ]  # fmt: skip


def test_brush_size_shortcuts_change_the_canvas_brush(opened: MainWindow) -> None:
    size = opened.tools_panel.size.value()
    opened.act.bigger_brush.trigger()
    assert opened.tools_panel.size.value() > size
    assert opened.canvas.brush_radius == opened.tools_panel.size.value() / 2
    opened.act.smaller_brush.trigger()
    opened.act.smaller_brush.trigger()
    assert opened.tools_panel.size.value() < size
    assert opened.act.bigger_brush.shortcut().toString() == "]"
    assert opened.act.smaller_brush.shortcut().toString() == "["


def test_undo_is_off_while_a_stroke_is_in_progress(opened: MainWindow, qtbot) -> None:
    _paint(opened, qtbot, [QPointF(10, 10), QPointF(20, 10)])
    canvas = opened.canvas
    qtbot.mousePress(
        canvas, Qt.MouseButton.LeftButton, pos=canvas.map_from_image(QPointF(30, 30)).toPoint()
    )
    assert opened.document.stroke_in_progress
    assert not opened.act.undo.isEnabled() and not opened.history_view.isEnabled()
    opened.edits.clear_mask()  # waits for the stroke to end
    assert opened.document.mask[30, 30] > 0
    qtbot.mouseRelease(
        canvas, Qt.MouseButton.LeftButton, pos=canvas.map_from_image(QPointF(30, 30)).toPoint()
    )
    assert opened.act.undo.isEnabled() and opened.history_view.isEnabled()
    assert not opened.document.mask.any()
    assert opened.history.text(opened.history.count() - 1) == "Clear mask"


def test_clear_and_invert_mask_undo(opened: MainWindow, qtbot) -> None:
    _paint(opened, qtbot, [QPointF(10, 10), QPointF(40, 10)])
    painted = opened.document.mask.copy()
    opened.act.invert_mask.trigger()
    assert np.array_equal(opened.document.mask, 255 - painted)
    opened.act.clear_mask.trigger()
    assert not opened.document.mask.any()
    opened.act.undo.trigger()
    assert np.array_equal(opened.document.mask, 255 - painted)
    opened.act.undo.trigger()
    assert np.array_equal(opened.document.mask, painted)
    opened.act.redo.trigger()
    opened.act.redo.trigger()
    assert not opened.document.mask.any()


def test_layer_visibility_opacity_and_rename_from_the_panel(opened: MainWindow, qtbot) -> None:
    (layer_id,) = _add_layers(opened, 1)
    panel, document = opened.layers_panel, opened.document
    assert [panel.list.item(r).text() for r in range(2)] == ["Layer 1", "Original"]
    top = panel.list.item(0)
    top.setCheckState(Qt.CheckState.Unchecked)
    assert not document.layer(layer_id).visible
    panel.list.item(0).setText("Cleaned")  # what editing the name in place does
    assert document.layer(layer_id).name == "Cleaned"
    panel.select(layer_id)
    with qtbot.waitSignal(panel.opacityChanged):
        panel.opacity.setValue(70)
        panel.opacity.setValue(40)
    assert document.layer(layer_id).opacity == pytest.approx(0.4)
    with qtbot.waitSignal(panel.opacityChanged):
        panel.opacity.setValue(20)
    assert document.layer(layer_id).opacity == pytest.approx(0.2)
    texts = [opened.history.text(i) for i in range(opened.history.count())]
    # The opacity changes of one layer merged into one step.
    assert texts == [
        "Layer 1",
        "Hide “Layer 1”",
        "Rename “Layer 1” to “Cleaned”",
        "Opacity of “Cleaned”",
    ]
    opened.act.undo.trigger()
    assert document.layer(layer_id).opacity == 1.0
    opened.act.undo.trigger()
    assert document.layer(layer_id).name == "Layer 1" and panel.list.item(0).text() == "Layer 1"
    opened.act.undo.trigger()
    assert document.layer(layer_id).visible
    assert panel.list.item(0).checkState() == Qt.CheckState.Checked
    opened.act.redo.trigger()
    opened.act.redo.trigger()
    opened.act.redo.trigger()
    layer = document.layer(layer_id)
    assert (layer.visible, layer.name, layer.opacity) == (False, "Cleaned", pytest.approx(0.2))


def test_a_blank_name_is_refused(opened: MainWindow) -> None:
    (layer_id,) = _add_layers(opened, 1)
    opened.layers_panel.list.item(0).setText("   ")
    assert opened.document.layer(layer_id).name == "Layer 1"
    assert opened.layers_panel.list.item(0).text() == "Layer 1"


def test_duplicate_delete_merge_and_flatten_undo(opened: MainWindow) -> None:
    first, second = _add_layers(opened, 2)
    document, panel = opened.document, opened.layers_panel
    composite = document.composite()
    panel.select(second)
    panel.duplicate_button.click()
    assert [x.name for x in document.layers] == ["Original", "Layer 1", "Layer 2", "Layer 2 copy"]
    copy_id = _ids(opened)[3]
    assert panel.current_id() == copy_id
    panel.delete_button.click()
    assert _ids(opened) == [document.original.id, first, second]
    panel.select(second)
    panel.merge_button.click()
    assert [x.name for x in document.layers] == ["Original", "Layer 1"]
    assert np.array_equal(document.composite(), composite)
    panel.flatten_button.click()
    assert [x.name for x in document.layers] == ["Original", "Flattened"]
    for expected in (["Original", "Layer 1"], ["Original", "Layer 1", "Layer 2"],
                     ["Original", "Layer 1", "Layer 2", "Layer 2 copy"],
                     ["Original", "Layer 1", "Layer 2"]):  # fmt: skip
        opened.act.undo.trigger()
        assert [x.name for x in document.layers] == expected
    for _ in range(4):
        opened.act.redo.trigger()
    assert [x.name for x in document.layers] == ["Original", "Flattened"]
    assert np.array_equal(document.composite(), composite)


def test_a_refused_operation_is_a_status_message_not_a_step(opened: MainWindow) -> None:
    (layer_id,) = _add_layers(opened, 1)
    steps = opened.history.count()
    opened.layers_panel.select(layer_id)
    opened.edits.merge_down(layer_id)  # into the locked original: refused
    assert opened.history.count() == steps
    assert "flatten instead" in opened.statusBar().currentMessage()
    assert not opened.layers_panel.merge_button.isEnabled()  # the panel knew already


def test_dragging_a_layer_reorders_and_undoes(opened: MainWindow, qtbot) -> None:
    first, second, third = _add_layers(opened, 3)
    panel = opened.layers_panel
    original = opened.document.original.id
    # The list shows the top first: [3, 2, 1, Original]. Move "Layer 1" (row 2) to the top,
    # as an internal drag-and-drop does through the model.
    assert panel.list.model().moveRow(QModelIndex(), 2, QModelIndex(), 0)
    qtbot.waitUntil(lambda: _ids(opened) == [original, second, third, first])
    assert opened.history.text(opened.history.count() - 1) == "Move “Layer 1”"
    assert [panel.list.item(r).text() for r in range(4)] == [
        "Layer 1",
        "Layer 3",
        "Layer 2",
        "Original",
    ]
    opened.act.undo.trigger()
    assert _ids(opened) == [original, first, second, third]
    # Below the original is no place for a layer: the panel shows the stack as it is.
    steps = opened.history.count()
    assert panel.list.model().moveRow(QModelIndex(), 0, QModelIndex(), 4)
    qtbot.wait(20)
    assert _ids(opened) == [original, first, second, third]
    assert panel.list.item(3).text() == "Original" and opened.history.count() == steps


def test_dragging_the_before_after_divider(opened: MainWindow, qtbot) -> None:
    opened.act.split.trigger()
    canvas = opened.canvas
    assert canvas.split_enabled and canvas.split_fraction == 0.5
    x = round(canvas.width() * 0.5)
    y = canvas.height() // 2
    with qtbot.waitSignal(canvas.splitChanged):
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
        qtbot.mouseMove(canvas, QPoint(x + 60, y))
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x + 60, y))
    assert canvas.split_fraction == pytest.approx((x + 60) / canvas.width(), abs=0.01)
    assert not opened.document.mask.any()  # dragging the divider paints nothing
    assert opened.history.count() == 0


def _shown_rgb(window: MainWindow) -> np.ndarray:
    """The canvas's full-size composite as H×W×3 uint8 RGB (RGB32 is 0xFFRRGGBB)."""
    base = window.canvas.cache.composite.base
    return np.dstack([(base >> s) & 0xFF for s in (16, 8, 0)]).astype(np.uint8)


def test_a_large_layer_change_is_redrawn_band_by_band(
    opened: MainWindow, qtbot, monkeypatch
) -> None:
    from editor.canvas import view as view_module

    monkeypatch.setattr(view_module, "PROGRESSIVE_PIXELS", 0)  # as if the photo were large
    monkeypatch.setattr(view_module, "BAND_ROWS", 16)
    document, canvas = opened.document, opened.canvas
    pixels = np.zeros(document.shape, document.dtype)
    opened.edits.add_result(pixels, "Dark", None, clear_mask=False)
    canvas.finish_composite()
    assert np.array_equal(_shown_rgb(opened), document.composite())
    layer_id = document.layers[1].id
    opened.edits.rename(layer_id, "Renamed")  # nothing to redraw
    assert not canvas.composite_pending
    opened.edits.set_opacity(layer_id, 0.5)
    assert canvas.composite_pending  # nothing done yet: the event loop does it band by band
    qtbot.waitUntil(lambda: not canvas.composite_pending)
    assert np.array_equal(_shown_rgb(opened), document.composite())
    opened.history.undo()  # undo: the same path, the same final display
    canvas.finish_composite()
    assert np.array_equal(_shown_rgb(opened), document.composite())


def test_an_opacity_change_is_not_lost_when_another_layer_is_selected(
    opened: MainWindow,
) -> None:
    first, second = _add_layers(opened, 2)
    panel, document = opened.layers_panel, opened.document
    panel.select(second)
    panel.opacity.setValue(30)  # within the delay...
    panel.select(first)  # ...another layer: the change goes to the one it was made for
    assert document.layer(second).opacity == pytest.approx(0.3)
    assert document.layer(first).opacity == 1.0
    assert panel.opacity.value() == 100  # the slider shows the newly selected layer


def test_a_long_opacity_drag_is_applied_while_dragging(opened: MainWindow, qtbot) -> None:
    from editor.panels import layers as layers_module

    (layer_id,) = _add_layers(opened, 1)
    panel, document = opened.layers_panel, opened.document
    panel.select(layer_id)
    sent: list[float] = []
    panel.opacityChanged.connect(lambda _id, value: sent.append(value))
    value = 100
    # Moves every 20 ms for well over the delay: a restarting debounce would send nothing.
    for _ in range(3 * layers_module.OPACITY_DELAY_MS // 20 + 3):
        value -= 1
        panel.opacity.setValue(value)
        qtbot.wait(20)
    assert sent, "nothing was applied during the drag"
    qtbot.waitUntil(lambda: document.layer(layer_id).opacity == pytest.approx(value / 100))
