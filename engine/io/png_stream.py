"""A streaming PNG encoder: 8- and 16-bit grey, grey + alpha, RGB and RGBA, with ICC and
EXIF, written a strip of rows at a time.

Pillow's encoder wants a whole `Image` (its RGB takes 4 bytes a pixel: a 400 MB copy of a
100-megapixel scan) and OpenCV's a BGR copy plus the whole encoded file in memory; this one
needs 256 KB of rows and their filtered forms (~6 MB) at a time. Rows are filtered the way
libpng and Pillow choose by default (each row takes whichever of the five PNG filters gives
the smallest sum of absolute values) and deflated at zlib level 6, so the files are about
the size Pillow writes.
"""

from __future__ import annotations

import struct
import zlib
from typing import IO

import numpy as np

from engine.io.metadata import PNG_SIGNATURE, png_chunk, strip_exif_header

_STRIP_BYTES = 256 << 10  # raw row bytes filtered at a time (the int16 work is ~20× this)
_IDAT_BYTES = 1 << 20  # compressed bytes a chunk collects before it is written
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type


def _strip(
    pixels: np.ndarray, alpha: np.ndarray | None, top: int, bottom: int, widen: bool
) -> np.ndarray:
    """Rows top..bottom as PNG samples: H × row bytes, uint8 (16 bits big-endian)."""
    rows = pixels[top:bottom]
    if rows.ndim == 2:
        rows = rows[:, :, None]
        if widen:  # 16-bit grey + alpha is written as RGBA, as it always was
            rows = np.repeat(rows, 3, axis=2)
    if alpha is not None:
        rows = np.concatenate([rows, alpha[top:bottom, :, None]], axis=2)
    if rows.dtype == np.uint16:
        rows = rows.astype(">u2")
    rows = np.ascontiguousarray(rows)
    return rows.view(np.uint8).reshape(bottom - top, -1)


def filter_rows(raw: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    """Each row of `raw` (H × N bytes) led by its filter type and filtered by it, the
    filter chosen per row by the smallest sum of absolute (signed) values; `previous` is
    the row above the first (zeros above the image), `bpp` the bytes of a pixel."""
    height, width = raw.shape
    cur = raw.astype(np.int16)
    up = np.empty_like(cur)
    up[0] = previous
    up[1:] = cur[:-1]
    left = np.zeros_like(cur)
    left[:, bpp:] = cur[:, :-bpp]
    upleft = np.zeros_like(cur)
    upleft[:, bpp:] = up[:, :-bpp]
    predictor = left + up - upleft
    pa, pb, pc = np.abs(predictor - left), np.abs(predictor - up), np.abs(predictor - upleft)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    del predictor, pa, pb, pc
    candidates = np.stack([cur, cur - left, cur - up, cur - ((left + up) >> 1), cur - paeth])
    del cur, left, upleft, paeth
    filtered = candidates.astype(np.uint8)  # modulo 256
    del candidates
    cost = np.abs(filtered.view(np.int8), dtype=np.int16).sum(axis=2, dtype=np.int64)
    best = cost.argmin(axis=0)
    out = np.empty((height, width + 1), np.uint8)
    out[:, 0] = best
    out[:, 1:] = filtered[best, np.arange(height)]
    return out


def write_png(
    fh: IO[bytes],
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc: bytes | None,
    exif: bytes | None,
    level: int = 6,
) -> None:
    """Write `pixels` (H×W grey or H×W×3 RGB, uint8 or uint16) and `alpha` (H×W, the same
    dtype, or None) as a PNG to `fh`, with an ``iCCP`` and an ``eXIf`` chunk when given."""
    height, width = pixels.shape[:2]
    depth = 16 if pixels.dtype == np.uint16 else 8
    widen = pixels.ndim == 2 and alpha is not None and depth == 16
    channels = (3 if widen or pixels.ndim == 3 else 1) + (alpha is not None)
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOUR_TYPES[channels], 0, 0, 0)
    fh.write(PNG_SIGNATURE + png_chunk(b"IHDR", header))
    if icc:
        fh.write(png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc)))
    if exif:
        fh.write(png_chunk(b"eXIf", strip_exif_header(exif)))
    bpp = channels * depth // 8
    step = max(1, _STRIP_BYTES // (width * bpp))
    previous = np.zeros(width * bpp, np.uint8)
    compressor = zlib.compressobj(level)
    pending = bytearray()
    for top in range(0, height, step):
        raw = _strip(pixels, alpha, top, min(height, top + step), widen)
        pending += compressor.compress(filter_rows(raw, previous, bpp))
        previous = raw[-1].copy()
        if len(pending) >= _IDAT_BYTES:
            fh.write(png_chunk(b"IDAT", bytes(pending)))
            pending.clear()
    pending += compressor.flush()
    fh.write(png_chunk(b"IDAT", bytes(pending)))
    fh.write(png_chunk(b"IEND", b""))
