"""The canvas (editor.canvas) as a view: fit, zoom, pan and the brush stroke signals.
Offscreen, with a fake source (canvas_support); the display cache and what is drawn
have their own files (test_canvas_*.py)."""

from __future__ import annotations

import pytest
from canvas_support import (
    VIEW_H,
    VIEW_W,
    FakeSource,
    Recorder,
    close_to,
    loaded,
    make_view,
    send_wheel,
)
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QFocusEvent,
)
from PySide6.QtWidgets import QApplication

from editor.canvas import CanvasSource, CanvasView, Tool


@pytest.fixture
def view(qtbot) -> CanvasView:  # noqa: ANN001 (pytest-qt's types)
    return make_view(qtbot)


def test_the_fake_source_meets_the_protocol() -> None:
    assert isinstance(FakeSource(4, 3), CanvasSource)


def test_set_source_fits_the_whole_image_centred(view: CanvasView) -> None:
    zooms: list[float] = []
    view.zoomChanged.connect(zooms.append)
    loaded(view, 4000, 2000)
    assert view.zoom == pytest.approx(0.1)  # min(400 / 4000, 300 / 2000)
    assert zooms == [pytest.approx(0.1)]
    assert view.fitting
    centre = view.map_to_image(QPointF(VIEW_W / 2, VIEW_H / 2))
    assert close_to(centre, QPointF(2000, 1000))
    top_left = view.map_from_image(QPointF(0, 0))
    bottom_right = view.map_from_image(QPointF(4000, 2000))
    assert close_to(top_left, QPointF(0, 50)) and close_to(bottom_right, QPointF(400, 250))
    # Fitting follows the widget's size.
    view.resize(200, 300)
    assert view.zoom == pytest.approx(0.05)


def test_wheel_zoom_keeps_the_point_under_the_cursor(view: CanvasView) -> None:
    loaded(view, 4000, 3000)
    cursor = QPointF(123.0, 77.0)
    before = view.map_to_image(cursor)
    send_wheel(view, cursor, 1)
    assert view.zoom == pytest.approx(0.1 * 1.25)
    assert close_to(view.map_to_image(cursor), before, 1e-6)
    send_wheel(view, cursor, -2)
    assert view.zoom == pytest.approx(0.1 / 1.25)
    assert close_to(view.map_to_image(cursor), before, 1e-6)
    assert not view.fitting


def test_zoom_in_out_actual_size_and_fit(view: CanvasView) -> None:
    loaded(view, 4000, 3000)
    zooms: list[float] = []
    view.zoomChanged.connect(zooms.append)
    centre = QPointF(VIEW_W / 2, VIEW_H / 2)
    middle = view.map_to_image(centre)
    view.zoom_in()
    assert view.zoom == pytest.approx(1 / 8)  # the next step above 10 %
    assert close_to(view.map_to_image(centre), middle)  # zooms about the centre
    view.zoom_out()
    assert view.zoom == pytest.approx(1 / 12)
    view.actual_size()
    assert view.zoom == 1.0 and not view.fitting
    assert abs(view.map_to_image(centre).x() - middle.x()) <= 1.0  # offset rounded to a pixel
    view.fit()
    assert view.zoom == pytest.approx(0.1) and view.fitting
    assert zooms == pytest.approx([1 / 8, 1 / 12, 1.0, 0.1])


def test_middle_drag_pans_without_painting(qtbot, view: CanvasView) -> None:
    loaded(view)
    view.actual_size()
    strokes = Recorder(view)
    probe = QPointF(100, 100)
    before = view.map_to_image(probe)
    qtbot.mousePress(view, Qt.MouseButton.MiddleButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(215, 160))
    qtbot.mouseMove(view, QPoint(230, 170))
    qtbot.mouseRelease(view, Qt.MouseButton.MiddleButton, pos=QPoint(230, 170))
    after = view.map_to_image(probe)
    assert close_to(after, before - QPointF(30, 20))  # the image followed the mouse
    assert strokes.silent


def test_space_drag_and_the_pan_tool_pan(qtbot, view: CanvasView) -> None:
    loaded(view)
    view.actual_size()
    strokes = Recorder(view)
    start = view.map_to_image(QPointF(0, 0))
    qtbot.keyPress(view, Qt.Key.Key_Space)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(190, 140))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(190, 140))
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert close_to(view.map_to_image(QPointF(0, 0)), start + QPointF(10, 10))
    view.set_tool(Tool.PAN)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 150))
    qtbot.mouseMove(view, QPoint(205, 150))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(205, 150))
    assert close_to(view.map_to_image(QPointF(0, 0)), start + QPointF(5, 10))
    assert strokes.silent


def test_left_drag_emits_a_stroke_in_image_coordinates(qtbot, view: CanvasView) -> None:
    loaded(view)  # 50 %, no offset: image = 2 × widget
    strokes = Recorder(view)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 50))
    qtbot.mouseMove(view, QPoint(110, 60))
    qtbot.mouseMove(view, QPoint(130, 60))
    assert view.stroking
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(130, 60))
    assert strokes.started == [False]
    assert strokes.segments[0] == pytest.approx((200, 100, 200, 100))  # a click paints a dot
    assert strokes.segments[1:] == [
        pytest.approx((200, 100, 220, 120)),
        pytest.approx((220, 120, 260, 120)),
    ]
    assert strokes.finished == 1 and not view.stroking


def test_right_drag_and_eraser_mode_erase(qtbot, view: CanvasView) -> None:
    loaded(view)
    strokes = Recorder(view)
    qtbot.mousePress(view, Qt.MouseButton.RightButton, pos=QPoint(40, 40))
    qtbot.mouseMove(view, QPoint(50, 40))
    qtbot.mouseRelease(view, Qt.MouseButton.RightButton, pos=QPoint(50, 40))
    view.set_eraser(True)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    assert strokes.started == [True, True]
    assert strokes.segments[1] == pytest.approx((80, 80, 100, 80))
    assert strokes.finished == 2


@pytest.mark.parametrize("interruption", [QEvent.Type.FocusOut, QEvent.Type.Leave])
def test_a_stroke_always_finishes(qtbot, view: CanvasView, interruption) -> None:
    loaded(view)
    strokes = Recorder(view)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    if interruption == QEvent.Type.FocusOut:
        event = QFocusEvent(QEvent.Type.FocusOut, Qt.FocusReason.ActiveWindowFocusReason)
    else:
        event = QEvent(QEvent.Type.Leave)
    QApplication.sendEvent(view, event)
    assert strokes.finished == 1 and not view.stroking
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    assert strokes.finished == 1  # not twice
