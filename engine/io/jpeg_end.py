"""JPEG files that lack only their 2-byte end marker (EOI): decode them when nothing else
is missing.

Some cameras, scanners and cut-off copies drop the final ``FF D9``. Pillow then refuses the
file as truncated although every pixel is there (Pillow and OpenCV give the intact file's
pixels once the marker is put back). A genuinely truncated file must still be refused, and
libjpeg does not say whether it ran out of data (it fills the rest with grey and warns on
stderr). So the file is accepted only when both hold:

* its structure is complete: every component is coded, a progressive file refined every
  coefficient to full precision, and the last scan holds all its restart intervals;
* its last scan's data is complete: decoding it with the end marker right after it, and
  with other bytes before the marker, gives the same pixels (a cut scan would decode those
  bytes as more of its data; a complete one skips them as padding).
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field

from PIL import Image

EOI = b"\xff\xd9"
# Bytes a complete scan skips before the end marker and a cut scan decodes as more of its
# data (no 0xFF: that would start a marker). One pattern can decode to what the grey fill
# gives near the end of a scan; of these three, one always differed in the tests.
_PROBES = (bytes((i * 73 + 41) % 255 for i in range(256)), b"\x7f\xfe" * 128, b"\xfe" * 256)
_SOF_SEQUENTIAL = {0xC0, 0xC1, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCB, 0xCD, 0xCF}
_SOF_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_RST = range(0xD0, 0xD8)


@dataclass
class _Walk:
    """What the marker walk found: the frame, each scan, the restart interval in force."""

    progressive: bool = False
    size: tuple[int, int] = (0, 0)
    sampling: dict[int, tuple[int, int]] = field(default_factory=dict)
    scans: list[tuple[tuple[int, ...], int, int, int, int]] = field(default_factory=list)
    interval: int = 0
    last_interval: int = 0  # the restart interval of the last scan
    last_restarts: int = 0  # RST markers inside the last scan's data


def _walk(data: bytes) -> _Walk | None:
    """The marker structure of `data` (a JPEG cut after its last scan's data), or None."""
    if not data.startswith(b"\xff\xd8"):
        return None
    walk, pos = _Walk(), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        body = data[pos + 4 : pos + 2 + length]
        if len(body) != length - 2:
            return None  # cut inside a header
        if marker in _SOF_SEQUENTIAL | _SOF_PROGRESSIVE and len(body) >= 6:
            _frame(walk, marker, body)
        elif marker == 0xDD and len(body) >= 2:
            walk.interval = int.from_bytes(body[:2], "big")
        elif marker == 0xDA:
            pos = _scan(walk, data, body, pos + 2 + length)
            continue
        pos += 2 + length
    return walk if walk.scans and pos == len(data) else None


def _frame(walk: _Walk, marker: int, body: bytes) -> None:
    walk.progressive = marker in _SOF_PROGRESSIVE
    walk.size = (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big"))
    for i in range(body[5]):
        ident, factors = body[6 + 3 * i : 8 + 3 * i] if len(body) >= 9 + 3 * i else (0, 0x11)
        walk.sampling[ident] = (factors >> 4 or 1, factors & 15 or 1)


def _scan(walk: _Walk, data: bytes, header: bytes, start: int) -> int:
    """Record one scan; return where its entropy-coded data ends (a marker or the end)."""
    count = header[0] if header else 0
    components = tuple(header[1 + 2 * i] for i in range(count) if 2 + 2 * i < len(header))
    tail = header[1 + 2 * count : 4 + 2 * count].ljust(3, b"\0")
    walk.scans.append((components, tail[0], tail[1], tail[2] >> 4, tail[2] & 15))
    walk.last_interval, walk.last_restarts = walk.interval, 0
    pos = start
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or following == 0xFF:  # stuffed byte, or fill before a marker
            pos += 1 if following == 0xFF else 2
        elif following in _RST:
            walk.last_restarts += 1
            pos += 2
        else:
            return pos


def _mcus(walk: _Walk, components: tuple[int, ...]) -> int:
    """Minimum coded units in a scan of `components` (one component: its own 8x8 blocks)."""
    width, height = walk.size
    hmax = max(h for h, _ in walk.sampling.values())
    vmax = max(v for _, v in walk.sampling.values())
    if len(components) == 1:
        h, v = walk.sampling.get(components[0], (hmax, vmax))
        blocks_x, blocks_y = math.ceil(width * h / hmax / 8), math.ceil(height * v / vmax / 8)
        return blocks_x * blocks_y
    return math.ceil(width / (8 * hmax)) * math.ceil(height / (8 * vmax))


def _structure_complete(walk: _Walk) -> bool:
    if not walk.sampling or min(walk.size) <= 0:
        return False
    if walk.last_interval:
        expected = math.ceil(_mcus(walk, walk.scans[-1][0]) / walk.last_interval) - 1
        if walk.last_restarts != expected:
            return False  # cut at a restart boundary: later intervals are missing
    if not walk.progressive:
        return set(walk.sampling) <= {c for scan in walk.scans for c in scan[0]}
    done = {c: set() for c in walk.sampling}
    for components, first, last, _high, low in walk.scans:
        if low == 0:
            for c in components:
                done.setdefault(c, set()).update(range(first, last + 1))
    return all(len(coefficients) == 64 for coefficients in done.values())


def _pixels(data: bytes) -> bytes:
    """A digest of the decoded pixels (only one decoded copy is alive at a time)."""
    with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
        im.load()
        return hashlib.sha256(im.tobytes()).digest()


def restore_end_marker(data: bytes) -> bytes | None:
    """`data` with its end marker put back when it lacks only that, else None (truncated)."""
    if data.endswith(EOI):
        return None
    body = data[:-1] if data.endswith(b"\xff") else data
    walk = _walk(body)
    if walk is None or not _structure_complete(walk):
        return None
    try:
        plain = _pixels(body + EOI)
        same = all(_pixels(body + probe + EOI) == plain for probe in _PROBES)
    except Exception:  # a decoder error: not a file that lacks only its end
        return None
    return body + EOI if same else None
