"""Decoding an 8-bit PNG a band of rows at a time, straight into the result's arrays.

Pillow decodes a whole PNG into its own storage (RGB at 4 bytes a pixel) before numpy gets
a copy: a 100-megapixel scan took 400 + 300 MB at once. Here the IDAT stream is inflated a
band of rows (~4 MB) at a time and each band is decoded by Pillow from a small PNG of its
own: the band's filtered rows after the unfiltered row above them (filter None), which is
all the PNG filters of the band's first row look at. The peak is the result plus a band.

Only non-interlaced 8-bit grey, grey + alpha, RGB and RGBA without a ``tRNS`` chunk take
this path; anything else, and any file this path finds damaged (cut short, bad deflate
data, a bad filter type), gets None and goes the whole-image way, which says what is wrong.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from engine.io.metadata import PNG_SIGNATURE, png_chunk

BAND_BYTES = 4 << 20  # filtered bytes decoded at a time
_READ_BYTES = 1 << 20
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class _Damaged(Exception):
    """Something the whole-image path should report in its own words."""


def bandable(head: bytes, info: dict) -> bool:
    """Whether this path reads the PNG whose first 32 bytes are `head`."""
    depth, colour, interlace = head[24], head[25], head[28]
    return depth == 8 and colour in _CHANNELS and interlace == 0 and "transparency" not in info


def _chunks(fh, size: int) -> tuple[list[tuple[int, int]], bytes | None]:
    """The (offset, length) of every IDAT chunk and the first eXIf chunk's data, found by
    seeking from chunk header to chunk header."""
    idat: list[tuple[int, int]] = []
    exif = None
    position = len(PNG_SIGNATURE)
    while True:
        fh.seek(position)
        header = fh.read(8)
        if len(header) < 8:
            raise _Damaged("no IEND")
        length, kind = struct.unpack(">I4s", header)
        if position + 12 + length > size:
            raise _Damaged("cut short")
        if kind == b"IDAT":
            idat.append((position + 8, length))
        elif kind == b"eXIf" and exif is None:
            exif = fh.read(length)
        elif kind == b"IEND":
            return idat, exif
        position += 12 + length


class _Bands:
    """Decodes filtered rows, a band at a time, into `rgb` (and `alpha`)."""

    def __init__(self, width: int, height: int, colour: int) -> None:
        self.width, self.height, self.colour = width, height, colour
        self.row = 1 + width * _CHANNELS[colour]
        self.rgb = np.empty((height, width, 3), np.uint8)
        self.alpha = np.empty((height, width), np.uint8) if colour in (4, 6) else None
        self.above: bytes | None = None  # the last decoded row's samples
        self.y = 0

    def decode(self, filtered: bytes) -> None:
        count = min(len(filtered) // self.row, self.height - self.y)
        if count <= 0:
            return
        head = b"" if self.above is None else b"\x00" + self.above
        rows = count + (self.above is not None)
        ihdr = struct.pack(">IIBBBBB", self.width, rows, 8, self.colour, 0, 0, 0)
        data = zlib.compress(head + filtered[: count * self.row], 0)
        small = PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", data)
        with Image.open(io.BytesIO(small + png_chunk(b"IEND", b""))) as im:
            im.load()
            band = np.asarray(im)[rows - count :]
        self.above = band[-1].tobytes()
        if band.ndim == 2:
            band = band[:, :, None]
        colours = band.shape[2] - (self.alpha is not None)
        target = self.rgb[self.y : self.y + count]
        target[...] = band[:, :, :colours] if colours == 3 else band[:, :, :1]
        if self.alpha is not None:
            self.alpha[self.y : self.y + count] = band[:, :, -1]
        self.y += count


def read_bands(
    file: Path, size: tuple[int, int], colour: int
) -> tuple[np.ndarray, np.ndarray | None, bytes | None] | None:
    """(RGB, alpha or None, the eXIf chunk's data or None) of a PNG that `bandable`
    accepted, or None when the file is damaged."""
    width, height = size
    bands = _Bands(width, height, colour)
    band = max(1, BAND_BYTES // bands.row) * bands.row
    inflater = zlib.decompressobj()
    pending = bytearray()
    try:
        with open(file, "rb") as fh:
            idat, exif = _chunks(fh, file.stat().st_size)
            for offset, length in idat:
                fh.seek(offset)
                while length > 0 and bands.y < height:
                    data = fh.read(min(length, _READ_BYTES))
                    if not data:
                        raise _Damaged("cut short")
                    length -= len(data)
                    while data and bands.y < height:  # inflated a band at most at a time
                        pending += inflater.decompress(data, band)
                        data = inflater.unconsumed_tail
                        if len(pending) >= band:
                            bands.decode(bytes(pending[:band]))
                            del pending[:band]
        bands.decode(bytes(pending))
    except (_Damaged, zlib.error, OSError, ValueError, SyntaxError):
        return None
    if bands.y < height:
        return None
    return bands.rgb, bands.alpha, exif
