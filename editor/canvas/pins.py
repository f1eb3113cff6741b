"""The canvas's colour pins and colorize preview: drawing them, and the Colour Hint tool's
clicks, drags and keys, reported as signals (the window makes them undoable edits).

A mixin of CanvasView, like `InteractionMixin`, which calls the `_pin_*` hooks from its
event handlers. Pins are shown at a fixed screen size whatever the zoom; a pin being
dragged is drawn where the pointer is, and the move is reported once, on release, so one
drag is one undo step. The preview is a small (≤ 1 MP) colorized copy of the photo, drawn
stretched over it in place of the composite while the window sets one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QTransform

from editor.canvas import painting
from editor.canvas.tools import Tool

PIN_GRAB = painting.PIN_RADIUS + 4.0  # how near a pin (screen pixels) a press takes it
DRAG_START = 3.0  # a press that moves less than this (screen pixels) is a click
DELETE_KEYS = (Qt.Key.Key_Delete.value, Qt.Key.Key_Backspace.value)
ESCAPE_KEY = Qt.Key.Key_Escape.value
RGB888 = QImage.Format.Format_RGB888


class PinLike(Protocol):
    """A pin as the canvas draws it (`editor.doc.Pin` is one)."""

    @property
    def id(self) -> int: ...
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def rgb(self) -> tuple[int, int, int]: ...


class PinMixin:
    """CanvasView's pins and preview (see the module docstring)."""

    def _init_pins(self) -> None:
        self._pins: tuple[PinLike, ...] = ()
        self._selected_pin: int | None = None
        self._held_pin: int | None = None  # pressed on, while the button is down
        self._press_pos = QPointF()  # widget position of that press
        self._grab = QPointF()  # the press's image position minus the pin's
        self._held_at: QPointF | None = None  # where the held pin is dragged (image)
        self._picking = False  # the eyedropper is armed: a left click picks a colour
        self._preview: QImage | None = None
        self._preview_pixels: np.ndarray | None = None  # the buffer `_preview` wraps

    # --- what the window sets -----------------------------------------------------------

    @property
    def pins(self) -> tuple[PinLike, ...]:
        return self._pins

    def set_pins(self, pins: Sequence[PinLike]) -> None:
        """The pins to draw (the document's); a selected pin that is gone is deselected."""
        self._pins = tuple(pins)
        if self._selected_pin is not None and self._find_pin(self._selected_pin) is None:
            self.select_pin(None)
        self.update()

    @property
    def selected_pin(self) -> int | None:
        return self._selected_pin

    def select_pin(self, pin_id: int | None) -> None:
        if pin_id != self._selected_pin:
            self._selected_pin = pin_id
            self.pinSelected.emit(0 if pin_id is None else pin_id)
            self.update()

    @property
    def picking(self) -> bool:
        return self._picking

    def set_picking(self, picking: bool) -> None:
        """Arm the eyedropper: the next left click reports `colourPicked` instead."""
        self._picking = bool(picking)
        self._refresh_cursor()

    @property
    def preview_pixels(self) -> np.ndarray | None:
        """The preview shown (h×w×3 uint8), None when the photo itself is."""
        return self._preview_pixels

    def set_preview(self, rgb: np.ndarray | None) -> None:
        """Show `rgb` (h×w×3 uint8, the photo scaled down) over the photo; None: the photo."""
        if rgb is None:
            self._preview = self._preview_pixels = None
        else:
            pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
            height, width = pixels.shape[:2]
            self._preview_pixels = pixels
            self._preview = QImage(pixels.data, width, height, 3 * width, RGB888)
        self.update()

    def _clear_pins(self) -> None:
        """A new source: nothing of the old one is shown or held."""
        self._pins, self._selected_pin, self._held_pin, self._held_at = (), None, None, None
        self._preview = self._preview_pixels = None

    # --- finding pins -------------------------------------------------------------------

    def _find_pin(self, pin_id: int) -> PinLike | None:
        return next((pin for pin in self._pins if pin.id == pin_id), None)

    def pin_at(self, pos: QPointF) -> PinLike | None:
        """The pin drawn under widget point `pos` (the topmost: the last placed)."""
        for pin in reversed(self._pins):
            centre = self.map_from_image(QPointF(pin.x, pin.y))
            if math.hypot(centre.x() - pos.x(), centre.y() - pos.y()) <= PIN_GRAB:
                return pin
        return None

    def _on_image(self, point: QPointF) -> bool:
        return 0 <= point.x() < self.cache.width and 0 <= point.y() < self.cache.height

    # --- the tool's hooks (called by InteractionMixin) -----------------------------------

    def _pin_press(self, pos: QPointF) -> bool:
        """A left press with the Colour Hint tool (or the eyedropper armed): True if taken.
        On a pin: selects and holds it (`pin_held`), a drag may follow. Elsewhere on the
        photo: a new pin is asked for; off the photo: nothing is selected any more."""
        point = self.map_to_image(pos)
        if self._picking:
            if self._on_image(point):
                self.colourPicked.emit(point.x(), point.y())
            return True
        if self._tool != Tool.HINT:
            return False
        pin = self.pin_at(pos)
        if pin is not None:
            self.select_pin(pin.id)
            self._held_pin, self._press_pos = pin.id, QPointF(pos)
            self._grab = point - QPointF(pin.x, pin.y)
        elif self._on_image(point):
            self.pinPlaced.emit(point.x(), point.y())
        else:
            self.select_pin(None)
        return True

    @property
    def pin_held(self) -> bool:
        return self._held_pin is not None

    def _pin_drag(self, pos: QPointF) -> None:
        """The pointer moves with a pin held: past `DRAG_START` the pin follows it (at the
        offset it was grabbed at), kept on the photo."""
        if self._held_pin is None:
            return
        moved = pos - self._press_pos
        if self._held_at is None and math.hypot(moved.x(), moved.y()) < DRAG_START:
            return  # not a drag yet: a shaky click must not move the pin
        point = self.map_to_image(pos) - self._grab
        self._held_at = QPointF(
            min(max(point.x(), 0.0), math.nextafter(self.cache.width, 0.0)),
            min(max(point.y(), 0.0), math.nextafter(self.cache.height, 0.0)),
        )
        self.update()

    def _pin_release(self) -> None:
        """The button is up: a pin dragged somewhere else is reported moved (one step)."""
        pin = None if self._held_pin is None else self._find_pin(self._held_pin)
        at, self._held_at, self._held_pin = self._held_at, None, None
        if pin is not None and at is not None and (at.x(), at.y()) != (pin.x, pin.y):
            self.pinMoved.emit(pin.id, at.x(), at.y())
        self.update()

    def _pin_key(self, key: int) -> bool:
        """Delete / Backspace remove the selected pin; Escape disarms the eyedropper."""
        if key == ESCAPE_KEY and self._picking:
            self.pickCancelled.emit()
            return True
        if key in DELETE_KEYS and self._tool == Tool.HINT and self._selected_pin is not None:
            self.pinRemoveRequested.emit(self._selected_pin)
            return True
        return False

    def _pin_cursor(self) -> Qt.CursorShape | None:
        """The cursor the pins ask for now, None: the usual one."""
        if self._picking:
            return Qt.CursorShape.CrossCursor
        if self._held_at is not None:
            return Qt.CursorShape.ClosedHandCursor
        if self._tool == Tool.HINT and self._mouse is not None and self.pin_at(self._mouse):
            return Qt.CursorShape.OpenHandCursor
        return None

    # --- painting -----------------------------------------------------------------------

    def _paint_pins(self, painter: QPainter) -> None:
        for pin in self._pins:
            selected = pin.id == self._selected_pin
            x, y = pin.x, pin.y
            if pin.id == self._held_pin and self._held_at is not None:
                x, y = self._held_at.x(), self._held_at.y()
            centre = self.map_from_image(QPointF(x, y))
            painting.draw_pin(painter, centre, pin.rgb, selected)

    def _draw_preview(self, painter: QPainter, rect: QRect) -> None:
        """The part of the preview that widget rect `rect` shows, stretched to the photo."""
        image = self._preview
        assert image is not None
        zoom, ox, oy = self._view.zoom, self._view.ox, self._view.oy
        sx, sy = self.cache.width / image.width(), self.cache.height / image.height()
        x0, y0 = self._view.to_image(rect.left(), rect.top())
        x1, y1 = self._view.to_image(rect.right() + 1, rect.bottom() + 1)
        bounds = QRectF(0, 0, image.width(), image.height())
        part = QRectF(x0 / sx - 1, y0 / sy - 1, (x1 - x0) / sx + 2, (y1 - y0) / sy + 2)
        part = part.intersected(bounds)
        if part.isEmpty():
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.setWorldTransform(QTransform(zoom * sx, 0.0, 0.0, zoom * sy, ox, oy))
        painter.drawImage(part, image, part)
        painter.restore()
