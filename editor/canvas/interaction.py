"""The canvas's input: brush strokes, panning, the divider, held keys, the brush outline and
the cursor shape; the Colour Hint tool's clicks and drags go to `PinMixin`'s hooks.

A mixin of CanvasView (kept apart to keep each module readable); it relies on the view's
state (`cache`, `_view`, `_tool`, `_split`, ...) and signals.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtGui import QCursor, QFocusEvent, QKeyEvent, QMouseEvent

from editor.canvas import painting
from editor.canvas.tools import Tool

DIVIDER_GRAB = 8.0  # how near the divider (in screen pixels) a press grabs it
MIN_OUTLINE = 4.0  # below this on-screen radius a cross cursor replaces the brush outline


def _key_value(key: object) -> int:
    return int(key.value) if isinstance(key, Enum) else int(key)


_STROKE, _PAN, _SPLIT, _PIN = "stroke", "pan", "split", "pin"
_BRUSH_BUTTONS = (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)  # paint, erase


class InteractionMixin:
    """CanvasView's pointer and keyboard handling (see the module's docstring)."""

    def _init_interaction(self) -> None:
        self._drag: str | None = None  # what the held button is doing
        self._drag_button = Qt.MouseButton.NoButton
        self._drag_last = QPointF()  # widget position (pan) or image position (stroke)
        self._mouse: QPointF | None = None  # where the pointer is, None when outside
        self._outline_rect: QRect | None = None  # where the last paint drew the brush outline

    @property
    def stroking(self) -> bool:
        """True between strokeStarted and strokeFinished."""
        return self._drag == _STROKE

    # --- presses, moves, releases -------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:  # a second button while dragging: swallowed
            event.accept()
            return
        if self.cache.source is None:
            event.ignore()
            return
        pos, button = event.position(), event.button()
        left = button == Qt.MouseButton.LeftButton
        if left and self._near_divider(pos):
            self._begin(_SPLIT, button, pos)
        elif button == Qt.MouseButton.MiddleButton or (
            left and (self._space_held or self._tool == Tool.PAN)
        ):
            self._begin(_PAN, button, pos)
        elif left and self._pin_press(pos):  # the Colour Hint tool, or the eyedropper
            if self.pin_held:  # moves drag it
                self._begin(_PIN, button, pos)
        elif self._tool == Tool.BRUSH and button in _BRUSH_BUTTONS:
            erase = self._eraser or button == Qt.MouseButton.RightButton
            point = self.map_to_image(pos)
            self._begin(_STROKE, button, point)
            self.strokeStarted.emit(erase)
            # A click with no move still paints a dot.
            self.strokeSegment.emit(point.x(), point.y(), point.x(), point.y())
        else:
            event.ignore()
            return
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._move_pointer(pos)
        if self._drag == _PAN:
            delta = pos - self._drag_last
            self._drag_last = pos
            self.pan_by(delta.x(), delta.y())
        elif self._drag == _SPLIT:
            self.set_split_fraction(pos.x() / max(1, self.width()))
        elif self._drag == _PIN:
            self._pin_drag(pos)
        elif self._drag == _STROKE:
            point = self.map_to_image(pos)
            if point != self._drag_last:
                last, self._drag_last = self._drag_last, point
                self.strokeSegment.emit(last.x(), last.y(), point.x(), point.y())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and event.button() == self._drag_button:
            self._end_drag()
            event.accept()
        else:
            event.ignore()

    def _begin(self, kind: str, button: Qt.MouseButton, last: QPointF) -> None:
        self._drag, self._drag_button, self._drag_last = kind, button, QPointF(last)
        self._update_brush_outline()
        self._refresh_cursor()

    def _end_drag(self) -> None:
        """Ends whatever the held button was doing; a stroke always gets its strokeFinished."""
        kind, self._drag = self._drag, None
        self._drag_button = Qt.MouseButton.NoButton
        if kind == _STROKE:
            self.strokeFinished.emit()
        elif kind == _PIN:
            self._pin_release()
        if kind is not None:
            self._update_brush_outline()
            self._refresh_cursor()

    # --- held keys, the pointer leaving, focus going, the widget hiding -----------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._pin_key(_key_value(event.key())):
            event.accept()
        elif not self._set_held_key(event.key(), True, event.isAutoRepeat()):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._set_held_key(event.key(), False, event.isAutoRepeat()):
            super().keyReleaseEvent(event)

    def _set_held_key(self, key: int, down: bool, auto_repeat: bool) -> bool:
        """Space (pan) and the compare key act while held; True if `key` is one of them."""
        key = _key_value(key)
        if key not in (_key_value(Qt.Key.Key_Space), _key_value(self.compare_key)):
            return False
        if not auto_repeat:
            if key == _key_value(self.compare_key):
                self._comparing = down
                self.update()
            else:
                self._space_held = down
                self._update_brush_outline()
                self._refresh_cursor()
        return True

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._end_drag()
        if self._comparing or self._space_held:
            self._comparing = self._space_held = False
            self.update()
            self._refresh_cursor()
        super().focusOutEvent(event)

    def enterEvent(self, event: QEvent) -> None:
        self._move_pointer(self.mapFromGlobal(QCursor.pos()).toPointF())
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        if self._drag == _STROKE:
            self._end_drag()
        self._move_pointer(None)
        super().leaveEvent(event)

    def hideEvent(self, event: QEvent) -> None:
        self._end_drag()
        super().hideEvent(event)

    # --- the brush outline and the cursor shape -----------------------------------------

    def _move_pointer(self, pos: QPointF | None) -> None:
        self._mouse = None if pos is None else QPointF(pos)
        self._update_brush_outline()
        self._refresh_cursor()

    def _near_divider(self, pos: QPointF) -> bool:
        return self._split and abs(pos.x() - self._split_x()) <= DIVIDER_GRAB

    def _brush_outline_visible(self) -> bool:
        return (
            self._mouse is not None
            and self.cache.source is not None
            and self._tool == Tool.BRUSH
            and not self._space_held
            and self._drag in (None, _STROKE)
            and not (self._drag is None and self._near_divider(self._mouse))
            and self._radius * self._view.zoom >= MIN_OUTLINE
        )

    def _outline_now(self) -> QRect | None:
        """Where the brush outline belongs now (None: hidden)."""
        if not self._brush_outline_visible():
            return None
        return painting.brush_outline_rect(self._mouse, self._radius * self._view.zoom)

    def _update_brush_outline(self) -> None:
        """After a change: repaint just where the outline was drawn and where it goes now."""
        for rect in (self._outline_rect, self._outline_now()):
            if rect is not None:
                self.update(rect)

    def _refresh_cursor(self) -> None:
        shape = Qt.CursorShape.ArrowCursor
        if self.cache.source is not None:
            if self._drag == _PAN:
                shape = Qt.CursorShape.ClosedHandCursor
            elif self._drag == _SPLIT or (
                self._drag is None and self._mouse is not None and self._near_divider(self._mouse)
            ):
                shape = Qt.CursorShape.SplitHCursor
            elif (pin_shape := self._pin_cursor()) is not None:
                shape = pin_shape
            elif self._space_held or self._tool == Tool.PAN:
                shape = Qt.CursorShape.OpenHandCursor
            elif self._brush_outline_visible():
                shape = Qt.CursorShape.BlankCursor
            else:
                shape = Qt.CursorShape.CrossCursor
        if self.cursor().shape() != shape:
            self.setCursor(shape)
