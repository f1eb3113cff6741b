"""The Colour Hint tool in the window: pins placed, selected, dragged and deleted through
mouse and key events on the canvas, each one undo step; colours from the palette, the
dialog and the eyedropper (this window's photo or another's); pins drawn at a fixed size."""

from __future__ import annotations

import numpy as np
import pytest
from editor_support import write_png
from PySide6.QtCore import QPoint, QPointF, Qt

from editor import hint_support
from editor.canvas import Tool
from editor.canvas.painting import PIN_RADIUS
from editor.main_window import MainWindow
from editor.panels.hints import MATERIALS

SKY = dict(MATERIALS)["Sky"]
BRICK = dict(MATERIALS)["Brick"]


@pytest.fixture(autouse=True)
def _fresh_hint_answers():
    hint_support.forget()
    yield
    hint_support.forget()


@pytest.fixture
def tool(opened: MainWindow) -> MainWindow:
    """A photo open, the Colour Hint tool on, the preview off (no engine in these tests)."""
    opened.hint_panel.preview.setChecked(False)
    opened.act.hint_tool.trigger()
    assert opened.canvas.tool == Tool.HINT
    return opened


def screen(window: MainWindow, x: float, y: float) -> QPoint:
    return window.canvas.map_from_image(QPointF(x, y)).toPoint()


def click(qtbot, window: MainWindow, x: float, y: float) -> None:  # noqa: ANN001
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=screen(window, x, y))


def drag(qtbot, window: MainWindow, start: QPoint, end: QPoint, steps: int = 4) -> None:  # noqa: ANN001
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, steps + 1):
        qtbot.mouseMove(canvas, start + (end - start) * (step / steps))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)


def texts(window: MainWindow) -> list[str]:
    return [window.history.text(i) for i in range(window.history.count())]


def test_a_click_places_a_pin_of_the_current_colour_and_selects_it(tool: MainWindow, qtbot):
    click(qtbot, tool, 10.5, 20.5)
    (pin,) = tool.document.pins
    assert abs(pin.x - 10.5) < 0.2 and abs(pin.y - 20.5) < 0.2
    assert pin.rgb == tool.hint_panel.colour
    assert tool.canvas.selected_pin == pin.id and tool.canvas.pins == (pin,)
    assert texts(tool) == ["Add colour pin"] and tool.isWindowModified()
    assert tool.hint_panel.pin_count.text() == "1 pin · one selected"
    tool.act.undo.trigger()
    assert tool.document.pins == () and tool.canvas.selected_pin is None
    tool.act.redo.trigger()
    assert tool.document.pins == (pin,)


def test_a_drag_moves_a_pin_in_one_step_and_a_shaky_click_does_not(tool: MainWindow, qtbot):
    click(qtbot, tool, 10.5, 20.5)
    pin = tool.document.pins[0]
    start = screen(tool, pin.x, pin.y)
    drag(qtbot, tool, start + QPoint(2, 0), start + QPoint(1, 1), steps=2)  # under 3 px
    assert tool.document.pins == (pin,) and len(texts(tool)) == 1
    drag(qtbot, tool, start, screen(tool, 40.5, 30.5), steps=6)
    moved = tool.document.pins[0]
    assert moved.id == pin.id and moved.rgb == pin.rgb
    assert abs(moved.x - 40.5) < 0.2 and abs(moved.y - 30.5) < 0.2
    assert texts(tool) == ["Add colour pin", "Move colour pin"]
    tool.act.undo.trigger()
    assert (tool.document.pins[0].x, tool.document.pins[0].y) == (pin.x, pin.y)
    tool.act.redo.trigger()
    assert tool.document.pins[0] == moved


def test_a_pin_dragged_off_the_photo_stays_on_its_edge(tool: MainWindow, qtbot):
    click(qtbot, tool, 10.5, 20.5)
    pin = tool.document.pins[0]
    outside = screen(tool, tool.document.width + 30, -20)
    drag(qtbot, tool, screen(tool, pin.x, pin.y), outside)
    moved = tool.document.pins[0]
    assert tool.document.width - 1 < moved.x < tool.document.width and moved.y == 0


def test_clicking_a_pin_selects_it_and_delete_removes_it(tool: MainWindow, qtbot):
    click(qtbot, tool, 10.5, 20.5)
    click(qtbot, tool, 50.5, 10.5)
    first, second = tool.document.pins
    assert tool.canvas.selected_pin == second.id
    click(qtbot, tool, first.x, first.y)  # on a pin: selects, places nothing
    assert tool.canvas.selected_pin == first.id and len(tool.document.pins) == 2
    qtbot.keyClick(tool.canvas, Qt.Key.Key_Delete)
    assert tool.document.pins == (second,) and tool.canvas.selected_pin is None
    click(qtbot, tool, second.x, second.y)
    qtbot.keyClick(tool.canvas, Qt.Key.Key_Backspace)
    assert tool.document.pins == ()
    assert texts(tool)[-2:] == ["Remove colour pin", "Remove colour pin"]
    tool.act.undo.trigger()
    tool.act.undo.trigger()
    assert tool.document.pins == (first, second)  # back in their order, with their ids


def test_remove_selected_and_clear_are_actions_with_one_step_each(tool: MainWindow, qtbot):
    tool.act.remove_pin.trigger()
    assert "Select a pin first" in tool.statusBar().currentMessage()
    for x in (5.5, 15.5, 25.5):
        click(qtbot, tool, x, 5.5)
    tool.act.remove_pin.trigger()
    assert len(tool.document.pins) == 2
    pins = tool.document.pins
    tool.act.clear_pins.trigger()
    assert tool.document.pins == () and texts(tool)[-1] == "Clear colour pins"
    tool.act.undo.trigger()
    assert tool.document.pins == pins


def test_a_click_off_the_photo_deselects_and_places_nothing(tool: MainWindow, qtbot):
    click(qtbot, tool, 10.5, 20.5)
    tool.canvas.fit()
    qtbot.mouseClick(tool.canvas, Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    assert tool.canvas.selected_pin is None and len(tool.document.pins) == 1


def test_without_the_tool_a_click_paints_the_mask_not_a_pin(opened: MainWindow, qtbot):
    click(qtbot, opened, 10.5, 20.5)
    assert opened.document.pins == () and not opened.document.mask_is_empty()


def test_a_palette_colour_recolours_the_selected_pin_in_one_step(tool: MainWindow, qtbot):
    tool.hint_panel.palette_button("Sky").click()
    assert tool.hint_panel.colour == SKY and tool.history.count() == 0  # nothing selected
    click(qtbot, tool, 10.5, 20.5)
    assert tool.document.pins[0].rgb == SKY
    tool.hint_panel.palette_button("Brick").click()
    assert tool.document.pins[0].rgb == BRICK and texts(tool)[-1] == "Recolour pin"
    tool.act.undo.trigger()
    assert tool.document.pins[0].rgb == SKY
    assert tool.hint_panel.colour == SKY  # the selected pin's colour is shown


def test_the_colour_dialog_recolours_the_selected_pin(tool: MainWindow, qtbot, dialogs):
    click(qtbot, tool, 10.5, 20.5)
    before = tool.document.pins[0].rgb
    dialogs.colour = (1, 2, 3)
    tool.hint_panel.choose.click()
    assert dialogs.colours_asked == [before]  # the dialog starts from the pin's colour
    assert tool.document.pins[0].rgb == (1, 2, 3) and tool.hint_panel.colour == (1, 2, 3)
    dialogs.colour = None  # cancelled
    tool.hint_panel.swatch.click()
    assert len(dialogs.colours_asked) == 2 and tool.document.pins[0].rgb == (1, 2, 3)


def test_the_eyedropper_picks_this_photos_original_colours(tool: MainWindow, qtbot, png):
    click(qtbot, tool, 10.5, 20.5)
    tool.hint_panel.pick.click()
    assert tool.canvas.picking
    click(qtbot, tool, 30.5, 12.5)
    expected = tool.document.colour_at(30.5, 12.5, original=True)
    assert tool.hint_panel.colour == expected
    assert tool.document.pins[0].rgb == expected  # the selected pin took it
    assert len(tool.document.pins) == 1  # the pick placed no pin
    assert not tool.canvas.picking and not tool.hint_panel.pick.isChecked()


def test_the_eyedropper_picks_from_another_open_photo(
    tool: MainWindow, make_window, qtbot, tmp_path
) -> None:
    other_path = tmp_path / "reference.png"
    write_png(other_path, 80, 60, seed=3)
    other = make_window()
    assert other.files.open_path(other_path)
    tool.hint_panel.pick.click()
    assert other.canvas.picking and not other.hint_panel.pick.isChecked()
    click(qtbot, other, 70.5, 50.5)
    assert tool.hint_panel.colour == other.document.colour_at(70.5, 50.5)
    assert not tool.canvas.picking and not other.canvas.picking
    assert other.document.pins == () and other.history.count() == 0
    assert "from “reference”" in tool.statusBar().currentMessage()


def test_escape_puts_the_eyedropper_down(tool: MainWindow, qtbot):
    tool.hint_panel.pick.click()
    qtbot.keyClick(tool.canvas, Qt.Key.Key_Escape)
    assert not tool.canvas.picking and not tool.hint_panel.pick.isChecked()


def _pixel(window: MainWindow, at: QPointF) -> tuple[int, int, int]:
    colour = window.canvas.grab().toImage().pixelColor(at.toPoint())
    return colour.red(), colour.green(), colour.blue()


@pytest.mark.parametrize("zoom", [0.5, 1.0, 8.0])
def test_pins_are_drawn_in_their_colour_at_one_screen_size(tool: MainWindow, qtbot, zoom):
    tool.hint_panel.palette_button("Sky").click()
    click(qtbot, tool, 30.5, 20.5)
    tool.canvas.select_pin(None)
    tool.canvas.set_zoom(zoom, tool.canvas.map_from_image(QPointF(30.5, 20.5)))
    centre = tool.canvas.map_from_image(QPointF(30.5, 20.5))
    inside = PIN_RADIUS - 3.5  # within the disc, clear of its ring, in screen pixels
    for dx, dy in ((0, 0), (inside, 0), (0, -inside)):
        assert _pixel(tool, centre + QPointF(dx, dy)) == SKY
    ring = _pixel(tool, centre + QPointF(PIN_RADIUS, 0))
    assert ring != SKY
    tool.canvas.compare_key = Qt.Key.Key_Backslash
    qtbot.keyPress(tool.canvas, Qt.Key.Key_Backslash)  # the original alone: no pins
    assert _pixel(tool, centre) != SKY
    qtbot.keyRelease(tool.canvas, Qt.Key.Key_Backslash)


def test_switching_the_tool_off_brings_the_brush_back(tool: MainWindow):
    tool.act.hint_tool.trigger()
    assert tool.canvas.tool == Tool.BRUSH and not tool.hints.active


def test_opening_a_pinned_document_shows_its_pins(
    tool: MainWindow, qtbot, tmp_path, dialogs
) -> None:
    click(qtbot, tool, 10.5, 20.5)
    dialogs.save_path = tmp_path / "pinned.ora"
    tool.act.save_as.trigger()
    pins = tool.document.colour_hints()
    assert tool.files.open_path(tmp_path / "pinned.ora")
    assert tool.document.colour_hints() == pins
    assert [p.id for p in tool.canvas.pins] == [p.id for p in tool.document.pins]
    assert tool.history.count() == 0 and not tool.isWindowModified()
    assert np.array_equal(tool.document.original.pixels.shape, (48, 64, 3))
