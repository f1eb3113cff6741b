"""The canvas's display cache: the source's pixels as paint-ready QImages, updated by region.

Every layer (composite, original, mask overlay) is a `Pyramid`: a native-endian uint32 numpy
buffer per level (level k is the image halved k times), each wrapped -- not copied -- by a QImage
in Format_RGB32 / Format_ARGB32_Premultiplied. A region update is a numpy slice assignment into
level 0 plus a 2×2 box reduction of the same (small) region into each smaller level, so its cost
follows the region's size, never the image's. Zoomed out, the painter draws from the level just
above the zoom, which is both smoother (no aliasing) and faster than sampling the full image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from editor.canvas.source import CanvasSource, Region, clip_region

RGB32 = QImage.Format.Format_RGB32
ARGB32_PM = QImage.Format.Format_ARGB32_Premultiplied
MIN_LEVEL_SIDE = 512  # stop halving once the longer side is this small
TILE = 256  # granularity of the "does the mask overlay have anything in it" bookkeeping
_FULL_REBUILD_FRACTION = (
    0.25  # a region larger than this share of the image rebuilds levels with Qt
)


def _qimage_to_u32(image: QImage) -> np.ndarray:
    """A numpy VIEW of a 32-bit QImage's pixels as (h, w) uint32: valid while `image` lives."""
    h, w, bpl = image.height(), image.width(), image.bytesPerLine()
    flat = np.frombuffer(image.constBits(), np.uint32, count=h * bpl // 4)
    return flat.reshape(h, bpl // 4)[:, :w]


def write_rgb8(base: np.ndarray, y0: int, x0: int, rgb: np.ndarray) -> None:
    """Store h×w×3 uint8 RGB into RGB32 `base` ((H, W) uint32) at (y0, x0) in one pass: Qt
    converts straight into the buffer (fast, and endian-safe: RGB32 is 0xFFRRGGBB)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected h×w×3 uint8 pixels, got {rgb.shape} {rgb.dtype}")
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    pixels = QImage(rgb, w, h, w * 3, QImage.Format.Format_RGB888)
    # A fresh wrapper each time: painting on an unshared QImage over `base` writes into `base`.
    target = QImage(base, base.shape[1], base.shape[0], base.shape[1] * 4, RGB32)
    painter = QPainter(target)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
    painter.drawImage(QPoint(x0, y0), pixels)
    painter.end()


def _reduce_into(src: np.ndarray, dst: np.ndarray, region: Region) -> None:
    """dst[region] = the 2×2 box average of src over the matching (doubled) region."""
    y0, y1, x0, x1 = region
    src8 = src.view(np.uint8).reshape(src.shape[0], src.shape[1], 4)
    block = src8[2 * y0 : 2 * y1, 2 * x0 : 2 * x1]
    if block.shape[0] < 2 * (y1 - y0):  # odd edge: repeat the last row / column
        block = np.concatenate([block, block[-1:]], axis=0)
    if block.shape[1] < 2 * (x1 - x0):
        block = np.concatenate([block, block[:, -1:]], axis=1)
    wide = block.astype(np.uint16)
    total = wide[0::2, 0::2] + wide[1::2, 0::2] + wide[0::2, 1::2] + wide[1::2, 1::2]
    dst8 = dst.view(np.uint8).reshape(dst.shape[0], dst.shape[1], 4)
    dst8[y0:y1, x0:x1] = ((total + 2) >> 2).astype(np.uint8)


class Pyramid:
    """One layer at full size and halved sizes; `images[k]` wraps `levels[k]` without a copy."""

    def __init__(self, width: int, height: int, image_format: QImage.Format) -> None:
        self.width, self.height, self.format = width, height, image_format
        self.levels: list[np.ndarray] = []
        self.images: list[QImage] = []
        w, h = width, height
        while True:
            buf = np.zeros((h, w), np.uint32)  # calloc: untouched pages cost no memory
            self.levels.append(buf)
            self.images.append(QImage(buf, w, h, w * 4, image_format))
            if max(w, h) <= MIN_LEVEL_SIDE:
                break
            w, h = (w + 1) // 2, (h + 1) // 2

    @property
    def base(self) -> np.ndarray:
        return self.levels[0]

    def level_for(self, zoom: float) -> int:
        """The smallest level that still has at least one pixel per screen pixel."""
        k = 0
        while k + 1 < len(self.levels) and zoom * (1 << (k + 1)) <= 1.0:
            k += 1
        return k

    def refresh_levels(self, region: Region | None = None) -> None:
        """Recompute the smaller levels over `region` (None = all) from level 0."""
        y0, y1, x0, x1 = region or (0, self.height, 0, self.width)
        if (y1 - y0) * (x1 - x0) > _FULL_REBUILD_FRACTION * self.width * self.height:
            self._rebuild_levels_with_qt()
            return
        for k in range(1, len(self.levels)):
            dst = self.levels[k]
            y0, x0 = y0 // 2, x0 // 2
            y1, x1 = min(dst.shape[0], (y1 + 1) // 2), min(dst.shape[1], (x1 + 1) // 2)
            _reduce_into(self.levels[k - 1], dst, (y0, y1, x0, x1))

    def _rebuild_levels_with_qt(self) -> None:
        ignore, smooth = (
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        for k in range(1, len(self.levels)):
            dst = self.levels[k]
            scaled = self.images[k - 1].scaled(dst.shape[1], dst.shape[0], ignore, smooth)
            if scaled.format() != self.format:
                scaled = scaled.convertToFormat(self.format)
            dst[:] = _qimage_to_u32(scaled)


def overlay_lut(color: QColor, opacity: float) -> np.ndarray:
    """mask value (0..255) -> premultiplied ARGB32 pixel of `color` at alpha = mask · opacity."""
    alpha = np.round(np.arange(256) * float(np.clip(opacity, 0.0, 1.0))).astype(np.uint32)
    r, g, b = ((c * alpha + 127) // 255 for c in (color.red(), color.green(), color.blue()))
    return ((alpha << 24) | (r << 16) | (g << 8) | b).astype(np.uint32)


class DisplayCache:
    """Paint-ready copies of a `CanvasSource`: composite, mask overlay and (lazily) original."""

    def __init__(self) -> None:
        self.source: CanvasSource | None = None
        self.composite: Pyramid | None = None
        self.overlay: Pyramid | None = None
        self._original: Pyramid | None = None
        self._original_stale = True
        self._lut = overlay_lut(QColor(255, 0, 0), 0.5)
        self._occupied = np.zeros((0, 0), bool)  # per TILE×TILE tile: any mask pixel > 0

    @property
    def width(self) -> int:
        return self.composite.width if self.composite else 0

    @property
    def height(self) -> int:
        return self.composite.height if self.composite else 0

    @property
    def overlay_has_content(self) -> bool:
        return bool(self._occupied.any())

    def set_source(self, source: CanvasSource | None) -> None:
        """Build every cache from `source` (None empties it). Buffers of the same size are
        reused (an "all" update, or another document of the same size)."""
        size = None if source is None else (int(source.width), int(source.height))
        reuse = size is not None and size == (self.width, self.height)
        self.source, self._original_stale = source, True
        if not reuse:
            self.composite = self.overlay = self._original = None
            self._occupied = np.zeros((0, 0), bool)
        if size is None:
            return
        w, h = size
        if not reuse:
            self.composite = Pyramid(w, h, RGB32)
            self.overlay = Pyramid(w, h, ARGB32_PM)
            self._occupied = np.zeros(((h + TILE - 1) // TILE, (w + TILE - 1) // TILE), bool)
        self.update("pixels", None)
        self._update_overlay((0, h, 0, w), fresh=not reuse)

    def set_overlay_style(self, color: QColor, opacity: float) -> None:
        self._lut = overlay_lut(color, opacity)
        if self.source is not None:
            self.update("mask", None)

    def original(self) -> Pyramid | None:
        """The original's pyramid, built on first use (only before/after needs it)."""
        if self.source is None:
            return None
        if self._original is None:
            self._original = Pyramid(self.width, self.height, RGB32)
        if self._original_stale:
            whole = (0, self.height, 0, self.width)
            self._read_rgb(self.source.original_rgb8, whole, self._original)
            self._original_stale = False
        return self._original

    def update(self, kind: str, region: Region | None) -> Region | None:
        """Re-read `region` of "pixels" or "mask" from the source; returns what was rewritten."""
        if self.source is None or self.composite is None or self.overlay is None:
            return None
        clipped = clip_region(region, self.width, self.height)
        if clipped is None:
            return None
        if kind == "pixels":
            self._read_rgb(self.source.composite_rgb8, clipped, self.composite)
        elif kind == "mask":
            self._update_overlay(clipped)
        else:
            raise ValueError(f"unknown update kind {kind!r} (expected 'pixels' or 'mask')")
        return clipped

    def _read_rgb(
        self, read: Callable[[Region | None], np.ndarray], region: Region, layer: Pyramid
    ) -> None:
        """`layer` over `region` = `read(region)` (None when it is the whole image)."""
        y0, y1, x0, x1 = region
        whole = region == (0, self.height, 0, self.width)
        rgb = np.asarray(read(None if whole else region))
        if rgb.shape[:2] != (y1 - y0, x1 - x0):
            raise ValueError(f"source returned {rgb.shape[:2]} pixels for region {region}")
        write_rgb8(layer.base, y0, x0, rgb)
        layer.refresh_levels(region)

    def _update_overlay(self, region: Region, fresh: bool = False) -> None:
        """Rewrite the overlay over `region` from the mask; `fresh`: the buffers are still zero."""
        mask = np.asarray(self.source.mask)
        if mask.shape != (self.height, self.width):
            raise ValueError(f"mask is {mask.shape}, the image is {(self.height, self.width)}")
        if mask.dtype != np.uint8:
            raise ValueError(f"the mask must be uint8 0..255, not {mask.dtype}")
        y0, y1, x0, x1 = region
        ty0, ty1 = y0 // TILE, (y1 + TILE - 1) // TILE
        tx0, tx1 = x0 // TILE, (x1 + TILE - 1) // TILE
        base, wrote = self.overlay.base, False
        # Tile by tile: empty tiles (most of a typical mask) are a cheap any() and a zero fill.
        for ty in range(ty0, ty1):
            for tx in range(tx0, tx1):
                ya, yb = max(y0, ty * TILE), min(y1, (ty + 1) * TILE)
                xa, xb = max(x0, tx * TILE), min(x1, (tx + 1) * TILE)
                part = mask[ya:yb, xa:xb]
                has = bool(part.any())
                if has:
                    base[ya:yb, xa:xb] = self._lut[part]
                    wrote = True
                elif not fresh:
                    base[ya:yb, xa:xb] = 0
                tile = mask[ty * TILE : (ty + 1) * TILE, tx * TILE : (tx + 1) * TILE]
                self._occupied[ty, tx] = has if tile.shape == part.shape else bool(tile.any())
        if wrote or not fresh:
            self.overlay.refresh_levels(region)
