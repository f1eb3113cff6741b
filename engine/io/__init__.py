"""Image reading and writing that keeps what a photographer cares about.

* :func:`read_image` gives upright RGB pixels (8 or 16 bits per channel), the alpha channel
  and the EXIF / ICC metadata of PNG, JPEG, TIFF, BMP and WebP files.
* :func:`write_image` writes them back atomically, keeping EXIF, ICC, alpha and 16 bits where
  the format allows.
* :func:`read_mask` reads an inpainting mask as a boolean array.
* What the reader worked around (damaged metadata, an animation's other frames) arrives as
  a one-line :class:`ReadNote` warning.

Every failure is an :class:`engine.errors.UnsupportedImage` (or :class:`ImageTooLarge`) on
reading and an :class:`engine.errors.ImageWriteError` on writing, with a one-line message
naming the file. Nothing here imports Qt or reads environment variables.
"""

from __future__ import annotations

from engine.io.guard import ReadNote
from engine.io.mask import read_mask
from engine.io.read import read_image
from engine.io.types import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_READ_SUFFIXES,
    SUPPORTED_WRITE_SUFFIXES,
    ImageMeta,
    LoadedImage,
    is_supported_image_path,
)
from engine.io.write import write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "SUPPORTED_READ_SUFFIXES",
    "SUPPORTED_WRITE_SUFFIXES",
    "ImageMeta",
    "LoadedImage",
    "ReadNote",
    "is_supported_image_path",
    "read_image",
    "read_mask",
    "write_image",
]
