"""EXIF, ICC and PNG-chunk helpers shared by the reader and the writer.

Nothing here touches the file system; every function works on bytes, arrays or Pillow objects.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageCms

ORIENTATION_TAG = 0x0112
EXIF_IFD_TAG = 0x8769
GPS_IFD_TAG = 0x8825
INTEROP_IFD_TAG = 0xA005
PIXEL_X_DIMENSION_TAG = 0xA002
PIXEL_Y_DIMENSION_TAG = 0xA003
X_RESOLUTION_TAG, Y_RESOLUTION_TAG, RESOLUTION_UNIT_TAG = 282, 283, 296

# IFD0 tags that describe how a TIFF stores its pixels (or bulky private blobs). They are
# meaningless, or wrong, once copied into another file's EXIF, so they are dropped.
_STRUCTURAL_TAGS = frozenset(
    {
        254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 277, 278, 279, 280, 281,
        284, 288, 289, 290, 291, 292, 293, 317, 318, 319, 320, 321, 322, 323, 324, 325, 330,
        332, 338, 339, 340, 341, 347, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531,
        532, 700, 34377, 34675, 37724, 50838, 50839,
    }
)  # fmt: skip

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


# --------------------------------------------------------------------------- orientation


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Return ``array`` (H x W or H x W x C) turned upright for an EXIF orientation value.

    Values outside 2..8 (including 1 and unknown values) leave the array unchanged. The result
    is a view; callers make it contiguous.
    """
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, -1)
    if orientation == 7:
        return array[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(array, 1)
    return array


def orientation_of(exif: Image.Exif) -> int:
    """The EXIF orientation value (1..8), 1 when absent or unreadable."""
    value = exif.get(ORIENTATION_TAG, 1)
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


# --------------------------------------------------------------------------- EXIF


def parse_exif(raw: bytes | None) -> Image.Exif:
    """Parse a raw EXIF block (with or without the ``Exif\\0\\0`` header); empty on failure."""
    exif = Image.Exif()
    if raw:
        try:
            exif.load(raw)
        except Exception:  # corrupt EXIF must not cost the user the picture
            return Image.Exif()
    return exif


def xmp_orientation(info: Mapping[str, Any]) -> int | None:
    """The ``tiff:Orientation`` of an XMP packet in a Pillow ``info`` dict, if any."""
    for key in ("XML:com.adobe.xmp", "xmp"):
        packet = info.get(key)
        if isinstance(packet, str):
            packet = packet.encode("utf-8", "replace")
        if isinstance(packet, bytes):
            match = _XMP_ORIENTATION.search(packet)
            if match:
                return int(match.group(1))
    return None


def clean_exif(
    exif: Image.Exif, *, size: tuple[int, int] | None = None, drop_structural: bool = True
) -> Image.Exif:
    """A fresh ``Exif`` with the descriptive tags of ``exif``, ready to embed in another file.

    The orientation tag, when present, is set to 1; TIFF storage tags, the ICC and XMP tags and
    Photoshop blobs are dropped when ``drop_structural``; the Exif, GPS and Interop sub-IFDs are
    copied; ``PixelXDimension``/``PixelYDimension`` are updated to ``size`` (width, height)
    when given and present; resolution tags with unit 1 ("none", a TIFF writer's placeholder)
    are dropped. The IFD1 thumbnail is not kept (it would show the old pixels).
    """
    out = Image.Exif()
    out.endian = exif.endian or "<"
    for tag, value in exif.items():
        if tag in (EXIF_IFD_TAG, GPS_IFD_TAG) or (drop_structural and tag in _STRUCTURAL_TAGS):
            continue
        out[tag] = value
    if ORIENTATION_TAG in out:
        out[ORIENTATION_TAG] = 1
    if out.get(RESOLUTION_UNIT_TAG) == 1:  # "no unit": a TIFF writer's placeholder, no DPI
        for tag in (X_RESOLUTION_TAG, Y_RESOLUTION_TAG, RESOLUTION_UNIT_TAG):
            out.pop(tag, None)
    for ifd_tag in (EXIF_IFD_TAG, GPS_IFD_TAG):
        try:
            sub = dict(exif.get_ifd(ifd_tag))
        except Exception:
            continue
        if ifd_tag == EXIF_IFD_TAG:
            if INTEROP_IFD_TAG in sub:
                try:
                    interop = dict(exif.get_ifd(INTEROP_IFD_TAG))
                except Exception:
                    interop = {}
                if interop:
                    sub[INTEROP_IFD_TAG] = interop
                else:
                    del sub[INTEROP_IFD_TAG]
            if size is not None:
                if PIXEL_X_DIMENSION_TAG in sub:
                    sub[PIXEL_X_DIMENSION_TAG] = int(size[0])
                if PIXEL_Y_DIMENSION_TAG in sub:
                    sub[PIXEL_Y_DIMENSION_TAG] = int(size[1])
        if sub:
            out[ifd_tag] = sub
    return out


def exif_to_bytes(exif: Image.Exif) -> bytes | None:
    """``exif.tobytes()``, or ``None`` when it is empty or cannot be serialised."""
    if len(exif) == 0:
        return None
    try:
        return exif.tobytes()
    except Exception:
        # One exotic tag must not lose the rest: retry with IFD0 alone, then give up.
        try:
            bare = Image.Exif()
            for tag, value in exif.items():
                if not isinstance(value, dict):
                    bare[tag] = value
            return bare.tobytes() if len(bare) else None
        except Exception:
            return None


def strip_exif_header(raw: bytes) -> bytes:
    """The TIFF-structured EXIF payload, without a leading ``Exif\\0\\0``."""
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw


# --------------------------------------------------------------------------- ICC


def icc_colour_space(icc: bytes | None) -> str | None:
    """The data colour space of an ICC profile (``"RGB"``, ``"GRAY"``, ``"CMYK"``...), if valid."""
    if not icc or len(icc) < 128 or icc[36:40] != b"acsp":
        return None
    return icc[16:20].decode("latin-1").strip()


def icc_matches(icc: bytes | None, grayscale: bool) -> bool:
    """Whether ``icc`` may be embedded with pixels that are gray (``True``) or RGB (``False``)."""
    return icc_colour_space(icc) == ("GRAY" if grayscale else "RGB")


@functools.lru_cache(maxsize=1)
def srgb_profile_bytes() -> bytes:
    """Bytes of a built-in sRGB ICC profile (LittleCMS's)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


# --------------------------------------------------------------------------- PNG chunks


def png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type + data."""
    crc = zlib.crc32(chunk_type + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def iter_png_chunks(png: bytes) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(type, start, end)`` of every chunk; ``png[start:end]`` is the chunk's data.

    Stops at ``IEND`` or at the first chunk that runs past the end of ``png``.
    """
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length, chunk_type = struct.unpack(">I4s", png[pos : pos + 8])
        start = pos + 8
        end = start + length
        if end + 4 > len(png):
            return
        yield chunk_type, start, end
        if chunk_type == b"IEND":
            return
        pos = end + 4


def png_header(head: bytes) -> tuple[int, int, int, int] | None:
    """``(width, height, bit_depth, colour_type)`` from a PNG's first 26 bytes, else ``None``."""
    if len(head) < 26 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    return width, height, depth, colour


def webp_size(head: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a WebP's first 30 bytes (VP8X, VP8 or VP8L), else ``None``.

    Lets the pixel limit be checked before libwebp, which allocates its canvas on open.
    """
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def png_find_chunk(png: bytes, chunk_type: bytes) -> bytes | None:
    """The data of the first chunk of ``chunk_type``, or ``None``."""
    for found, start, end in iter_png_chunks(png):
        if found == chunk_type:
            return png[start:end]
    return None


def png_add_metadata(png: bytes, *, icc: bytes | None, exif: bytes | None) -> bytes:
    """Insert ``iCCP`` and ``eXIf`` chunks right after ``IHDR`` of an encoded PNG.

    Chunks of the same kind already present are replaced; an ``sRGB`` chunk is dropped when
    an ICC profile is added (the PNG specification allows only one of them).
    """
    if not icc and not exif:
        return png
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG stream")
    extra = b""
    replaced: set[bytes] = set()
    if icc:
        extra += png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
        replaced |= {b"iCCP", b"sRGB"}
    if exif:
        extra += png_chunk(b"eXIf", strip_exif_header(exif))
        replaced.add(b"eXIf")
    parts = [PNG_SIGNATURE]
    for chunk_type, start, end in iter_png_chunks(png):
        if chunk_type in replaced:
            continue
        parts.append(png[start - 8 : end + 4])
        if chunk_type == b"IHDR":
            parts.append(extra)
    if len(parts) < 3 or parts[1][4:8] != b"IHDR":
        raise ValueError("PNG stream does not start with IHDR")
    return b"".join(parts)
