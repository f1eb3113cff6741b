"""A generated corpus of awkward and hostile image files (issue 24), each with what reading
it must give: the refusal's type, or the upright pixels, depth and alpha.

Shared by the command-line and API tests (tests/engine/test_bad_inputs.py) and the
editor's open path (tests/editor/test_bad_inputs_open.py). Everything is made in a few
hundred milliseconds; the bomb is built from one compressed block repeated.
"""

from __future__ import annotations

import io
import resource
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, ImageOps

from engine import api

ROOT = Path(__file__).resolve().parents[2]
# The corpus files that must be refused, and those that must be read (each test module
# runs every one of them through its own path).
BAD_NAMES = ["empty.png", "truncated.png", "truncated.jpg", "notes.png", "bomb.png"]
GOOD_NAMES = [
    "cmyk.jpg",
    "deep.png",
    "palette.png",
    "alpha.png",
    "rotated.jpg",
    "one.png",
    "strip.png",
    "pages.tif",
]
MEMORY_LIMIT = 3 << 30  # address space: torch's import alone maps ~1.5 GB
TIME_LIMIT_S = 120
BOMB_SIDE = 17000  # 289 MP, under the 300 MP default: the 843 KB PNG
_RNG = np.random.default_rng(24)


@dataclass(frozen=True)
class Case:
    """A file and what reading it must give."""

    path: Path
    refused: type[api.EngineError] | None = None  # else read, upright, as below
    pixels: np.ndarray | None = None  # the upright RGB expected (exactly)
    alpha: np.ndarray | None = None
    depth: int = 8

    @property
    def shape(self) -> tuple[int, int]:
        assert self.pixels is not None
        return self.pixels.shape[:2]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zero_png(width: int, height: int, rows_per_block: int = 1000) -> bytes:
    """An RGB PNG of zeros, its IDAT one deflate block repeated: a full flush makes each
    block of rows compress to the same bytes, and the Adler-32 of n zeros is (n << 16) | 1."""
    row = 1 + 3 * width
    blocks, rest = divmod(height, rows_per_block)
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = raw.compress(bytes(row * rows_per_block)) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = raw.compress(bytes(row * rest)) + raw.flush(zlib.Z_FINISH)
    adler = ((row * height % 65521) << 16) | 1
    idat = b"\x78\xda" + block * blocks + tail + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def _noise(height: int, width: int, channels: int = 3) -> np.ndarray:
    return _RNG.integers(0, 256, (height, width, channels), dtype=np.uint8)


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


def bad_files(folder: Path) -> dict[str, Case]:
    """Files that must be refused: empty, cut short, not an image, a decompression bomb."""
    folder.mkdir(parents=True, exist_ok=True)
    smooth = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3).astype(np.uint8)
    made = {
        "empty.png": (b"", api.UnsupportedImage),
        "truncated.png": (_png_bytes(Image.fromarray(_noise(48, 64)))[:3000], api.UnsupportedImage),
        "truncated.jpg": (_jpeg_bytes(Image.fromarray(smooth))[:700], api.UnsupportedImage),
        "notes.png": (b"shopping list: milk, eggs\n" * 20, api.UnsupportedImage),
        "bomb.png": (zero_png(BOMB_SIDE, BOMB_SIDE), api.ImageTooLarge),
    }
    cases = {}
    for name, (data, refusal) in made.items():
        (folder / name).write_bytes(data)
        cases[name] = Case(folder / name, refused=refusal)
    return cases


def good_files(folder: Path) -> dict[str, Case]:
    """Unusual files that must be read: CMYK, 16 bits, palette, alpha, EXIF-rotated, one
    pixel, a 30000×20 strip, a multi-page TIFF (its first page)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {}

    def add(name: str, pixels: np.ndarray, **extra: object) -> None:
        cases[name] = Case(folder / name, pixels=pixels, **extra)

    cmyk = Image.fromarray(_noise(40, 56, 4), "CMYK")
    cmyk.save(folder / "cmyk.jpg", quality=95)
    with Image.open(folder / "cmyk.jpg") as im:
        add("cmyk.jpg", np.asarray(im.convert("RGB")))  # no profile: Pillow's conversion

    deep = _RNG.integers(0, 65536, (30, 42, 3), dtype=np.uint16)
    cv2.imwrite(str(folder / "deep.png"), deep[:, :, ::-1])
    add("deep.png", deep, depth=16)

    palette = Image.fromarray(_noise(36, 52)).quantize(16)
    palette.save(folder / "palette.png")
    add("palette.png", np.asarray(palette.convert("RGB")))

    rgba = _noise(32, 40, 4)
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    add("alpha.png", rgba[:, :, :3], alpha=rgba[:, :, 3])

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    Image.fromarray(_noise(40, 64)).save(folder / "rotated.jpg", quality=95, exif=exif)
    with Image.open(folder / "rotated.jpg") as im:
        add("rotated.jpg", np.asarray(ImageOps.exif_transpose(im).convert("RGB")))

    one = np.array([[[200, 100, 50]]], np.uint8)
    Image.fromarray(one).save(folder / "one.png")
    add("one.png", one)

    strip = _noise(20, 30000)
    Image.fromarray(strip).save(folder / "strip.png", compress_level=1)
    add("strip.png", strip)

    pages = [_noise(24, 36), _noise(50, 20), _noise(8, 8)]
    with tifffile.TiffWriter(folder / "pages.tif") as tif:
        for page in pages:
            tif.write(page, photometric="rgb")
    add("pages.tif", pages[0])
    return cases


def _limited() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (TIME_LIMIT_S, TIME_LIMIT_S))


def run_cli(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m engine ARGV` under a memory and CPU-time limit (and a wall-clock one)."""
    base = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "engine", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        preexec_fn=_limited,
        timeout=TIME_LIMIT_S,
    )
