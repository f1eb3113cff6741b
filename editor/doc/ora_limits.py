"""Bounds on what an OpenRaster file can make `load_ora` read and allocate.

A .ora is a ZIP: a file of a few KB can hold entries that inflate to gigabytes, PNG layers
whose headers claim billions of pixels, or thousands of layers that each become a
full-canvas array. Everything here is decided before any pixel is decoded, from the ZIP's
directory, stack.xml and each layer's PNG header (its first 33 bytes), against the limits
images have: the engine's pixel limit (`engine.api.DEFAULT_MAX_PIXELS`) and the memory the
machine has free (`engine.api.available_memory`). A file beyond them is refused with a
`DocumentError` of one line that names the limit.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from editor.doc.types import DocumentError
from engine import api

MIMETYPE_LIMIT = 1024  # "image/openraster"
STACK_LIMIT = 4 << 20  # stack.xml: ~150 bytes a layer, so tens of thousands of layers
META_LIMIT = 64 << 20  # restoration/meta.json: EXIF and ICC profile in base64
PNG_EXTRA = 16 << 20  # a layer PNG's room beyond its pixels (ICC profile, text, chunk headers)
UNKNOWN_FREE_MEMORY = 16 << 30  # the budget where the system does not say what is free
_DEFLATE_RATIO = 1040  # deflate inflates n bytes to at most ~1032 n
_CHUNK = 1 << 20
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type → samples a pixel in the file
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


class DocumentTooLarge(DocumentError, MemoryError):
    """The document needs more memory than is free: a `MemoryError` too, so that a caller
    tells "this computer is too small" from "this file is damaged" (a recovery copy refused
    for it is kept, not deleted)."""


def amount(size: int) -> str:
    """Bytes for a person: "2.1 GB", "16.8 MB", "1.0 KB", "16 bytes"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def read_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytearray:
    """The inflated bytes of entry `name`, refused when its declared or its actual size is
    over `limit`: never more than `limit` + 1 MB is inflated."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise DocumentError(
            f"its entry “{name}” inflates to {amount(info.file_size)}, more than the "
            f"{amount(limit)} allowed for it"
        )
    data = bytearray()
    with archive.open(info) as stream:
        while chunk := stream.read(min(_CHUNK, limit + 1 - len(data))):
            data += chunk
            if len(data) > limit:
                raise DocumentError(
                    f"its entry “{name}” inflates to more than the {amount(limit)} allowed for it"
                )
    return data


@dataclass(frozen=True)
class PngHeader:
    """What a PNG's IHDR chunk declares."""

    width: int
    height: int
    bit_depth: int
    colour_type: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def sample_bytes(self) -> int:
        """Bytes a decoded sample takes: 2 for a 16-bit PNG, else 1."""
        return 2 if self.bit_depth == 16 else 1

    @property
    def min_data(self) -> int:
        """The fewest bytes of filtered scanlines that can fill the declared pixels."""
        return self.pixels * _SAMPLES[self.colour_type] * self.bit_depth // 8

    @property
    def max_entry_size(self) -> int:
        """The most bytes a PNG of this size needs: its scanlines stored uncompressed
        (a filter byte a row, interlacing's extra rows), deflate's overhead, other chunks."""
        row = 1 + (self.width * _SAMPLES[self.colour_type] * self.bit_depth + 7) // 8
        scanlines = self.height * row + 4 * self.height + 16
        return scanlines + scanlines // 64 + PNG_EXTRA


def png_header(archive: zipfile.ZipFile, src: str, name: str) -> PngHeader:
    """The IHDR of layer `name`'s PNG, read from the entry's first 33 bytes."""
    with archive.open(src) as stream:
        head = stream.read(33)
    if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise DocumentError(f"layer “{name}” is not a PNG image ({src})")
    width, height, depth, colour = struct.unpack(">IIBB", head[16:26])
    if width == 0 or height == 0 or depth not in _DEPTHS.get(colour, ()):
        raise DocumentError(f"layer “{name}” has a damaged PNG header ({src})")
    return PngHeader(width, height, depth, colour)


def check_canvas(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise DocumentError(f"its size {width}×{height} is not supported")
    if width * height > max_pixels:
        raise DocumentError(
            f"its size {width}×{height} ({width * height:,} pixels) is more than the limit of "
            f"{max_pixels:,} pixels"
        )


def check_layer(name: str, header: PngHeader, info: zipfile.ZipInfo, max_pixels: int) -> None:
    """Refuse a layer over the pixel limit, an entry larger than its PNG can need, and one
    too small to hold the pixels its header claims (a 2 KB "17000×17000" PNG)."""
    size = f"{header.width}×{header.height}"
    if header.pixels > max_pixels:
        raise DocumentError(
            f"layer “{name}” is {size} ({header.pixels:,} pixels), more than the limit of "
            f"{max_pixels:,} pixels"
        )
    if info.file_size > header.max_entry_size:
        raise DocumentError(
            f"layer “{name}” inflates to {amount(info.file_size)}, more than the "
            f"{amount(header.max_entry_size)} a {size} PNG can need"
        )
    if header.min_data > _DEFLATE_RATIO * info.file_size + 4096:
        raise DocumentError(
            f"layer “{name}” claims {size} pixels, more than its {amount(info.file_size)} "
            "of PNG data can hold"
        )


@dataclass(frozen=True)
class Declared:
    """A layer as declared, before decoding: its PNG header, the entry's size, whether it
    covers the canvas exactly, whether it is the mask."""

    header: PngHeader
    entry_size: int
    full_size: bool
    is_mask: bool = False


def document_sample_bytes(layers: Sequence[Declared]) -> int:
    """2 when any image layer is 16-bit (the document then is), else 1."""
    return max((d.header.sample_bytes for d in layers if not d.is_mask), default=1)


def memory_needed(height: int, width: int, layers: Sequence[Declared]) -> int:
    """About the most bytes loading takes: every layer full-size at the document's depth
    (RGB, and a coverage or the image's alpha), the mask, and the largest one layer's
    decoding needs on top (its PNG bytes, the decoder's arrays, placing and converting)."""
    canvas = height * width
    depth = document_sample_bytes(layers)
    count = sum(not d.is_mask for d in layers)
    kept = canvas * (count * 3 * depth + max(count - 1, 0) + depth + 1)
    work = (
        d.entry_size
        + d.header.pixels * 8 * d.header.sample_bytes
        + (0 if d.full_size and d.header.sample_bytes == depth else canvas * 8 * depth)
        for d in layers
    )
    return kept + max(work, default=0)


def check_memory(height: int, width: int, count: int, needed: int) -> None:
    """Refuse when `needed` bytes (for `count` layers) are more than the memory free."""
    free = api.available_memory()
    budget = UNKNOWN_FREE_MEMORY if free is None else free
    if needed <= budget:
        return
    limit = (
        f"the {amount(budget)} free"
        if free is not None
        else f"the {amount(budget)} allowed where the system does not report its free memory"
    )
    raise DocumentTooLarge(
        f"its {count:,} layers of {width}×{height} pixels need about {amount(needed)} of "
        f"memory to open, more than {limit}"
    )


def check_layer_count(height: int, width: int, count: int) -> None:
    """Refuse, before any layer is read, a stack that cannot fit even at 8 bits."""
    check_memory(height, width, count, height * width * (count * 4 + 1))
