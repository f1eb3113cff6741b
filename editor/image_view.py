"""The central canvas: one image in a QGraphicsScene, fitted to the window or zoomed.

A graphics scene rather than a QLabel because the layered editor will stack layers and a
mask brush on top of the image as further scene items.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

_ZOOM_STEP = 1.25
_MIN_SCALE = 0.01
_MAX_SCALE = 32.0


class ImageView(QGraphicsView):
    """Shows one image; fits it to the viewport until the user zooms with the wheel."""

    PLACEHOLDER = "Open an image (Ctrl+O) or drop one here"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self.setScene(self._scene)
        self._fit = True
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # Drops are handled by the main window; the view would otherwise swallow them.
        self.setAcceptDrops(False)
        self.viewport().setAcceptDrops(False)

    @property
    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    @property
    def fitting(self) -> bool:
        """True while the image follows the window's size."""
        return self._fit

    def set_image(self, image: QImage | None) -> None:
        """Show `image` (None clears the view). A new size re-fits; same size keeps the zoom,
        so the user can compare a task's result with what they were looking at."""
        old_size = self._item.pixmap().size()
        pixmap = QPixmap() if image is None else QPixmap.fromImage(image)
        self._item.setPixmap(pixmap)
        self._scene.setSceneRect(QRectF(pixmap.rect()))
        if pixmap.size() != old_size:
            self.fit()
        self.viewport().update()

    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Scale the whole image into the viewport and keep doing so on resize."""
        self._fit = True
        if self.has_image:
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def actual_size(self) -> None:
        """One image pixel per screen pixel."""
        self._fit = False
        self.resetTransform()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self.has_image:
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        factor = _ZOOM_STEP**steps
        new_scale = self.scale_factor() * factor
        if not _MIN_SCALE <= new_scale <= _MAX_SCALE:
            return
        self._fit = False
        self.scale(factor, factor)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self.has_image:
            return
        # Drawn in viewport coordinates so the hint stays centred whatever the transform.
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(180, 180, 180))
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.PLACEHOLDER)
        painter.restore()
