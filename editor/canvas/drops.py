"""Dropping files on the canvas: it accepts local files only and hands their paths on."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPainter

from editor.canvas import painting


def local_paths(mime: QMimeData | None) -> list[str]:
    """The dropped files' paths, or [] unless every dragged URL is a local file."""
    if mime is None or not mime.hasUrls():
        return []
    urls = mime.urls()
    if not urls or not all(url.isLocalFile() for url in urls):
        return []
    return [url.toLocalFile() for url in urls]


class DropMixin:
    """CanvasView's drag-and-drop: emits `filesDropped(paths)`; the window opens them."""

    _drop_hover = False  # droppable files are over the canvas (a frame is drawn)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._accept_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._accept_drag(event)

    def _accept_drag(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            if not self._drop_hover:
                self._drop_hover = True
                self.update()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self._drop_hover = False
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_hover = False
        self.update()
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.filesDropped.emit(paths)

    def _paint_drop_frame(self, painter: QPainter) -> None:
        if self._drop_hover:
            painting.draw_drop_frame(painter, self.rect())
