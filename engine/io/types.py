"""Public data types and constants of :mod:`engine.io`."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

DEFAULT_MAX_PIXELS: int = 300_000_000
"""Decompression-bomb guard: images with more pixels than this are refused (well above 100 MP)."""

SUPPORTED_READ_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
)
"""File-name suffixes (lower case, with the dot) of the formats :func:`read_image` decodes."""

SUPPORTED_WRITE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)
"""File-name suffixes (lower case, with the dot) of the formats :func:`write_image` encodes
(GIF is read, first frame only, but not written: 256 colours would spoil a restoration)."""


@dataclass(frozen=True)
class ImageMeta:
    """What a photographer cares about beyond the pixels, as found in the source file.

    Attributes:
        source_format: ``"PNG"``, ``"JPEG"``, ``"TIFF"``, ``"BMP"``, ``"WEBP"`` or ``"GIF"``.
        source_mode: what the file held, in Pillow's spelling where Pillow has one:
            ``"RGB"``, ``"RGBA"``, ``"L"``, ``"LA"``, ``"P"``, ``"CMYK"``, ``"1"``, ``"I;16"``;
            16-bit colour files read outside Pillow are ``"RGB;16"``, ``"RGBA;16"``, ``"LA;16"``.
        bit_depth: 8 or 16 bits per channel of the returned pixels.
        was_grayscale: the source had a single colour channel (``L``, ``LA``, ``I;16``, ``1``).
        exif: the raw EXIF block as ``PIL.Image.Exif.tobytes()`` gives it (starts with
            ``b"Exif\\0\\0"``), with the orientation tag reset to 1 because the pixels are
            returned upright; ``None`` when the source had no EXIF.
        icc_profile: the embedded ICC profile, or ``None``. After a CMYK to RGB conversion
            through the file's own profile this is an sRGB profile (which then describes the
            pixels); after Pillow's plain CMYK conversion it is ``None``.
    """

    source_format: str
    source_mode: str
    bit_depth: int
    was_grayscale: bool
    exif: bytes | None = None
    icc_profile: bytes | None = None


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A decoded image, upright, with its metadata.

    Attributes:
        pixels: H x W x 3 RGB, ``uint8`` or ``uint16`` (``uint16`` iff ``meta.bit_depth == 16``),
            C-contiguous and writeable (owned by the caller).
        alpha: H x W, same dtype as ``pixels``, or ``None`` when the source had no alpha
            channel and no transparency.
        meta: where the pixels came from.

    Equality is identity (``eq=False``): comparing arrays element-wise is the caller's choice.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None
    meta: ImageMeta

    @property
    def height(self) -> int:
        """Number of pixel rows."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Number of pixel columns."""
        return int(self.pixels.shape[1])


def is_supported_image_path(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a file :func:`read_image` would try, judged by suffix only.

    The comparison is case-insensitive (``IMG_0001.JPG`` counts). The file is not opened, so
    this is cheap enough to filter whole folders.
    """
    name = os.fspath(path)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    _, suffix = os.path.splitext(name)
    return suffix.lower() in SUPPORTED_READ_SUFFIXES
