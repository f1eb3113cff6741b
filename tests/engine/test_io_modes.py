"""Image I/O: orientation, colour modes, bad input and the pixel limit."""

from __future__ import annotations

import io
import struct
import time
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from io_support import (
    RNG,
    SRGB_ICC,
    insert_after_ihdr,
    make_exif,
    parsed,
    png_chunk,
    rgb8,
    rgb16,
    smooth8,
)
from PIL import Image, ImageOps

from engine.errors import ImageTooLarge, UnsupportedImage
from engine.io import (
    DEFAULT_MAX_PIXELS,
    read_image,
    read_mask,
)

# --------------------------------------------------------------------------- orientation

# Stored image for each orientation = inverse of the transform a viewer applies.
_INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_gives_upright_pixels_and_alpha(tmp_path: Path, orientation: int) -> None:
    upright = RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8)  # asymmetric, with alpha
    stored = Image.fromarray(upright)
    if _INVERSE[orientation] is not None:
        stored = stored.transpose(_INVERSE[orientation])
    path = tmp_path / f"o{orientation}.png"
    stored.save(path, exif=make_exif(orientation).tobytes())
    with Image.open(path) as im:  # the fixture agrees with Pillow's exif_transpose
        np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(im)), upright)
    loaded = read_image(path)
    np.testing.assert_array_equal(loaded.pixels, upright[:, :, :3])
    np.testing.assert_array_equal(loaded.alpha, upright[:, :, 3])
    assert loaded.pixels.flags.c_contiguous and loaded.alpha.flags.c_contiguous
    exif = parsed(loaded.meta.exif)
    assert exif[0x0112] == 1 and exif[0x010F] == "Canon"


def test_exif_orientation_on_16bit_png(tmp_path: Path) -> None:
    upright = rgb16(5, 7)
    stored = np.rot90(upright, 1)  # orientation 6 = rotate 90 degrees clockwise to view
    ok, data = cv2.imencode(".png", np.ascontiguousarray(stored[:, :, ::-1]))
    assert ok
    exif = make_exif(6).tobytes()[6:]
    path = tmp_path / "o6.png"
    path.write_bytes(insert_after_ihdr(data.tobytes(), png_chunk(b"eXIf", exif)))
    loaded = read_image(path)
    np.testing.assert_array_equal(loaded.pixels, upright)
    assert parsed(loaded.meta.exif)[0x0112] == 1


def test_exif_orientation_on_jpeg(tmp_path: Path) -> None:
    upright = smooth8(32, 48)
    path = tmp_path / "o8.jpg"
    stored = Image.fromarray(upright).transpose(_INVERSE[8])
    stored.save(path, quality=100, subsampling=0, exif=make_exif(8).tobytes())
    loaded = read_image(path)
    assert loaded.pixels.shape == upright.shape
    assert np.abs(loaded.pixels.astype(int) - upright).mean() < 2


# --------------------------------------------------------------------------- modes


def test_grayscale_l_and_bilevel(tmp_path: Path) -> None:
    gray = rgb8()[:, :, 0]
    Image.fromarray(gray).save(tmp_path / "l.png")
    loaded = read_image(tmp_path / "l.png")
    assert loaded.meta.was_grayscale and loaded.meta.source_mode == "L"
    np.testing.assert_array_equal(loaded.pixels, np.dstack([gray] * 3))
    Image.fromarray(gray > 127).save(tmp_path / "one.png")
    loaded = read_image(tmp_path / "one.png")
    assert loaded.meta.was_grayscale and loaded.meta.source_mode == "1"
    np.testing.assert_array_equal(loaded.pixels[:, :, 1], np.where(gray > 127, 255, 0))


def test_grayscale_16bit_png_from_pillow(tmp_path: Path) -> None:
    gray = rgb16()[:, :, 0]
    Image.fromarray(gray).save(tmp_path / "i16.png")  # Pillow mode I;16
    loaded = read_image(tmp_path / "i16.png")
    assert loaded.pixels.dtype == np.uint16 and loaded.meta.source_mode == "I;16"
    assert loaded.meta.was_grayscale and loaded.meta.bit_depth == 16
    np.testing.assert_array_equal(loaded.pixels, np.dstack([gray] * 3))


def _palette_image() -> Image.Image:
    im = Image.frombytes("P", (12, 10), RNG.integers(0, 4, (10, 12), dtype=np.uint8).tobytes())
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9] + [0] * (256 * 3 - 12))
    return im


def test_palette_without_transparency(tmp_path: Path) -> None:
    im = _palette_image()
    im.save(tmp_path / "p.png")
    loaded = read_image(tmp_path / "p.png")
    assert loaded.meta.source_mode == "P" and not loaded.meta.was_grayscale
    assert loaded.alpha is None
    np.testing.assert_array_equal(loaded.pixels, np.asarray(im.convert("RGB")))


def test_palette_with_transparency(tmp_path: Path) -> None:
    im = _palette_image()
    im.save(tmp_path / "pt.png", transparency=2)
    loaded = read_image(tmp_path / "pt.png")
    assert loaded.meta.source_mode == "P" and loaded.alpha is not None
    index = np.asarray(im)
    np.testing.assert_array_equal(loaded.alpha, np.where(index == 2, 0, 255))
    np.testing.assert_array_equal(loaded.pixels[index == 0], [[255, 0, 0]] * (index == 0).sum())


def test_la_and_rgba_alpha_exact(tmp_path: Path) -> None:
    la = RNG.integers(0, 256, (9, 11, 2), dtype=np.uint8)
    Image.fromarray(la).save(tmp_path / "la.png")
    loaded = read_image(tmp_path / "la.png")
    assert loaded.meta.source_mode == "LA" and loaded.meta.was_grayscale
    np.testing.assert_array_equal(loaded.alpha, la[:, :, 1])
    np.testing.assert_array_equal(loaded.pixels, np.dstack([la[:, :, 0]] * 3))
    rgba = RNG.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    rgba[0, 0, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    loaded = read_image(tmp_path / "rgba.png")
    assert loaded.meta.source_mode == "RGBA"
    np.testing.assert_array_equal(loaded.alpha, rgba[:, :, 3])
    np.testing.assert_array_equal(loaded.pixels, rgba[:, :, :3])  # colour under alpha 0 kept


def test_rgb_colour_key_transparency_becomes_alpha(tmp_path: Path) -> None:
    pixels = rgb8()
    pixels[2, 3] = (1, 2, 3)
    Image.fromarray(pixels).save(tmp_path / "trns.png", transparency=(1, 2, 3))
    loaded = read_image(tmp_path / "trns.png")
    assert loaded.alpha is not None and loaded.alpha[2, 3] == 0
    assert (loaded.alpha == 0).sum() == (pixels == (1, 2, 3)).all(axis=2).sum()


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_reads_as_rgb(tmp_path: Path, suffix: str) -> None:
    cmyk = np.zeros((8, 8, 4), np.uint8)
    cmyk[:4, :, 0] = 255  # top half pure cyan, bottom half no ink (white)
    path = tmp_path / f"cmyk{suffix}"
    Image.frombytes("CMYK", (8, 8), cmyk.tobytes()).save(path, quality=100)
    loaded = read_image(path)
    assert loaded.meta.source_mode == "CMYK" and loaded.meta.icc_profile is None
    assert loaded.pixels.dtype == np.uint8 and loaded.pixels.shape == (8, 8, 3)
    assert np.abs(loaded.pixels[6, 4].astype(int) - 255).max() <= 3
    assert np.abs(loaded.pixels[1, 4].astype(int) - (0, 255, 255)).max() <= 3


def test_cmyk_with_unusable_profile_falls_back_and_drops_it(tmp_path: Path) -> None:
    cmyk = np.full((8, 8, 4), 0, np.uint8)
    path = tmp_path / "cmyk_badicc.jpg"
    # An RGB profile on CMYK data: LittleCMS refuses it.
    Image.frombytes("CMYK", (8, 8), cmyk.tobytes()).save(path, icc_profile=SRGB_ICC)
    loaded = read_image(path)
    assert loaded.meta.icc_profile is None  # the CMYK data's profile is never kept
    assert (loaded.pixels >= 250).all()


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3)])
def test_float_tiff_refused_clearly(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = tmp_path / "float.tif"
    photometric = "rgb" if len(shape) == 3 else "minisblack"
    tifffile.imwrite(path, np.zeros(shape, np.float32), photometric=photometric)
    # gray opens in Pillow as mode "F"; RGB float only in tifffile
    with pytest.raises(UnsupportedImage, match="float"):
        read_image(path)


def test_other_formats_refused(tmp_path: Path) -> None:
    path = tmp_path / "portable.png"
    Image.fromarray(rgb8()).save(path, "PPM")  # (GIF is read: tests/engine/test_io_quirks.py)
    with pytest.raises(UnsupportedImage, match="not a supported image"):
        read_image(path)


# --------------------------------------------------------------------------- bad input


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    good_jpg, good_png = io.BytesIO(), io.BytesIO()
    Image.fromarray(rgb8(64, 64)).save(good_jpg, "JPEG")
    Image.fromarray(rgb8(64, 64)).save(good_png, "PNG")
    ok, png16 = cv2.imencode(".png", rgb16(64, 64))
    assert ok
    files = {
        "zero-byte": b"",
        "text.jpg": b"This is not a picture, just some text.\n" * 5,
        "truncated.jpg": good_jpg.getvalue()[: len(good_jpg.getvalue()) // 2],
        "truncated.png": good_png.getvalue()[: len(good_png.getvalue()) // 2],
        "truncated16.png": png16.tobytes()[: len(png16.tobytes()) // 2],
        "corrupt.png": good_png.getvalue()[:60] + b"\x00" * 40 + good_png.getvalue()[100:],
        "random.jpg": b"\xff\xd8\xff" + RNG.integers(0, 256, 500, dtype=np.uint8).tobytes(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / (name if "." in name else name + ".png")
        paths[name].write_bytes(data)
    paths["missing"] = tmp_path / "does_not_exist.png"
    paths["directory"] = tmp_path / "folder.png"
    paths["directory"].mkdir()
    return paths


@pytest.mark.parametrize(
    "case",
    [
        "zero-byte",
        "text.jpg",
        "truncated.jpg",
        "truncated.png",
        "truncated16.png",
        "corrupt.png",
        "random.jpg",
        "missing",
        "directory",
    ],
)
def test_bad_input_raises_unsupported_image(tmp_path: Path, case: str) -> None:
    path = _bad_inputs(tmp_path)[case]
    with pytest.raises(UnsupportedImage) as info:
        read_image(path)
    message = str(info.value)
    assert path.name in message and "\n" not in message
    assert not isinstance(info.value, ImageTooLarge)
    with pytest.raises(UnsupportedImage):
        read_mask(path)


# --------------------------------------------------------------------------- pixel limit


def test_more_pixels_than_limit_raises_image_too_large(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(rgb8(20, 20)).save(path)
    with pytest.raises(ImageTooLarge) as info:
        read_image(path, max_pixels=100)
    assert "20x20" in str(info.value) and "100" in str(info.value)
    assert "small.png" in str(info.value)
    assert isinstance(info.value, UnsupportedImage)
    assert read_image(path, max_pixels=400).pixels.shape == (20, 20, 3)


@pytest.mark.parametrize("depth", [8, 16])
def test_png_header_claiming_huge_size_is_refused_without_decoding(
    tmp_path: Path, depth: int
) -> None:
    ihdr = struct.pack(">IIBBBBB", 30000, 30000, depth, 2, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="30000x30000"):
        read_image(path)
    assert time.perf_counter() - start < 2.0
    assert DEFAULT_MAX_PIXELS == 300_000_000


def test_webp_header_claiming_huge_size_is_refused_before_libwebp(tmp_path: Path) -> None:
    bits = (16000 - 1) | ((16000 - 1) << 14)  # VP8L: 14-bit width-1, 14-bit height-1
    payload = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 64
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    path = tmp_path / "bomb.webp"
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk)
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="16000x16000"):
        read_image(path, max_pixels=1_000_000)
    assert time.perf_counter() - start < 2.0


def test_pillow_limit_neither_applies_nor_leaks(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "img.png"
    Image.fromarray(rgb8(20, 20)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow would refuse 400 pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a DecompressionBombWarning
        assert read_image(path).pixels.shape == (20, 20, 3)
    assert Image.MAX_IMAGE_PIXELS == 50  # the caller's setting is restored


