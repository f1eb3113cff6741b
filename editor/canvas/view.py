"""CanvasView: shows a `CanvasSource`, zooms, pans, reports brush strokes, compares before/after,
draws the colour pins and the colorize preview (`editor.canvas.pins`).

It is a view only: the mask is painted by whoever listens to the stroke signals, and the
canvas learns of every change through `update_region`. Painting reads the `DisplayCache` and
touches only the exposed part of it; nothing here converts the whole image per event.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPointF, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from editor.canvas import painting
from editor.canvas.cache import DisplayCache, Pyramid
from editor.canvas.drops import DropMixin
from editor.canvas.geometry import SMOOTH_BELOW, WHEEL_STEP, ViewTransform, next_zoom
from editor.canvas.interaction import InteractionMixin
from editor.canvas.pins import PinMixin
from editor.canvas.source import CanvasSource, Region
from editor.canvas.tools import Tool

BAND_ROWS = 512  # a whole-image recomposite is done this many rows per timer tick
PROGRESSIVE_PIXELS = 2_000_000  # images up to this size are recomposited at once


class CanvasView(InteractionMixin, PinMixin, DropMixin, QWidget):
    """The editor's canvas. Image coordinates are floats in pixels: pixel (i, j) spans
    [i, i+1) × [j, j+1), so a pixel's centre is at (i + 0.5, j + 0.5)."""

    INVITATION = "Drop a photo here, or open a sample"

    filesDropped = Signal(list)  # local file paths
    zoomChanged = Signal(float)
    splitChanged = Signal(float)  # the divider's position, 0..1 of the width
    strokeStarted = Signal(bool)  # erase
    strokeSegment = Signal(float, float, float, float)  # x0, y0, x1, y1 in image pixels
    strokeFinished = Signal()
    # The Colour Hint tool (image pixels); pin ids as the document gives them.
    pinPlaced = Signal(float, float)
    pinMoved = Signal(int, float, float)  # once per drag, on release
    pinSelected = Signal(int)  # 0: none
    pinRemoveRequested = Signal(int)
    colourPicked = Signal(float, float)  # the eyedropper clicked here
    pickCancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent fills every pixel
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)  # right-drag erases
        self.cache = DisplayCache()
        self.compare_key: Qt.Key | int = Qt.Key.Key_Backslash  # held: the original full-frame
        self.last_paint_ms = 0.0
        self._view = ViewTransform()
        self._fitting = True
        self._tool = Tool.BRUSH
        self._radius, self._hardness, self._eraser = 20.0, 0.8, False
        self._mask_visible = True
        self._split, self._split_fraction = False, 0.5
        self._comparing = self._space_held = self._drop_hover = False
        self._pending_bands: set[int] = set()  # row bands of the composite still to redo
        self._band_timer = QTimer(self)
        self._band_timer.setInterval(0)
        self._band_timer.timeout.connect(self._next_band)
        self._init_interaction()
        self._init_pins()

    # --- the document -------------------------------------------------------------------

    @property
    def source(self) -> CanvasSource | None:
        return self.cache.source

    def set_source(self, source: CanvasSource | None) -> None:
        """Show `source` fitted to the canvas (None: the empty state)."""
        self._pending_bands.clear()
        self._band_timer.stop()
        self._end_drag()
        self._clear_pins()
        self.cache.set_source(source)
        self.fit()
        self.update()
        self._refresh_cursor()

    def update_region(self, kind: str, region: Region | None = None) -> None:
        """The source changed: kind "pixels" (the composite), "mask" or "all"; region
        (y0, y1, x0, x1) in image pixels, None = everywhere. Repaints only what changed."""
        if self.cache.source is None:
            return
        if kind == "all":
            size = (self.cache.width, self.cache.height)
            self.cache.set_source(self.cache.source)
            if self._fitting or size != (self.cache.width, self.cache.height):
                self.fit()
            self.update()
            return
        changed = self.cache.update(kind, region)
        if changed is None or (kind == "mask" and not self._mask_visible):
            return
        x, y, w, h = self._view.image_rect(changed, margin=2 + math.ceil(self._view.zoom))
        self.update(QRect(x, y, w, h))

    def refresh_composite(self) -> None:
        """The whole composite changed (a layer's visibility, opacity, order...). Small
        images are redone at once; large ones in bands of `BAND_ROWS` rows, one per event
        loop pass, those on screen first, so the window never waits for all of it."""
        cache = self.cache
        if cache.source is None:
            return
        if cache.width * cache.height <= PROGRESSIVE_PIXELS:
            self._pending_bands.clear()
            self._band_timer.stop()
            self.update_region("pixels", None)
            return
        self._pending_bands = set(range((cache.height + BAND_ROWS - 1) // BAND_ROWS))
        self._band_timer.start()

    @property
    def composite_pending(self) -> bool:
        return bool(self._pending_bands)

    def finish_composite(self) -> None:
        """Redo every band still pending now (tests; before reading the cache)."""
        while self._pending_bands:
            self._next_band()

    def _next_band(self) -> None:
        if not self._pending_bands or self.cache.source is None:
            self._pending_bands.clear()
            self._band_timer.stop()
            return
        seen = self._view.visible_region(
            0, 0, self.width(), self.height(), 1, (self.cache.width, self.cache.height), 0
        )
        first = last = -1
        if seen is not None:
            first, last = seen[0] // BAND_ROWS, (seen[1] - 1) // BAND_ROWS
        on_screen = [b for b in self._pending_bands if first <= b <= last]
        band = min(on_screen or self._pending_bands)
        self._pending_bands.discard(band)
        y0 = band * BAND_ROWS
        self.update_region(
            "pixels", (y0, min(self.cache.height, y0 + BAND_ROWS), 0, self.cache.width)
        )
        if not self._pending_bands:
            self._band_timer.stop()

    def set_overlay_style(self, color: QColor, opacity: float = 0.5) -> None:
        """The mask overlay's colour and its opacity where the mask is 255."""
        self.cache.set_overlay_style(color, opacity)
        self.update()

    # --- zoom and pan -------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return self._view.zoom

    @property
    def fitting(self) -> bool:
        """True while the image follows the canvas's size (until the user zooms or pans)."""
        return self._fitting

    def fit(self) -> None:
        old = self._view.zoom
        self._fitting = True
        self._view.fit(self.cache.width, self.cache.height, self.width(), self.height())
        self._view_changed(old)

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel, on whole pixels so nothing is resampled."""
        self.set_zoom(1.0)
        self._view.ox, self._view.oy = round(self._view.ox), round(self._view.oy)

    def zoom_in(self) -> None:
        self.set_zoom(next_zoom(self._view.zoom, up=True))

    def zoom_out(self) -> None:
        self.set_zoom(next_zoom(self._view.zoom, up=False))

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under `anchor` (default: the canvas's centre) fixed."""
        if anchor is None:
            anchor = QPointF(self.width() / 2.0, self.height() / 2.0)
        old = self._view.zoom
        self._view.zoom_about(zoom, anchor.x(), anchor.y())
        self._fitting = False
        self._view_changed(old)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by (dx, dy) screen pixels."""
        self._view.pan(dx, dy)
        self._fitting = False
        self._view_changed(self._view.zoom)

    def map_to_image(self, point: QPointF) -> QPointF:
        return QPointF(*self._view.to_image(point.x(), point.y()))

    def map_from_image(self, point: QPointF) -> QPointF:
        return QPointF(*self._view.to_widget(point.x(), point.y()))

    def _view_changed(self, old_zoom: float) -> None:
        self._view.clamp(self.cache.width, self.cache.height, self.width(), self.height())
        self.update()
        if self._view.zoom != old_zoom:
            self.zoomChanged.emit(self._view.zoom)
            self._refresh_cursor()

    # --- tools and display options ------------------------------------------------------

    @property
    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        if tool != self._tool:
            self._end_drag()
            self._tool = Tool(tool)
            self.update()
            self._refresh_cursor()

    @property
    def brush_radius(self) -> float:
        return self._radius

    @property
    def brush_hardness(self) -> float:
        return self._hardness

    def set_brush(self, radius: float, hardness: float) -> None:
        """The brush's radius in image pixels and hardness 0 (soft) .. 1 (hard edge)."""
        self._radius, self._hardness = max(0.5, float(radius)), min(1.0, max(0.0, hardness))
        self._update_brush_outline()
        self._refresh_cursor()

    @property
    def eraser(self) -> bool:
        return self._eraser

    def set_eraser(self, eraser: bool) -> None:
        """Left-drag erases instead of paints (right-drag always erases)."""
        self._eraser = bool(eraser)

    @property
    def mask_visible(self) -> bool:
        return self._mask_visible

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_visible = bool(visible)
        self.update()

    @property
    def split_enabled(self) -> bool:
        return self._split

    def set_split(self, enabled: bool) -> None:
        """Before/after: the original left of a draggable divider, the result right of it."""
        self._split = bool(enabled)
        self.update()
        self._refresh_cursor()

    @property
    def split_fraction(self) -> float:
        return self._split_fraction

    def set_split_fraction(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._split_fraction:
            self._split_fraction = fraction
            self.splitChanged.emit(fraction)
            if self._split:
                self.update()

    @property
    def comparing(self) -> bool:
        """True while the compare key is held (the original is shown full-frame)."""
        return self._comparing

    def _split_x(self) -> int:
        return round(self._split_fraction * self.width())

    # --- painting -----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        start = time.perf_counter()
        rect = event.rect()
        painter = QPainter(self)
        painter.fillRect(rect, painting.BACKGROUND)
        if self.cache.composite is None:
            painting.draw_empty(painter, self.rect(), self.INVITATION)
        else:
            self._paint_image(painter, rect)
        self._paint_drop_frame(painter)
        painter.end()
        self.last_paint_ms = (time.perf_counter() - start) * 1000.0

    def _paint_image(self, painter: QPainter, rect: QRect) -> None:
        ratio = self.devicePixelRatioF()
        smooth = self._view.zoom * ratio < SMOOTH_BELOW  # nearest from 200 % (device pixels)
        if self._comparing:
            self._draw(painter, self.cache.original(), rect, smooth, ratio)
            painting.draw_tag(painter, QPointF(8, 8), "Original")
        elif self._split:
            split_x = self._split_x()
            left = rect.intersected(QRect(0, 0, split_x, self.height()))
            right = rect.intersected(QRect(split_x, 0, self.width() - split_x, self.height()))
            if not left.isEmpty():
                painter.setClipRect(left)
                self._draw(painter, self.cache.original(), left, smooth, ratio)
            if not right.isEmpty():
                painter.setClipRect(right)
                self._paint_result(painter, right, smooth, ratio)
            painter.setClipping(False)
            painting.draw_divider(painter, split_x, self.height())
        else:
            self._paint_result(painter, rect, smooth, ratio)
        if not self._comparing:  # the original as it was: no pins over it
            self._paint_pins(painter)
            if self._preview is not None:
                corner = QPointF(self.width() - 8, self.height() - 30)  # the "after" side
                painting.draw_tag(painter, corner, "Colorize preview", align_right=True)
        self._outline_rect = self._outline_now()
        if self._outline_rect is not None:
            radius = self._radius * self._view.zoom
            painting.draw_brush_outline(painter, self._mouse, radius, self._hardness)

    def _paint_result(self, painter: QPainter, rect: QRect, smooth: bool, ratio: float) -> None:
        if self._preview is not None:
            self._draw_preview(painter, rect)
        else:
            self._draw(painter, self.cache.composite, rect, smooth, ratio)
        if self._mask_visible and self.cache.overlay_has_content:
            self._draw(painter, self.cache.overlay, rect, smooth, ratio)

    def _draw(
        self, painter: QPainter, layer: Pyramid, rect: QRect, smooth: bool, ratio: float
    ) -> None:
        painting.draw_layer(painter, layer, self._view, rect, smooth, ratio)

    # --- size and wheel -----------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitting:
            self.fit()
        else:
            self._view_changed(self._view.zoom)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if self.cache.source is None or steps == 0:
            event.ignore()
            return
        self.set_zoom(self._view.zoom * WHEEL_STEP**steps, event.position())
        event.accept()
