"""Issue 24: OpenRaster bombs are refused in one line before anything large is inflated or
decoded (`editor.doc.ora_limits`).

The files are made cheaply: an entry that inflates to gigabytes is a deflate stream of one
1 MB block of zeros repeated (a full flush between blocks makes every block's bytes the
same), written into a ZIP by hand; a PNG claiming 17000×17000 pixels is an IHDR with a tiny
IDAT. Each file is opened in a child process under an address-space limit, which reports
the message, the time and its peak memory.
"""

from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from editor.doc import Document, DocumentError, load_ora, ora_limits, save_ora
from engine import api

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 1536 << 20  # numpy and OpenCV map ~0.3 GB; any bomb here would need GBs
FREE = 8 << 30  # the free memory the child reports: a typical machine, the same everywhere
MAX_SECONDS = 10.0  # the refusals take milliseconds; generous for a loaded test machine
MAX_PEAK_RSS = 400 << 20
SIGNATURE = b"\x89PNG\r\n\x1a\n"
BLOCK = 1 << 20

_CHILD = f"""
import sys, time
from engine import api
api.available_memory = lambda: {FREE}
from editor.doc import DocumentError, load_ora
start = time.perf_counter()
try:
    load_ora(sys.argv[1])
    print("loaded")
except DocumentError as exc:
    print(exc)
# VmHWM, this process image's own peak: ru_maxrss would also count the forked copy of the
# test runner this child was exec'd from (Linux carries it across exec).
with open("/proc/self/status") as status:
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
print(time.perf_counter() - start, rss)
"""


def _limited() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _open_in_child(path: Path) -> tuple[str, float, int]:
    """(the one line `load_ora` raised, seconds, peak RSS in bytes), with nothing on stderr."""
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
        preexec_fn=_limited,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]
    message, numbers = result.stdout.splitlines()
    seconds, rss = numbers.split()
    return message, float(seconds), int(rss)


# --- making the files ------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(
    width: int, height: int, depth: int = 8, colour: int = 2, rows: bytes | None = None
) -> bytes:
    """An RGB PNG whose IHDR says `width`×`height`: black, or with only `rows` for data."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(bytes((1 + 3 * width) * height) if rows is None else rows)
    return SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _deflated(head: bytes, size: int) -> bytes:
    """A raw deflate stream of `head` and then zeros, `size` bytes in all, in ~size/1000."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(BLOCK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size - len(head) - BLOCK, BLOCK)
    return start + block * (count + 1) + compressor.compress(bytes(rest)) + compressor.flush()


def _write_zip(path: Path, entries: list[tuple[str, bytes, int]]) -> None:
    """A ZIP of (name, stored bytes or raw deflate stream, declared size) entries; a deflated
    entry's CRC is not computed (nothing may read that far)."""
    central = []
    with open(path, "wb") as out:
        for name, data, size in entries:
            stored = len(data) == size
            method, crc = (0, zlib.crc32(data)) if stored else (8, 0)
            fields = (method, 0, 0x21, crc, len(data), size, len(name.encode()))
            central.append((out.tell(), name.encode(), fields))
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, *fields, 0))
            out.write(name.encode() + data)
        start = out.tell()
        for offset, name, fields in central:
            out.write(struct.pack("<IHHH", 0x02014B50, 20, 20, 0))
            out.write(struct.pack("<HHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0, offset) + name)
        size = out.tell() - start
        out.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size, start, 0)
        )


def _stack(width: int, height: int, layers: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<layer name="{name}" src="{src}"/>' for name, src in layers)
    return f'<image w="{width}" h="{height}"><stack>{items}</stack></image>'.encode()


def _plain(path: Path, stack: bytes, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "image/openraster", zipfile.ZIP_STORED)
        archive.writestr("stack.xml", stack)
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _mimetype_bomb(path: Path) -> Path:  # 2 MB file, "mimetype" inflates to 2 GiB
    stack = _stack(8, 8, [("L", "data/l.png")])
    layer = _png(8, 8)
    entries = [("mimetype", _deflated(b"image/openraster", 2 << 30), 2 << 30)]
    _write_zip(
        path, [*entries, ("stack.xml", stack, len(stack)), ("data/l.png", layer, len(layer))]
    )
    return path


def _layer_bomb(path: Path) -> Path:  # 3 MB file, a 64×64 layer PNG inflating to 3 GiB
    stack = _stack(64, 64, [("Background", "data/l.png")])
    layer = _deflated(_png(64, 64)[:33], 3 << 30)
    entries = [("mimetype", b"image/openraster", 16), ("stack.xml", stack, len(stack))]
    _write_zip(path, [*entries, ("data/l.png", layer, 3 << 30)])
    return path


def _claims_17000(path: Path) -> Path:  # < 1 KB: a 17000² canvas and layer, one row of data
    stack = _stack(17000, 17000, [("Background", "data/l.png")])
    return _plain(path, stack, {"data/l.png": _png(17000, 17000, rows=bytes(51001))})


def _claims_32000_16bit(path: Path) -> Path:  # a 32000² 16-bit layer on a small canvas
    stack = _stack(1000, 1000, [("Big", "data/l.png")])
    return _plain(path, stack, {"data/l.png": _png(32000, 32000, 16, rows=bytes(1 + 6 * 32000))})


def _ten_thousand_layers(path: Path) -> Path:  # 10000 one-pixel layers, a 2000² canvas
    layers = [(f"L{i}", f"data/{i}.png") for i in range(10_000)]
    return _plain(path, _stack(2000, 2000, layers), {src: _png(1, 1) for _, src in layers})


CASES = {
    "mimetype inflating to 2 GiB": (
        _mimetype_bomb,
        "its entry “mimetype” inflates to 2.1 GB, more than the 1.0 KB allowed for it",
    ),
    "3 GiB layer entry": (
        _layer_bomb,
        "layer “Background” inflates to 3.2 GB, more than the 16.8 MB a 64×64 PNG can need",
    ),
    "17000² layer in 1 KB": (
        _claims_17000,
        "layer “Background” claims 17000×17000 pixels, more than its 129 bytes of PNG data "
        "can hold",
    ),
    "32000² 16-bit layer": (
        _claims_32000_16bit,
        "layer “Big” is 32000×32000 (1,024,000,000 pixels), more than the limit of "
        "300,000,000 pixels",
    ),
    "10000 layers on 2000²": (
        _ten_thousand_layers,
        "its 10,000 layers of 2000×2000 pixels need about 160.0 GB of memory to open, more "
        "than the 8.6 GB free",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bomb_is_refused_in_one_line_quickly_in_little_memory(tmp_path: Path, case: str):
    make, reason = CASES[case]
    path = make(tmp_path / "bomb.ora")
    assert path.stat().st_size < 4 << 20
    message, seconds, rss = _open_in_child(path)
    assert message == f"cannot open “bomb.ora”: {reason}"
    assert seconds < MAX_SECONDS and rss < MAX_PEAK_RSS, (seconds, rss)


def test_the_canvas_is_held_to_the_pixel_limit(tmp_path: Path):
    path = _plain(tmp_path / "c.ora", _stack(20000, 20000, [("L", "data/l.png")]), {})
    with pytest.raises(DocumentError, match=r"20000×20000 \(400,000,000 pixels\) is more than"):
        load_ora(path)
    small = _plain(
        tmp_path / "s.ora", _stack(8, 8, [("L", "data/l.png")]), {"data/l.png": _png(8, 8)}
    )
    with pytest.raises(DocumentError, match="more than the limit of 50 pixels"):
        load_ora(small, max_pixels=50)
    assert load_ora(small).shape == (8, 8, 3)


def test_what_a_document_needs_is_held_to_the_free_memory(tmp_path: Path, monkeypatch):
    path = tmp_path / "doc.ora"
    doc = Document(np.zeros((40, 30, 3), np.uint16))
    doc.add_layer(np.ones((40, 30, 3), np.uint16), "Denoise")
    save_ora(doc, path)
    monkeypatch.setattr(api, "available_memory", lambda: 20_000)
    with pytest.raises(DocumentError, match="2 layers of 30×40 pixels need about .* KB of memory"):
        load_ora(path)
    with pytest.raises(MemoryError):  # too small a computer, not a damaged file
        load_ora(path)
    monkeypatch.setattr(api, "available_memory", lambda: None)  # not reported: 16 GiB assumed
    assert len(load_ora(path).layers) == 2
    header = ora_limits.PngHeader(100_000, 2_000, 16, 6)
    declared = [ora_limits.Declared(header, 1 << 20, True)] * 20
    needed = ora_limits.memory_needed(2_000, 100_000, declared)
    assert needed > 20 * 2e8 * 7
    with pytest.raises(DocumentError, match="allowed where the system does not report"):
        ora_limits.check_memory(2_000, 100_000, 20, needed)


def test_an_entry_larger_than_declared_is_cut_off_at_the_limit():
    """zipfile stops at the declared size already; the reader does not rely on it."""

    class Archive:
        def getinfo(self, name: str) -> zipfile.ZipInfo:
            return zipfile.ZipInfo(name)  # declares 0 bytes

        def open(self, info: zipfile.ZipInfo) -> io.BytesIO:
            return io.BytesIO(bytes(100 << 20))  # and inflates to 100 MB

    with pytest.raises(DocumentError, match="inflates to more than the 1.0 KB allowed"):
        ora_limits.read_entry(Archive(), "mimetype", 1024)  # type: ignore[arg-type]


def test_a_layer_larger_than_the_canvas_is_cut_to_it(tmp_path: Path):
    layer = _png(40, 30, rows=(b"\0" + bytes([7, 8, 9]) * 40) * 30)
    path = _plain(
        tmp_path / "big.ora", _stack(20, 10, [("L", "data/l.png")]), {"data/l.png": layer}
    )
    doc = load_ora(path)
    assert doc.shape == (10, 20, 3) and bool(np.all(doc.layers[0].pixels == [7, 8, 9]))


def test_a_recovery_copy_with_an_inflating_stack_is_refused_as_damaged(tmp_path: Path) -> None:
    from editor.doc.recovery import inspect_recovery

    path = tmp_path / "copy.ora"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "image/openraster", zipfile.ZIP_STORED)
        with archive.open("stack.xml", "w") as entry:  # 64 MB of zeros, ~64 KB stored
            for _ in range(64):
                entry.write(bytes(1 << 20))
    with pytest.raises(DocumentError, match="stack.xml.*inflates to 67.1 MB"):
        inspect_recovery(path)
