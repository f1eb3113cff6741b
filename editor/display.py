"""Turning document pixels into something Qt can paint.

16-bit images are reduced to 8 bits here, for the screen only: the document, the engine
and saved files keep every bit.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_8bit(channel_data: np.ndarray) -> np.ndarray:
    """uint8 as is; uint16 (and bool masks) scaled to 0..255 with rounding."""
    if channel_data.dtype == np.uint8:
        return channel_data
    if channel_data.dtype == np.bool_:
        return channel_data.astype(np.uint8) * 255
    if channel_data.dtype == np.uint16:
        # x * 255 / 65535, rounded, in integers: exact for 257·k -> k and keeps 0 and 65535.
        wide = channel_data.astype(np.uint32) * 255 + 32767
        return (wide // 65535).astype(np.uint8)
    raise ValueError(f"cannot display pixels of type {channel_data.dtype}")


def to_qimage(pixels: np.ndarray, alpha: np.ndarray | None = None) -> QImage:
    """An RGB(A) 8-bit QImage that owns a copy of the data (independent of `pixels`)."""
    height, width = pixels.shape[:2]
    rgb = to_8bit(pixels)
    if alpha is None:
        data = np.ascontiguousarray(rgb)
        image_format = QImage.Format.Format_RGB888
    else:
        data = np.empty((height, width, 4), np.uint8)
        data[..., :3] = rgb
        data[..., 3] = to_8bit(alpha)
        image_format = QImage.Format.Format_RGBA8888
    # QImage only borrows the buffer; copy() makes it own the pixels before `data` goes away.
    image = QImage(data.data, width, height, data.strides[0], image_format)
    return image.copy()
