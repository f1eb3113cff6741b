"""The canvas (editor.canvas): fit/zoom/pan, brush stroke signals, the display cache, the
before/after divider, the compare key, drops and the empty state. Offscreen, with a fake source."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFocusEvent,
    QImage,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication

from editor.canvas import CanvasSource, CanvasView, Tool

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)
VIEW_W, VIEW_H = 400, 300


class FakeSource:
    """A CanvasSource over numpy arrays: a blue result, a red original, an editable mask."""

    def __init__(self, width: int, height: int, composite=BLUE, original=RED) -> None:
        self.width, self.height = width, height
        self.composite = np.empty((height, width, 3), np.uint8)
        self.composite[:] = composite
        self.original = np.empty((height, width, 3), np.uint8)
        self.original[:] = original
        self._mask = np.zeros((height, width), np.uint8)
        self.reads: list[tuple[str, object]] = []

    def _read(self, name: str, pixels: np.ndarray, region) -> np.ndarray:
        self.reads.append((name, region))
        if region is None:
            return pixels.copy()
        y0, y1, x0, x1 = region
        return pixels[y0:y1, x0:x1].copy()

    def composite_rgb8(self, region=None) -> np.ndarray:
        return self._read("composite", self.composite, region)

    def original_rgb8(self, region=None) -> np.ndarray:
        return self._read("original", self.original, region)

    @property
    def mask(self) -> np.ndarray:
        return self._mask


@pytest.fixture
def view(qtbot) -> CanvasView:  # noqa: ANN001 (pytest-qt's types)
    canvas = CanvasView()
    qtbot.addWidget(canvas)
    canvas.resize(VIEW_W, VIEW_H)
    canvas.show()
    qtbot.waitExposed(canvas)
    return canvas


def loaded(view: CanvasView, width: int = 800, height: int = 600, **colors) -> FakeSource:
    """Give `view` a fresh fake source (800×600 fits 400×300 exactly at 50 %)."""
    source = FakeSource(width, height, **colors)
    view.set_source(source)
    return source


def rgb_at(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    color = image.pixelColor(x, y)
    return color.red(), color.green(), color.blue()


def close_to(a: QPointF, b: QPointF, tol: float = 1e-6) -> bool:
    return abs(a.x() - b.x()) <= tol and abs(a.y() - b.y()) <= tol


def send_wheel(view: CanvasView, pos: QPointF, notches: float) -> None:
    event = QWheelEvent(
        pos,
        view.mapToGlobal(pos),
        QPoint(),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


class Recorder:
    """Every stroke signal of a view, in order."""

    def __init__(self, view: CanvasView) -> None:
        self.started: list[bool] = []
        self.segments: list[tuple[float, float, float, float]] = []
        self.finished = 0
        view.strokeStarted.connect(self.started.append)
        view.strokeSegment.connect(lambda *seg: self.segments.append(seg))
        view.strokeFinished.connect(self._finish)

    def _finish(self) -> None:
        self.finished += 1

    @property
    def silent(self) -> bool:
        return not self.started and not self.segments and self.finished == 0


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


def test_update_region_rewrites_only_that_region_of_the_overlay(view: CanvasView) -> None:
    source = loaded(view)
    overlay = view.cache.overlay
    assert not overlay.base.any() and not view.cache.overlay_has_content
    source.mask[100:150, 200:260] = 255
    source.mask[400:420, 500:520] = 255  # changed, but not announced: the cache must not read it
    view.update_region("mask", (100, 150, 200, 260))
    inside = overlay.base[100:150, 200:260]
    alpha, red = inside >> 24, (inside >> 16) & 0xFF
    assert (alpha == 128).all() and (red == 128).all()  # premultiplied red at half opacity
    assert not ((inside >> 8) & 0xFF).any() and not (inside & 0xFF).any()
    outside = overlay.base.copy()
    outside[100:150, 200:260] = 0
    assert not outside.any()
    assert overlay.levels[1][50:75, 100:130].all() and not overlay.levels[1][200:210].any()
    assert view.cache.overlay_has_content
    source.mask[:] = 0  # erased everywhere
    view.update_region("mask", None)
    assert not overlay.base.any() and not overlay.levels[-1].any()
    assert not view.cache.overlay_has_content


def test_update_region_of_pixels_reads_only_that_region(view: CanvasView) -> None:
    source = loaded(view)
    composite = view.cache.composite.base
    assert (composite == 0xFF0000FF).all()  # RGB32 blue
    source.composite[10:20, 30:50] = GREEN
    source.reads.clear()
    view.update_region("pixels", (10, 20, 30, 50))
    assert source.reads == [("composite", (10, 20, 30, 50))]
    assert (composite[10:20, 30:50] == 0xFF00FF00).all()
    assert (composite[:10] == 0xFF0000FF).all() and (composite[20:] == 0xFF0000FF).all()
    view.update_region("pixels", (-5, 3, 790, 900))  # clipped to the image
    assert source.reads[-1] == ("composite", (0, 3, 790, 800))
    with pytest.raises(ValueError):
        view.update_region("colour", None)


def test_odd_sizes_convert_exactly_and_keep_smaller_levels_consistent(view: CanvasView) -> None:
    rng = np.random.default_rng(1)
    source = FakeSource(1203, 777)
    source.composite[:] = rng.integers(0, 256, source.composite.shape, dtype=np.uint8)
    view.set_source(source)
    composite = view.cache.composite

    def packed(rgb: np.ndarray) -> np.ndarray:
        r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
        return 0xFF000000 | (r << 16) | (g << 8) | b

    assert np.array_equal(composite.base, packed(source.composite))
    assert [level.shape for level in composite.levels] == [(777, 1203), (389, 602), (195, 301)]
    region = (771, 777, 1195, 1203)  # the bottom-right corner: odd rows and columns
    source.composite[771:, 1195:] = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    view.update_region("pixels", region)
    assert np.array_equal(composite.base, packed(source.composite))
    # Level 1 over that corner is the 2×2 box average, the missing last row/column repeated.
    base = composite.base.view(np.uint8).reshape(777, 1203, 4).astype(np.uint16)
    padded = np.pad(base, ((0, 1), (0, 1), (0, 0)), mode="edge")
    corner = padded[770:778, 1194:1204]
    box = corner[0::2, 0::2] + corner[1::2, 0::2] + corner[0::2, 1::2] + corner[1::2, 1::2] + 2
    level1 = composite.levels[1].view(np.uint8).reshape(389, 602, 4)
    assert np.array_equal(level1[385:389, 597:602], box >> 2)


def test_update_region_all_rereads_everything(view: CanvasView) -> None:
    source = loaded(view)
    view.cache.original()
    source.composite[:] = GREEN
    source.original[:] = BLUE
    source.mask[:10, :10] = 255
    view.update_region("all")
    assert (view.cache.composite.base == 0xFF00FF00).all()
    assert (view.cache.original().base == 0xFF0000FF).all()
    assert view.cache.overlay.base[:10, :10].all() and not view.cache.overlay.base[10:].any()
    # A new size: new buffers, fitted again.
    source.width, source.height = 400, 300
    source.composite = np.zeros((300, 400, 3), np.uint8)
    source._mask = np.zeros((300, 400), np.uint8)
    view.update_region("all")
    assert view.cache.composite.base.shape == (300, 400)
    assert view.zoom == pytest.approx(1.0)


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


def test_overlay_style_and_smooth_zoomed_out_levels(view: CanvasView) -> None:
    source = loaded(view, 3200, 2400)  # fit 12.5 %: drawn from a level 8× smaller
    source.mask[:, :1600] = 255
    view.update_region("mask")
    view.set_overlay_style(QColor(0, 255, 0), 1.0)
    shot = view.grab().toImage()
    assert rgb_at(shot, 100, 150) == GREEN and rgb_at(shot, 300, 150) == BLUE


def test_timings_on_a_24_megapixel_source(view: CanvasView) -> None:
    """Not a benchmark: prints what opening, a brush-sized region update and repaints cost."""
    view.resize(1600, 1000)
    source = FakeSource(6000, 4000)
    start = time.perf_counter()
    view.set_source(source)
    built_ms = (time.perf_counter() - start) * 1000
    view.repaint()
    fit_ms = view.last_paint_ms
    region_ms = []
    for i in range(10):  # a brush dab: mask region update, then repaint just that area
        y, x = 2000 + 10 * i, 3000 + 10 * i
        source.mask[y : y + 100, x : x + 100] = 255
        start = time.perf_counter()
        view.update_region("mask", (y, y + 100, x, x + 100))
        region_ms.append((time.perf_counter() - start) * 1000)
    rect = view.map_from_image(QPointF(3000, 2000))
    view.repaint(round(rect.x()) - 3, round(rect.y()) - 3, 40, 40)
    dab_ms = view.last_paint_ms
    view.actual_size()
    view.repaint()
    actual_ms = view.last_paint_ms
    view.set_split(True)
    view.repaint()  # the first before/after paint reads the original into the cache
    first_split_ms = view.last_paint_ms
    view.repaint()
    split_ms = view.last_paint_ms
    print(
        f"\n6000×4000 in a 1600×1000 canvas: set_source {built_ms:.0f} ms; "
        f"update_region(mask, 100×100) median {sorted(region_ms)[5]:.2f} ms; "
        f"paintEvent: fit {fit_ms:.2f} ms, dab area {dab_ms:.2f} ms, 100 % {actual_ms:.2f} ms, "
        f"first split {first_split_ms:.0f} ms, split at 100 % {split_ms:.2f} ms"
    )
    assert view.cache.overlay.base[2050, 3050] != 0 and view.cache.overlay_has_content
