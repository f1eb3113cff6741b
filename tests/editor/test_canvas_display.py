"""What the canvas draws and how it is driven besides the brush: the mask overlay, the
before/after divider, the compare key, dropped files, the empty state, the brush
outline."""

from __future__ import annotations

from pathlib import Path

import pytest
from canvas_support import (
    BLUE,
    RED,
    VIEW_H,
    VIEW_W,
    Recorder,
    loaded,
    make_view,
    rgb_at,
    send_wheel,
)
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import QApplication

from editor.canvas import CanvasView, Tool


@pytest.fixture
def view(qtbot) -> CanvasView:  # noqa: ANN001 (pytest-qt's types)
    return make_view(qtbot)


def test_the_mask_overlay_is_drawn_and_can_be_hidden(view: CanvasView) -> None:
    source = loaded(view)
    source.mask[:] = 255
    view.update_region("mask")
    r, g, b = rgb_at(view.grab().toImage(), 300, 250)
    assert abs(r - 128) <= 2 and g == 0 and abs(b - 127) <= 2  # half red over blue
    view.set_mask_visible(False)
    assert rgb_at(view.grab().toImage(), 300, 250) == BLUE


def test_split_shows_the_original_left_and_the_result_right(view: CanvasView) -> None:
    loaded(view)
    assert rgb_at(view.grab().toImage(), 50, 250) == BLUE
    view.set_split(True)
    shot = view.grab().toImage()
    assert rgb_at(shot, 50, 250) == RED and rgb_at(shot, 190, 250) == RED
    assert rgb_at(shot, 210, 250) == BLUE and rgb_at(shot, 350, 250) == BLUE
    # Zoomed and panned, the two sides still follow the image.
    view.set_zoom(2.0, QPointF(100, 100))
    shot = view.grab().toImage()
    assert rgb_at(shot, 50, 250) == RED and rgb_at(shot, 350, 250) == BLUE


def test_dragging_the_divider_moves_it_and_does_not_paint(qtbot, view: CanvasView) -> None:
    loaded(view)
    view.set_split(True)
    strokes = Recorder(view)
    moved: list[float] = []
    view.splitChanged.connect(moved.append)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(203, 250))  # near x = 200
    qtbot.mouseMove(view, QPoint(260, 250))
    qtbot.mouseMove(view, QPoint(300, 240))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(300, 240))
    assert view.split_fraction == pytest.approx(0.75)
    assert moved == pytest.approx([0.65, 0.75])
    assert strokes.silent
    assert rgb_at(view.grab().toImage(), 280, 250) == RED
    # Away from the divider, the brush paints as usual.
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 250))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 250))
    assert strokes.started == [False]


def test_holding_the_compare_key_shows_the_original(qtbot, view: CanvasView) -> None:
    loaded(view)
    qtbot.keyPress(view, Qt.Key.Key_Backslash)
    assert view.comparing
    assert rgb_at(view.grab().toImage(), 200, 250) == RED
    qtbot.keyRelease(view, Qt.Key.Key_Backslash)
    assert not view.comparing
    assert rgb_at(view.grab().toImage(), 200, 250) == BLUE
    view.compare_key = Qt.Key.Key_C
    qtbot.keyPress(view, Qt.Key.Key_C)
    assert rgb_at(view.grab().toImage(), 200, 250) == RED
    qtbot.keyRelease(view, Qt.Key.Key_C)
    assert rgb_at(view.grab().toImage(), 200, 250) == BLUE


def test_a_drop_of_local_files_emits_their_paths(view: CanvasView, tmp_path: Path) -> None:
    dropped: list[list[str]] = []
    view.filesDropped.connect(dropped.append)
    photo = tmp_path / "photo.png"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    enter = QDragEnterEvent(
        QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view, drop)
    assert dropped == [[str(photo)]]
    web = QMimeData()
    web.setUrls([QUrl("https://example.com/photo.png")])
    enter = QDragEnterEvent(
        QPoint(20, 20), Qt.DropAction.CopyAction, web, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view, enter)
    assert not enter.isAccepted()


def test_the_empty_state_paints_an_invitation_and_ignores_input(qtbot, view: CanvasView) -> None:
    strokes = Recorder(view)
    shot = view.grab().toImage()
    assert view.last_paint_ms > 0
    background = rgb_at(shot, 2, 2)
    centre_row = [rgb_at(shot, x, VIEW_H // 2) for x in range(VIEW_W)]
    assert any(pixel != background for pixel in centre_row)  # the invitation's text
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    send_wheel(view, QPointF(100, 100), 1)
    assert strokes.silent and view.zoom == 1.0
    loaded(view)
    view.set_source(None)  # and back to empty
    assert view.source is None and rgb_at(view.grab().toImage(), 2, 2) == background


def test_the_brush_outline_follows_the_mouse(qtbot, view: CanvasView) -> None:
    loaded(view)
    view.set_brush(radius=40, hardness=1.0)  # 20 screen pixels at 50 %
    qtbot.mouseMove(view, QPoint(200, 150))
    assert view.cursor().shape() == Qt.CursorShape.BlankCursor
    shot = view.grab().toImage()
    ring = rgb_at(shot, 220, 150)
    assert ring != BLUE and rgb_at(shot, 210, 150) == BLUE  # on the circle, and inside it
    view.set_tool(Tool.PAN)
    assert rgb_at(view.grab().toImage(), 220, 150) == BLUE
    assert view.cursor().shape() == Qt.CursorShape.OpenHandCursor
