"""Bounds checked from a file's header, before any pixel is decoded: the pixel limit, how
far the file's data would have to expand (a decompression bomb) and the memory decoding
takes against what is free.

A photo's data compresses a few times (PNG 1.5–3:1, JPEG 5–30:1); an 843 KB PNG that
decodes to 17000×17000 zero pixels (1028:1) is under the 300 MP limit but no photo. A
file expanding more than `BOMB_RATIO`:1 is held to `1/COMPRESSED_SHARE` of the pixel
limit (37.5 MP by default, above what any such file can mean), so the limit the caller
sets (`--max-megapixels`) still decides. `engine.io.read` calls these (the editor's
OpenRaster reader has its own, `editor.doc.ora_limits`).
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import ImageTooLarge, UnsupportedImage
from engine.memory import amount, check_fits

BOMB_RATIO = 100  # JPEG at quality 30 of a smooth scan: ~60:1; PNG photos: under 10:1
COMPRESSED_SHARE = 8

# Bytes a pixel takes in Pillow's own storage, by mode (RGB is kept as 4 bytes a pixel).
_PILLOW_ONE_BYTE = ("1", "L", "P")
_PILLOW_TWO_BYTES = ("I;16", "I;16L", "I;16B", "I;16N")
# Bits a pixel has in the file (what the compressed data expands to), by Pillow's mode.
_FILE_BITS = {"1": 1, "L": 8, "P": 8, "LA": 16, "La": 16, "PA": 16, "RGB": 24, "YCbCr": 24}


def check_pixels(file: Path, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise UnsupportedImage(f"{file}: image has no pixels ({width}x{height})")
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{file}: image is {width}x{height} ({width * height:,} pixels), more than the "
            f"limit of {max_pixels:,} pixels"
        )


def file_bits(mode: str, png: tuple[int, int, int, int] | None = None) -> int:
    """Bits a pixel takes in the file before compression (a PNG's own header decides)."""
    if png is not None:
        samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(png[3], 4)
        return samples * png[2]
    if mode.startswith("I;16"):
        return 16
    return _FILE_BITS.get(mode, 32)


def check_expansion(
    file: Path, size: tuple[int, int], bits: int, file_size: int, max_pixels: int
) -> None:
    """Refuse a file whose data would expand more than `BOMB_RATIO`:1 when it has more than
    `1/COMPRESSED_SHARE` of the pixel limit: ImageTooLarge naming the numbers."""
    width, height = size
    pixels = width * height
    limit = max(1, max_pixels // COMPRESSED_SHARE)
    raw = pixels * bits // 8
    if pixels <= limit or raw <= BOMB_RATIO * max(file_size, 1):
        return
    ratio = raw / max(file_size, 1)
    raise ImageTooLarge(
        f"{file}: its {amount(file_size)} expand to {width}x{height} pixels "
        f"({amount(raw)}, {ratio:,.0f} to 1, far more than photos compress), so it is read "
        f"only up to {limit:,} pixels, 1/{COMPRESSED_SHARE} of the limit of {max_pixels:,}"
    )


def pillow_bytes(mode: str) -> int:
    """Bytes a pixel takes in Pillow's storage in `mode`."""
    if mode in _PILLOW_ONE_BYTE:
        return 1
    if mode in _PILLOW_TWO_BYTES:
        return 2
    return 4


def check_decode_memory(
    file: Path,
    size: tuple[int, int],
    *,
    decoder: int,
    converted: int,
    result: int,
    extra: int = 0,
) -> None:
    """Refuse (NotEnoughMemory) before decoding when the decoder's pixels (`decoder` bytes
    a pixel), a converted copy (`converted`), the result's pixels and alpha (`result`) and
    `extra` bytes (a file read whole) need more memory than is free."""
    pixels = size[0] * size[1]
    parts = [
        ("decoder", decoder * pixels + extra),
        ("conversion", converted * pixels),
        ("result", result * pixels),
    ]
    check_fits(
        f"{file}: decoding its {size[0]}x{size[1]} pixels",
        parts,
        "close other programs, or open it on a computer with more memory",
    )


def check_pillow_memory(file: Path, mode: str, size: tuple[int, int], keyed: bool) -> None:
    """Pillow's storage in `mode`, a converted copy where the mode needs one, and the result
    (RGB, a grey channel before it is repeated, alpha; `keyed`: a colour-key transparency
    that becomes alpha) must fit in the memory free."""
    kept = mode in ("L", "LA", "RGB", "RGBA") or mode.startswith("I;16")
    sample = 2 if mode.startswith("I;16") else 1
    grey = mode in ("1", "L", "LA", "La") or mode.startswith("I;16")
    alpha = mode in ("LA", "La", "RGBA", "PA", "RGBa") or keyed
    result = sample * (3 + grey + alpha)
    check_decode_memory(
        file, size, decoder=pillow_bytes(mode), converted=0 if kept else 4, result=result
    )
