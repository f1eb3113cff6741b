"""Drawing helpers for CanvasView.paintEvent: layers, the brush outline, the divider, labels."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF, QTransform

from editor.canvas.cache import Pyramid
from editor.canvas.geometry import ViewTransform

BACKGROUND = QColor(48, 48, 48)
INVITATION_COLOR = QColor(185, 185, 185)
ACCENT = QColor(90, 160, 255)
HANDLE_RADIUS = 11.0
PIN_RADIUS = 7.0  # a colour pin's radius in screen pixels, whatever the zoom


def draw_layer(
    painter: QPainter,
    pyramid: Pyramid,
    view: ViewTransform,
    rect: QRect,
    smooth: bool,
    pixel_ratio: float = 1.0,
) -> None:
    """Draw the part of `pyramid` that widget rect `rect` shows, from the level that suits the
    zoom (in device pixels: `pixel_ratio` of them per widget pixel) when `smooth` (bilinear),
    else from full size with nearest-neighbour sampling."""
    level = pyramid.level_for(view.zoom * pixel_ratio) if smooth else 0
    image, scale = pyramid.images[level], 1 << level
    visible = view.visible_region(
        rect.x(), rect.y(), rect.width(), rect.height(), scale, (image.width(), image.height())
    )
    if visible is None:
        return
    y0, y1, x0, x1 = visible
    s = view.zoom * scale
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
    painter.setWorldTransform(QTransform(s, 0.0, 0.0, s, view.ox, view.oy))
    part = QRectF(x0, y0, x1 - x0, y1 - y0)
    painter.drawImage(part, image, part)
    painter.restore()


def brush_outline_rect(center: QPointF, radius: float) -> QRect:
    """The widget area the brush outline at `center` covers (for partial repaints)."""
    r = radius + 4.0
    return QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r).toAlignedRect()


def draw_brush_outline(painter: QPainter, center: QPointF, radius: float, hardness: float) -> None:
    """A circle of the brush's on-screen radius, legible on light and dark pixels alike."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(0, 0, 0, 170), 3.0))
    painter.drawEllipse(center, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
    painter.drawEllipse(center, radius, radius)
    inner = radius * hardness
    if hardness < 0.95 and inner >= 3.0:  # where the soft edge starts
        pen = QPen(QColor(255, 255, 255, 150), 1.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawEllipse(center, inner, inner)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1.0))
    painter.drawPoint(center)
    painter.restore()


def draw_pin(painter: QPainter, centre: QPointF, rgb: tuple[int, int, int], selected: bool) -> None:
    """A colour pin: a disc of its colour in a white ring edged in black, so it shows on
    light and dark pixels alike; the selected one larger, in an accent ring."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    radius = PIN_RADIUS + (2.0 if selected else 0.0)
    if selected:
        painter.setPen(QPen(ACCENT, 3.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(centre, radius + 3.5, radius + 3.5)
    painter.setPen(QPen(QColor(0, 0, 0, 200), 4.0))
    painter.setBrush(QColor(*rgb))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255), 2.0))
    painter.drawEllipse(centre, radius, radius)
    painter.restore()


def draw_divider(painter: QPainter, x: int, height: int) -> None:
    """The before/after divider: a line, a round grip with two arrows, and the side labels."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(QColor(0, 0, 0, 140), 3.0))
    painter.drawLine(QPointF(x + 0.5, 0), QPointF(x + 0.5, height))
    painter.setPen(QPen(QColor(255, 255, 255), 1.0))
    painter.drawLine(QPointF(x + 0.5, 0), QPointF(x + 0.5, height))
    centre = QPointF(x + 0.5, height / 2.0)
    painter.setBrush(QColor(255, 255, 255))
    painter.setPen(QPen(QColor(0, 0, 0, 160), 1.5))
    painter.drawEllipse(centre, HANDLE_RADIUS, HANDLE_RADIUS)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(40, 40, 40))
    for direction in (-1.0, 1.0):
        tip = centre.x() + direction * 7.0
        base = centre.x() + direction * 2.5
        arrow = QPolygonF(
            [QPointF(tip, centre.y()), QPointF(base, centre.y() - 4), QPointF(base, centre.y() + 4)]
        )
        painter.drawPolygon(arrow)
    painter.restore()
    draw_tag(painter, QPointF(x - 8, 8), "Before", align_right=True)
    draw_tag(painter, QPointF(x + 9, 8), "After")


def draw_tag(painter: QPainter, at: QPointF, text: str, align_right: bool = False) -> None:
    """A small label on a dark rounded plate; `at` is its top-left (top-right if align_right)."""
    painter.save()
    font = QFont(painter.font())
    font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
    painter.setFont(font)
    metrics = painter.fontMetrics()
    w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 4
    left = at.x() - w if align_right else at.x()
    plate = QRectF(left, at.y(), w, h)
    path = QPainterPath()
    path.addRoundedRect(plate, 4, 4)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.fillPath(path, QColor(0, 0, 0, 150))
    painter.setPen(QColor(240, 240, 240))
    painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


def draw_empty(painter: QPainter, area: QRect, text: str) -> None:
    """The empty state: an invitation to drop a photo."""
    painter.save()
    painter.setPen(INVITATION_COLOR)
    font = QFont(painter.font())
    font.setPointSizeF(font.pointSizeF() * 1.3)
    painter.setFont(font)
    painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.restore()


def draw_drop_frame(painter: QPainter, area: QRect) -> None:
    """A highlighted frame while droppable files hover over the canvas."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(QPen(ACCENT, 2.0, Qt.PenStyle.DashLine))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(QRectF(area).adjusted(12, 12, -12, -12), 10, 10)
    painter.restore()
