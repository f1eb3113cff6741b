"""Where the image sits in the canvas: widget = image · zoom + offset (no Qt in here)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from editor.canvas.source import Region

ZOOM_MIN = 0.01
ZOOM_MAX = 32.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch
SMOOTH_BELOW = 2.0  # smooth (bilinear) sampling below 200 %, nearest neighbour from there up
KEEP_VISIBLE = 64.0  # panning and zooming keep at least this many pixels of the image on screen
# zoom_in / zoom_out step through these (fractions below 100 %, round factors above).
ZOOM_LADDER = (
    *(1 / d for d in (64, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2)),
    2 / 3,
    *(1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0),
)


def next_zoom(zoom: float, up: bool) -> float:
    """The next ladder step above (or below) `zoom`, clamped to the zoom range."""
    if up:
        steps = [z for z in ZOOM_LADDER if z > zoom * 1.001]
        return min(steps[0], ZOOM_MAX) if steps else ZOOM_MAX
    steps = [z for z in ZOOM_LADDER if z < zoom / 1.001]
    return max(steps[-1], ZOOM_MIN) if steps else ZOOM_MIN


def clamp_zoom(zoom: float) -> float:
    return min(ZOOM_MAX, max(ZOOM_MIN, zoom))


@dataclass
class ViewTransform:
    """A uniform scale and a translation from image pixels to widget pixels."""

    zoom: float = 1.0
    ox: float = 0.0
    oy: float = 0.0

    def to_widget(self, x: float, y: float) -> tuple[float, float]:
        return x * self.zoom + self.ox, y * self.zoom + self.oy

    def to_image(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.ox) / self.zoom, (y - self.oy) / self.zoom

    def fit(self, image_w: int, image_h: int, view_w: int, view_h: int) -> None:
        """The whole image, as large as the view allows, centred."""
        if image_w <= 0 or image_h <= 0 or view_w <= 0 or view_h <= 0:
            return
        self.zoom = clamp_zoom(min(view_w / image_w, view_h / image_h))
        self.ox = (view_w - image_w * self.zoom) / 2.0
        self.oy = (view_h - image_h * self.zoom) / 2.0

    def zoom_about(self, zoom: float, wx: float, wy: float) -> None:
        """Change the zoom keeping the image point under widget point (wx, wy) where it is."""
        ix, iy = self.to_image(wx, wy)
        self.zoom = clamp_zoom(zoom)
        self.ox = wx - ix * self.zoom
        self.oy = wy - iy * self.zoom

    def pan(self, dx: float, dy: float) -> None:
        self.ox += dx
        self.oy += dy

    def clamp(self, image_w: int, image_h: int, view_w: int, view_h: int) -> None:
        """Keep some of the image on screen so it can never be lost off an edge."""
        self.ox = self._clamp_axis(self.ox, image_w * self.zoom, view_w)
        self.oy = self._clamp_axis(self.oy, image_h * self.zoom, view_h)

    @staticmethod
    def _clamp_axis(offset: float, size: float, view: float) -> float:
        keep = min(KEEP_VISIBLE, size, view)
        low, high = keep - size, view - keep
        return min(high, max(low, offset)) if low <= high else (low + high) / 2.0

    def image_rect(self, region: Region, margin: float = 0.0) -> tuple[int, int, int, int]:
        """Widget rect (x, y, w, h), integer and grown by `margin`, covering image `region`."""
        y0, y1, x0, x1 = region
        wx0, wy0 = self.to_widget(x0, y0)
        wx1, wy1 = self.to_widget(x1, y1)
        left, top = math.floor(wx0 - margin), math.floor(wy0 - margin)
        right, bottom = math.ceil(wx1 + margin), math.ceil(wy1 + margin)
        return left, top, right - left, bottom - top

    def visible_region(
        self, x: int, y: int, w: int, h: int, scale: int, limit: tuple[int, int], margin: int = 2
    ) -> Region | None:
        """The pixels of an image scaled down by `scale` (a pyramid level of size `limit` =
        (w, h)) that widget rect (x, y, w, h) shows, grown by `margin` level pixels so smooth
        sampling at the rect's edge has real neighbours; None when nothing is visible."""
        ix0, iy0 = self.to_image(x, y)
        ix1, iy1 = self.to_image(x + w, y + h)
        lx0 = max(0, math.floor(ix0 / scale) - margin)
        ly0 = max(0, math.floor(iy0 / scale) - margin)
        lx1 = min(limit[0], math.ceil(ix1 / scale) + margin)
        ly1 = min(limit[1], math.ceil(iy1 / scale) + margin)
        if lx0 >= lx1 or ly0 >= ly1:
            return None
        return ly0, ly1, lx0, lx1
