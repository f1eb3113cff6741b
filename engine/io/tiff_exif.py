"""EXIF for the 16-bit TIFFs that tifffile writes: IFD0 tags and the Exif / GPS sub-IFDs.

tifffile refuses the Exif and GPS pointer tags (34665, 34853) as extra tags, so the writer
goes in three steps:

1. :func:`ifd0_extratags` turns the EXIF's IFD0 tags into tifffile ``extratags`` (packed the
   way Pillow would write them) and adds a LONG placeholder tag for each sub-IFD, numbered
   one below the real pointer tag so that the IFD stays sorted once it is renamed.
2. tifffile writes the image, little-endian, with those tags in IFD0.
3. :func:`append_sub_ifds` appends the sub-IFDs (serialised by Pillow for their final file
   position, Interop IFD included) at the end of the file and turns each placeholder into the
   real pointer tag with the sub-IFD's offset. The caller writes into a temporary file, so a
   half-patched file is never seen.

Tags Pillow cannot encode (or tifffile cannot take) are left out one by one, never failing
the write.
"""

from __future__ import annotations

import os
import struct
from typing import IO, Any

import tifffile
from PIL import Image
from PIL.TiffImagePlugin import ImageFileDirectory_v2

from engine.io.metadata import EXIF_IFD_TAG, GPS_IFD_TAG, INTEROP_IFD_TAG

# Placeholder tag (unassigned in IFD0) -> pointer tag it becomes.
_PLACEHOLDERS = {EXIF_IFD_TAG: EXIF_IFD_TAG - 1, GPS_IFD_TAG: GPS_IFD_TAG - 1}
_IFH = b"II*\x00\x08\x00\x00\x00"  # little-endian classic TIFF, as tifffile is asked to write
_LONG, _ASCII = 4, 2
# TIFF type -> (struct code, numbers per value); BYTE and UNDEFINED travel as bytes.
_FORMATS = {
    3: ("H", 1),
    4: ("I", 1),
    5: ("I", 2),
    6: ("b", 1),
    8: ("h", 1),
    9: ("i", 1),
    10: ("i", 2),
    11: ("f", 1),
    12: ("d", 1),
}
_SIZES = {1: 1, 2: 1, 7: 1} | {
    typ: struct.calcsize(code) * n for typ, (code, n) in _FORMATS.items()
}
# Tags tifffile writes itself (or refuses), pointers, and the resolution (passed separately).
_NOT_IN_IFD0 = (
    set(tifffile.TIFF.TAG_FILTERED)
    | {254, 282, 283, 296, 34675, EXIF_IFD_TAG, GPS_IFD_TAG, INTEROP_IFD_TAG}
    | set(_PLACEHOLDERS.values())
)


def _entry(tag: int, value: Any) -> tuple[int, int, int | None, Any, bool]:
    """One IFD0 tag as a tifffile extratag, encoded by Pillow (so typed as Pillow would)."""
    ifd = ImageFileDirectory_v2(_IFH)
    if isinstance(value, str):  # Pillow decodes TIFF ASCII as Latin-1: back byte for byte
        ifd.tagtype[tag] = _ASCII
        value = value.encode("latin-1", "replace")
    ifd[tag] = value
    blob = ifd.tobytes(0)
    _, typ, count, field = struct.unpack_from("<HHL4s", blob, 2)
    size = _SIZES[typ] * count  # KeyError for types tifffile cannot take: tag skipped
    if size <= 4:
        data = field[:size]
    else:
        (position,) = struct.unpack("<L", field)
        data = blob[position : position + size]
    if len(data) != size or count == 0:
        raise ValueError(f"tag {tag}: cannot encode {value!r}")
    if typ in _FORMATS:  # tifffile miscounts packed rationals: give it the numbers instead
        code, per = _FORMATS[typ]
        return tag, typ, count, struct.unpack(f"<{count * per}{code}", data), True
    return tag, typ, None, data, True


def sub_ifds(exif: Image.Exif | None) -> dict[int, dict[int, Any]]:
    """The Exif and GPS sub-IFDs of ``exif`` (a :func:`clean_exif` result), writable ones only.

    Tags Pillow cannot serialise are left out one by one; a sub-IFD left empty is dropped.
    """
    out: dict[int, dict[int, Any]] = {}
    if exif is None:
        return out
    for tag in _PLACEHOLDERS:
        try:
            sub = exif.get(tag)
            sub = dict(sub) if isinstance(sub, dict) else dict(exif.get_ifd(tag))
        except Exception:
            continue
        kept = {}
        for key, value in sub.items():
            try:
                _serialise(tag, {key: value}, 0)
            except Exception:
                continue
            kept[key] = value
        try:
            _serialise(tag, kept, 0)
        except Exception:  # fine one by one, not together: leave the sub-IFD out
            continue
        if kept:
            out[tag] = kept
    return out


def ifd0_extratags(exif: Image.Exif | None, subs: dict[int, dict[int, Any]]) -> list[tuple]:
    """tifffile ``extratags``: the writable IFD0 tags of ``exif`` plus a placeholder per sub-IFD."""
    tags: list[tuple] = []
    if exif is not None:
        for tag, value in sorted(exif.items()):
            if tag in _NOT_IN_IFD0 or isinstance(value, dict):
                continue
            try:
                tags.append(_entry(tag, value))
            except Exception:  # one exotic tag must not cost the others
                continue
    tags.extend((_PLACEHOLDERS[tag], "I", 1, 0, True) for tag in subs)
    return tags


def _serialise(tag: int, sub: dict[int, Any], offset: int) -> bytes:
    ifd = ImageFileDirectory_v2(_IFH, group=tag)
    for key, value in sub.items():
        ifd[key] = value
    return ifd.tobytes(offset)


def append_sub_ifds(fh: IO[bytes], start: int, subs: dict[int, dict[int, Any]]) -> None:
    """Append ``subs`` to the TIFF that tifffile wrote at ``start`` of ``fh`` (readable and
    seekable) and turn the IFD0 placeholders into pointers at them; ``fh`` is left at the end.

    A sub-IFD whose placeholder is not there as written (or that would push the file past
    4 GiB) is left out; its placeholder then stays an inert private tag holding 0.
    """
    if not subs:
        return
    fh.seek(start)
    header = fh.read(8)
    if len(header) < 8 or header[:4] != _IFH[:4]:  # not the classic little-endian TIFF asked for
        fh.seek(0, os.SEEK_END)
        return
    (ifd0,) = struct.unpack("<L", header[4:])
    fh.seek(start + ifd0)
    (count,) = struct.unpack("<H", fh.read(2))
    entries = fh.read(12 * count)
    where = {struct.unpack_from("<H", entries, 12 * i)[0]: i for i in range(count)}
    end = fh.seek(0, os.SEEK_END) - start
    patches: list[tuple[int, int, int]] = []
    for tag, sub in subs.items():
        index = where.get(_PLACEHOLDERS[tag])
        if index is None or struct.unpack_from("<HL", entries, 12 * index + 2) != (_LONG, 1):
            continue
        padding = -end % 4  # an IFD starts on a word boundary
        blob = _serialise(tag, sub, end + padding)
        if end + padding + len(blob) > 0xFFFFFFFF:
            continue
        fh.write(b"\x00" * padding + blob)
        patches.append((index, tag, end + padding))
        end += padding + len(blob)
    for index, tag, offset in patches:
        fh.seek(start + ifd0 + 2 + 12 * index)
        fh.write(struct.pack("<HHLL", tag, _LONG, 1, offset))
    fh.seek(0, os.SEEK_END)
