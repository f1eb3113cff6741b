"""Shared helpers of the image I/O tests (a plain module, imported by name)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------- helpers


def rgb8(h: int = 24, w: int = 32) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def rgb16(h: int = 24, w: int = 32) -> np.ndarray:
    return RNG.integers(0, 65536, (h, w, 3), dtype=np.uint16)


def smooth8(h: int = 48, w: int = 64) -> np.ndarray:
    """A gradient JPEG compresses almost losslessly (random noise would not)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)]).astype(
        np.uint8
    )


def make_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x013B] = "Ansel Adams"  # Artist
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "1941:10:31 16:00:00"  # DateTimeOriginal
    return exif


def parsed(meta_exif: bytes | None) -> Image.Exif:
    assert meta_exif is not None
    assert meta_exif.startswith(b"Exif\x00\x00")
    exif = Image.Exif()
    exif.load(meta_exif)
    return exif


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, asserting each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + length
    return out


def insert_after_ihdr(png: bytes, *chunks: bytes) -> bytes:
    return png[:33] + b"".join(chunks) + png[33:]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())

