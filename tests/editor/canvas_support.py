"""Helpers for the canvas's tests (`test_canvas*.py`): a fake source, a shown view,
input events. A plain module, imported by name like `editor_support`."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import (
    QImage,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication

from editor.canvas import CanvasView

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


def make_view(qtbot) -> CanvasView:  # noqa: ANN001 (pytest-qt's types)
    """A shown canvas of VIEW_W × VIEW_H, closed with the test (each file's `view` fixture)."""
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
