"""Tests of engine.io: reading, writing and masks, with fixture files made in tmp_path."""

from __future__ import annotations

import io
import os
import stat
import struct
import sys
import time
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational

import engine.io as eio
from engine.errors import ImageTooLarge, ImageWriteError, UnsupportedImage
from engine.io import (
    DEFAULT_MAX_PIXELS,
    SUPPORTED_READ_SUFFIXES,
    SUPPORTED_WRITE_SUFFIXES,
    ImageMeta,
    is_supported_image_path,
    read_image,
    read_mask,
    tiff_exif,
    write_image,
)
from engine.io.metadata import clean_exif

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
RNG = np.random.default_rng(1234)


# --------------------------------------------------------------------------- helpers


def rgb8(h: int = 24, w: int = 32) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def rgb16(h: int = 24, w: int = 32) -> np.ndarray:
    return RNG.integers(0, 65536, (h, w, 3), dtype=np.uint16)


def smooth8(h: int = 48, w: int = 64) -> np.ndarray:
    """A gradient JPEG compresses almost losslessly (random noise would not)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.dstack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)]).astype(
        np.uint8
    )


def make_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS 5D"  # Model
    exif[0x013B] = "Ansel Adams"  # Artist
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "1941:10:31 16:00:00"  # DateTimeOriginal
    return exif


def parsed(meta_exif: bytes | None) -> Image.Exif:
    assert meta_exif is not None
    assert meta_exif.startswith(b"Exif\x00\x00")
    exif = Image.Exif()
    exif.load(meta_exif)
    return exif


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, asserting each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        out.append((kind, body))
        pos += 12 + length
    return out


def insert_after_ihdr(png: bytes, *chunks: bytes) -> bytes:
    return png[:33] + b"".join(chunks) + png[33:]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff", ".bmp", ".webp", ".PNG"])
def test_round_trip_8bit_lossless(tmp_path: Path, suffix: str) -> None:
    pixels = rgb8()
    path = tmp_path / f"img{suffix}"
    write_image(path, pixels, quality=100)
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint8
    assert loaded.pixels.flags.c_contiguous and loaded.pixels.flags.writeable
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert loaded.alpha is None
    assert loaded.meta.bit_depth == 8
    formats = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP", ".webp": "WEBP"}
    assert loaded.meta.source_format == formats[suffix.lower()]
    assert files_in(tmp_path) == [path.name]


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".JPG"])
def test_round_trip_jpeg_within_tolerance(tmp_path: Path, suffix: str) -> None:
    pixels = smooth8()
    path = tmp_path / f"img{suffix}"
    write_image(path, pixels, quality=95)
    loaded = read_image(path)
    assert loaded.meta.source_format == "JPEG"
    assert loaded.pixels.shape == pixels.shape and loaded.pixels.dtype == np.uint8
    diff = np.abs(loaded.pixels.astype(int) - pixels.astype(int))
    assert diff.mean() < 1.5 and diff.max() <= 12


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp"])
def test_round_trip_8bit_alpha(tmp_path: Path, suffix: str) -> None:
    pixels, alpha = rgb8(), RNG.integers(0, 256, (24, 32), dtype=np.uint8)
    alpha[0, :] = 255  # some fully opaque, some fully transparent
    alpha[1, :] = 0
    path = tmp_path / f"img{suffix}"
    write_image(path, pixels, alpha=alpha, quality=100)
    loaded = read_image(path)
    np.testing.assert_array_equal(loaded.alpha, alpha)
    visible = alpha > 0  # WebP may drop the colour of fully transparent pixels
    np.testing.assert_array_equal(loaded.pixels[visible], pixels[visible])


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_alpha_dropped_where_format_has_none(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"img{suffix}"
    write_image(path, smooth8(), alpha=np.zeros((48, 64), np.uint8))
    assert read_image(path).alpha is None


def test_16bit_png_round_trip_keeps_depth_icc_exif(tmp_path: Path) -> None:
    pixels, alpha = rgb16(), RNG.integers(0, 65536, (24, 32), dtype=np.uint16)
    meta = ImageMeta("PNG", "RGB;16", 16, False, make_exif().tobytes(), SRGB_ICC)
    path = tmp_path / "img16.png"
    write_image(path, pixels, alpha=alpha, meta=meta)
    chunks = png_chunks(path.read_bytes())  # every CRC is right
    kinds = [kind for kind, _ in chunks]
    assert kinds[:3] == [b"IHDR", b"iCCP", b"eXIf"] and kinds[-1] == b"IEND"
    assert chunks[0][1][8] == 16  # IHDR bit depth
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16 and loaded.alpha is not None
    assert loaded.alpha.dtype == np.uint16
    np.testing.assert_array_equal(loaded.pixels, pixels)
    np.testing.assert_array_equal(loaded.alpha, alpha)
    assert loaded.meta.bit_depth == 16 and loaded.meta.source_mode == "RGBA;16"
    assert loaded.meta.icc_profile == SRGB_ICC
    exif = parsed(loaded.meta.exif)
    assert exif[0x010F] == "Canon" and exif[0x013B] == "Ansel Adams"
    assert exif.get_ifd(0x8769)[0x9003] == "1941:10:31 16:00:00"
    with Image.open(path) as im:  # other readers see the same metadata
        assert im.info["icc_profile"] == SRGB_ICC
        assert im.getexif()[0x0110] == "EOS 5D"


def test_16bit_tiff_round_trip_keeps_depth_icc_and_exif(tmp_path: Path) -> None:
    pixels = rgb16()
    meta = ImageMeta("TIFF", "RGB;16", 16, False, make_exif().tobytes(), SRGB_ICC)
    path = tmp_path / "img16.tif"
    write_image(path, pixels, meta=meta)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages.first.dtype == np.uint16
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16 and loaded.alpha is None
    np.testing.assert_array_equal(loaded.pixels, pixels)
    assert loaded.meta.source_format == "TIFF" and loaded.meta.bit_depth == 16
    assert loaded.meta.icc_profile == SRGB_ICC
    exif = parsed(loaded.meta.exif)
    assert (exif[0x010F], exif[0x0110], exif[0x013B]) == ("Canon", "EOS 5D", "Ansel Adams")
    assert exif.get_ifd(0x8769)[0x9003] == "1941:10:31 16:00:00"
    assert 273 not in exif and 34675 not in exif  # storage tags and ICC are not EXIF


def make_full_exif() -> Image.Exif:
    """A camera-like EXIF: IFD0 extras, Exif sub-IFD with Interop, and a GPS sub-IFD."""
    exif = make_exif(orientation=1)
    exif[0x0132] = "2020:06:01 12:00:00"  # DateTime
    exif[0x011A], exif[0x011B], exif[0x0128] = IFDRational(300), IFDRational(300), 2
    exif[0x4746] = 4  # Rating
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = IFDRational(1, 250)  # ExposureTime
    sub[0x829D] = IFDRational(28, 10)  # FNumber
    sub[0x8827] = 400  # ISOSpeedRatings
    sub[0x9004] = "1941:10:31 16:00:00"  # DateTimeDigitized
    sub[0xA002], sub[0xA003] = 4000, 3000  # PixelX/YDimension of the camera's size
    sub[0xA005] = {0x0001: "R98"}  # Interop IFD: InteropIndex
    gps = exif.get_ifd(0x8825)
    gps[0x0000] = b"\x02\x03\x00\x00"  # GPSVersionID
    gps[0x0001], gps[0x0003] = "N", "W"  # GPSLatitudeRef, GPSLongitudeRef
    gps[0x0002] = (IFDRational(51), IFDRational(30), IFDRational(1234, 100))  # GPSLatitude
    gps[0x0004] = (IFDRational(0), IFDRational(7), IFDRational(3999, 100))  # GPSLongitude
    gps[0x0006] = IFDRational(355, 10)  # GPSAltitude
    return exif


def assert_full_exif(exif: Image.Exif, size: tuple[int, int]) -> None:
    assert (exif[0x010F], exif[0x0110], exif[0x013B]) == ("Canon", "EOS 5D", "Ansel Adams")
    assert exif[0x0132] == "2020:06:01 12:00:00" and exif[0x4746] == 4
    assert (exif[0x011A], exif[0x011B], exif[0x0128]) == (300, 300, 2)
    sub = exif.get_ifd(0x8769)
    assert sub[0x9003] == "1941:10:31 16:00:00" and sub[0x9004] == "1941:10:31 16:00:00"
    assert sub[0x829A] == IFDRational(1, 250) and sub[0x829D] == IFDRational(28, 10)
    assert sub[0x8827] == 400
    assert (sub[0xA002], sub[0xA003]) == size  # updated to the written image
    assert exif.get_ifd(0xA005)[0x0001] == "R98"
    gps = exif.get_ifd(0x8825)
    assert gps[0x0000] == b"\x02\x03\x00\x00"
    assert (gps[0x0001], gps[0x0003]) == ("N", "W")
    assert gps[0x0002] == (51, 30, IFDRational(1234, 100))
    assert gps[0x0004] == (0, 7, IFDRational(3999, 100))
    assert gps[0x0006] == IFDRational(355, 10)


def ifd0_codes(path: Path) -> list[int]:
    data = path.read_bytes()
    assert data[:4] == b"II*\x00"
    (offset,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, offset)
    return [struct.unpack_from("<H", data, offset + 2 + 12 * i)[0] for i in range(count)]


@pytest.mark.parametrize("source", [".jpg", ".png"])
@pytest.mark.parametrize("layout", ["rgb", "rgba", "gray", "gray_alpha"])
def test_16bit_tiff_keeps_exif_and_gps_sub_ifds(tmp_path: Path, source: str, layout: str) -> None:
    src = tmp_path / f"camera{source}"
    Image.fromarray(smooth8()).save(src, exif=make_full_exif().tobytes(), quality=95)
    loaded = read_image(src)
    pixels = loaded.pixels.astype(np.uint16) * 257
    if layout.startswith("gray"):
        pixels = pixels[:, :, 0]
    alpha = np.full(pixels.shape[:2], 40000, np.uint16) if layout.endswith("alpha") else None
    path = tmp_path / "out16.tif"
    write_image(path, pixels, alpha=alpha, meta=loaded.meta)
    codes = ifd0_codes(path)
    assert codes == sorted(codes) and 0x8769 in codes and 0x8825 in codes
    assert 0x8768 not in codes and 0x8824 not in codes  # the placeholders were renamed
    with tifffile.TiffFile(path) as tif:  # tifffile follows the pointers too
        tags = tif.pages.first.tags
        assert tif.pages.first.dtype == np.uint16
        assert tags["ExifTag"].value["DateTimeOriginal"] == "1941:10:31 16:00:00"
        assert tags["GPSTag"].value["GPSLatitudeRef"] == "N"
    back = read_image(path)
    assert back.meta.bit_depth == 16
    np.testing.assert_array_equal(
        back.pixels[:, :, 0], pixels if pixels.ndim == 2 else pixels[..., 0]
    )
    assert_full_exif(parsed(back.meta.exif), (64, 48))
    if layout != "gray_alpha":  # Pillow cannot open 16-bit gray + alpha TIFF
        with Image.open(path) as im:
            exif = im.getexif()
            assert_full_exif(exif, (64, 48))
            assert 0x8768 not in exif and 0x8824 not in exif


def test_16bit_tiff_leaves_out_what_cannot_be_encoded() -> None:
    exif = make_full_exif()
    exif[0x9C9B] = object()  # XPTitle that Pillow cannot write
    exif.get_ifd(0x8769)[0x9286] = object()  # UserComment likewise
    cleaned = clean_exif(exif)
    subs = tiff_exif.sub_ifds(cleaned)
    assert 0x9286 not in subs[0x8769] and subs[0x8769][0x9003] == "1941:10:31 16:00:00"
    assert 0x0002 in subs[0x8825]
    codes = [tag[0] for tag in tiff_exif.ifd0_extratags(cleaned, subs)]
    assert 0x9C9B not in codes and 0x010F in codes and 0x8769 not in codes
    assert tiff_exif.sub_ifds(None) == {} and tiff_exif.ifd0_extratags(None, {}) == []


def test_sub_ifd_without_its_placeholder_is_left_out() -> None:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgb16(), photometric="rgb", byteorder="<")
    before = buffer.getvalue()
    tiff_exif.append_sub_ifds(buffer, 0, {0x8769: {0x9003: "1941:10:31 16:00:00"}})
    assert buffer.getvalue() == before


def test_16bit_tiff_ifd0_text_is_kept_byte_for_byte(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x013B] = b"J\xfcrgen"  # Latin-1 Artist, as some cameras write it
    exif[0x010E] = "A description"
    path = tmp_path / "latin.tif"
    write_image(path, rgb16(), meta=ImageMeta("JPEG", "RGB", 8, False, exif.tobytes(), None))
    with Image.open(path) as im:
        assert im.getexif()[0x013B] == "J\xfcrgen" and im.getexif()[0x010E] == "A description"
        assert 0x8769 not in im.getexif()  # no sub-IFD to point at


def test_16bit_tiff_gray_alpha_round_trip(tmp_path: Path) -> None:
    gray, alpha = rgb16()[:, :, 0], rgb16()[:, :, 1]
    path = tmp_path / "gray16.tif"
    write_image(path, gray, alpha=alpha)
    loaded = read_image(path)
    assert loaded.meta.was_grayscale and loaded.meta.source_mode == "LA;16"
    np.testing.assert_array_equal(loaded.pixels, np.dstack([gray] * 3))
    np.testing.assert_array_equal(loaded.alpha, alpha)


def test_16bit_tiff_lzw_written_by_opencv(tmp_path: Path) -> None:
    """LZW needs imagecodecs in tifffile; the reader falls back to OpenCV's libtiff."""
    pixels = rgb16()
    ok, data = cv2.imencode(".tif", np.ascontiguousarray(pixels[:, :, ::-1]))
    assert ok
    path = tmp_path / "lzw.tif"
    path.write_bytes(data.tobytes())
    loaded = read_image(path)
    assert loaded.pixels.dtype == np.uint16
    np.testing.assert_array_equal(loaded.pixels, pixels)


def test_16bit_tiff_planar_and_minisblack(tmp_path: Path) -> None:
    pixels = rgb16()
    planar = tmp_path / "planar.tif"
    tifffile.imwrite(planar, np.moveaxis(pixels, -1, 0), photometric="rgb", planarconfig="separate")
    np.testing.assert_array_equal(read_image(planar).pixels, pixels)
    gray = tmp_path / "gray.tif"
    tifffile.imwrite(gray, pixels[:, :, 0], photometric="minisblack")
    loaded = read_image(gray)
    assert loaded.meta.was_grayscale and loaded.meta.source_mode == "I;16"
    np.testing.assert_array_equal(loaded.pixels, np.dstack([pixels[:, :, 0]] * 3))


def test_16bit_tiff_miniswhite_and_associated_alpha(tmp_path: Path) -> None:
    values = rgb16()[:, :, 0]
    tifffile.imwrite(tmp_path / "white.tif", values, photometric="miniswhite")
    loaded = read_image(tmp_path / "white.tif")
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], 65535 - values)
    colour = rgb16()
    alpha = np.full(colour.shape[:2], 65535, np.uint16)
    alpha[:8], alpha[8:16] = 0, 32768
    premultiplied = (colour.astype(np.uint64) * alpha[:, :, None] + 32767) // 65535
    data = np.dstack([premultiplied.astype(np.uint16), alpha])
    tifffile.imwrite(tmp_path / "assoc.tif", data, photometric="rgb", extrasamples=["assocalpha"])
    loaded = read_image(tmp_path / "assoc.tif")
    np.testing.assert_array_equal(loaded.alpha, alpha)
    np.testing.assert_array_equal(loaded.pixels[16:], colour[16:])
    assert (loaded.pixels[:8] == 0).all()
    assert np.abs(loaded.pixels[8:16].astype(int) - colour[8:16]).max() <= 2


def test_tiff_pillow_cannot_open_is_read_with_tifffile(tmp_path: Path) -> None:
    """16-bit RGB with two unspecified extra samples: Pillow gives up, tifffile does not."""
    data = RNG.integers(0, 65536, (6, 7, 5), dtype=np.uint16)
    path = tmp_path / "five.tif"
    tifffile.imwrite(path, data, photometric="rgb", extrasamples=["unspecified"] * 2)
    with pytest.raises(UnidentifiedImageError):  # the premise of this test
        Image.open(path)
    loaded = read_image(path)
    np.testing.assert_array_equal(loaded.pixels, data[:, :, :3])
    assert loaded.alpha is None  # unspecified extra samples are not alpha
    assert loaded.meta.source_format == "TIFF" and loaded.meta.bit_depth == 16
    with pytest.raises(ImageTooLarge):
        read_image(path, max_pixels=41)


def test_mpo_reads_first_frame_as_jpeg(tmp_path: Path) -> None:
    first, second = smooth8(), smooth8()[::-1].copy()
    path = tmp_path / "camera.jpg"
    Image.fromarray(first).save(
        path, "MPO", save_all=True, append_images=[Image.fromarray(second)], quality=100
    )
    loaded = read_image(path)
    assert loaded.meta.source_format == "JPEG"
    assert np.abs(loaded.pixels.astype(int) - first).mean() < 2


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_exif_and_icc_round_trip(tmp_path: Path, suffix: str) -> None:
    meta = ImageMeta("JPEG", "RGB", 8, False, make_exif().tobytes(), SRGB_ICC)
    path = tmp_path / f"meta{suffix}"
    write_image(path, smooth8(), meta=meta, quality=100)
    loaded = read_image(path)
    assert loaded.meta.icc_profile == SRGB_ICC
    exif = parsed(loaded.meta.exif)
    assert (exif[0x010F], exif[0x0110], exif[0x013B]) == ("Canon", "EOS 5D", "Ansel Adams")
    assert exif.get_ifd(0x8769)[0x9003] == "1941:10:31 16:00:00"


def test_no_exif_or_icc_gives_none(tmp_path: Path) -> None:
    for suffix in (".jpg", ".png", ".tif", ".webp", ".bmp"):
        path = tmp_path / f"plain{suffix}"
        Image.fromarray(smooth8()).save(path)
        meta = read_image(path).meta
        assert (meta.exif, meta.icc_profile) == (None, None), suffix


def test_written_exif_orientation_is_reset_and_sizes_updated(tmp_path: Path) -> None:
    exif = make_exif(orientation=6)
    exif.get_ifd(0x8769)[0xA002] = 4000  # PixelXDimension of some earlier size
    exif.get_ifd(0x8769)[0xA003] = 3000
    path = tmp_path / "out.jpg"
    pixels = smooth8()
    write_image(path, pixels, meta=ImageMeta("JPEG", "RGB", 8, False, exif.tobytes(), None))
    loaded = read_image(path)
    assert loaded.pixels.shape == pixels.shape  # not rotated by a stale tag
    written = parsed(loaded.meta.exif)
    assert written[0x0112] == 1
    assert written.get_ifd(0x8769)[0xA002] == 64 and written.get_ifd(0x8769)[0xA003] == 48


def test_icc_of_wrong_colour_space_is_not_embedded(tmp_path: Path) -> None:
    gray_icc = SRGB_ICC[:16] + b"GRAY" + SRGB_ICC[20:]  # header says GRAY
    path = tmp_path / "rgb.png"
    write_image(path, rgb8(), meta=ImageMeta("PNG", "L", 8, True, None, gray_icc))
    assert read_image(path).meta.icc_profile is None
    write_image(path, rgb8()[:, :, 0], meta=ImageMeta("PNG", "L", 8, True, None, gray_icc))
    assert read_image(path).meta.icc_profile == gray_icc


def test_uint16_to_8bit_formats_rounds(tmp_path: Path) -> None:
    pixels = rgb16()
    pixels[0, 0] = (0, 65535, 128)
    expected = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    for suffix in (".bmp", ".webp"):
        path = tmp_path / f"down{suffix}"
        write_image(path, pixels, quality=100)
        loaded = read_image(path)
        assert loaded.pixels.dtype == np.uint8 and loaded.meta.bit_depth == 8
        np.testing.assert_array_equal(loaded.pixels, expected)


def test_gray_pixels_written_as_gray(tmp_path: Path) -> None:
    gray = rgb8()[:, :, 0]
    for suffix in (".png", ".jpg", ".tif"):
        path = tmp_path / f"gray{suffix}"
        write_image(path, gray[:, :, None], quality=100)
        loaded = read_image(path)
        assert loaded.meta.was_grayscale and loaded.meta.source_mode == "L", suffix
        assert (loaded.pixels[:, :, 0] == loaded.pixels[:, :, 2]).all()


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
    path = tmp_path / "anim.png"
    Image.fromarray(rgb8()).save(path, "GIF")
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


# --------------------------------------------------------------------------- write failures


@pytest.mark.parametrize("name", ["out.gif", "out", "out.exr"])
def test_unknown_suffix_raises(tmp_path: Path, name: str) -> None:
    with pytest.raises(ImageWriteError) as info:
        write_image(tmp_path / name, rgb8())
    assert ".png" in str(info.value) and ".webp" in str(info.value)
    assert files_in(tmp_path) == []


def test_missing_folder_and_file_as_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "no" / "such" / "out.png", rgb8())
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(ImageWriteError):
        write_image(tmp_path / "afile" / "out.png", rgb8())
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageWriteError):
        write_image(tmp_path / "dir.png", rgb8())
    assert not (tmp_path / "no").exists()


def test_permission_denied_on_folder(tmp_path: Path, monkeypatch) -> None:
    """The folder refuses new files (simulated: root, as on CI, ignores permission bits)."""
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if Path(path).parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageWriteError, match="Permission denied") as info:
        write_image(tmp_path / "out.png", rgb8())
    monkeypatch.undo()
    assert "out.png" in str(info.value)
    assert files_in(tmp_path) == []


def test_exif_the_encoder_refuses_is_dropped_not_fatal(tmp_path: Path, monkeypatch) -> None:
    real_save = Image.Image.save

    def picky_save(self, fp, *args, **kwargs):
        if "exif" in kwargs:
            fp.write(b"partial garbage")
            raise ValueError("cannot write this EXIF")
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", picky_save)
    path = tmp_path / "x.png"
    write_image(path, rgb8(), meta=ImageMeta("PNG", "RGB", 8, False, make_exif().tobytes(), None))
    monkeypatch.undo()
    loaded = read_image(path)
    assert loaded.meta.exif is None and loaded.pixels.shape == (24, 32, 3)


def _fail_midway(*_args, **_kwargs):
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize(
    ("suffix", "dtype", "target", "attribute"),
    [
        (".png", np.uint8, Image.Image, "save"),
        (".jpg", np.uint8, Image.Image, "save"),
        (".png", np.uint16, cv2, "imencode"),
        (".tif", np.uint16, tifffile, "imwrite"),
        (".tif", np.uint16, tiff_exif, "append_sub_ifds"),
        (".tif", np.uint8, os, "replace"),
    ],
)
def test_failure_during_write_keeps_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch, suffix: str, dtype, target, attribute: str
) -> None:
    path = tmp_path / f"keep{suffix}"
    write_image(path, rgb8())
    before = path.read_bytes()
    seen_temp: list[list[str]] = []

    def fail(*args, **kwargs):
        seen_temp.append(files_in(tmp_path))  # the temporary file exists at this point
        return _fail_midway()

    monkeypatch.setattr(target, attribute, fail)
    pixels = rgb16() if dtype == np.uint16 else rgb8()
    with pytest.raises(ImageWriteError) as info:
        write_image(path, pixels)
    monkeypatch.undo()
    assert "keep" in str(info.value) and "disk on fire" in str(info.value)
    assert len(seen_temp[0]) == 2  # old file + temporary file
    assert files_in(tmp_path) == [path.name]
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("pixels", "alpha"),
    [
        (np.zeros((4, 5, 3), np.float32), None),
        (np.zeros((4, 5, 4), np.uint8), None),
        (np.zeros((4, 5, 3, 1), np.uint8), None),
        (np.zeros((0, 5, 3), np.uint8), None),
        ([[1, 2, 3]], None),
        (np.zeros((4, 5, 3), np.uint8), np.zeros((5, 4), np.uint8)),
        (np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), np.float64)),
    ],
)
def test_invalid_arrays_raise_image_write_error(tmp_path: Path, pixels, alpha) -> None:
    with pytest.raises(ImageWriteError):
        write_image(tmp_path / "bad.png", pixels, alpha=alpha)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("quality", [0, 101, 9.5, True])
def test_invalid_quality(tmp_path: Path, quality) -> None:
    with pytest.raises(ImageWriteError, match="quality"):
        write_image(tmp_path / "q.jpg", rgb8(), quality=quality)


def test_alpha_dtype_converted_to_pixel_depth(tmp_path: Path) -> None:
    path = tmp_path / "a16.png"
    write_image(path, rgb16(), alpha=np.full((24, 32), 255, np.uint8))
    assert (read_image(path).alpha == 65535).all()
    write_image(path, rgb8(), alpha=np.eye(24, 32, dtype=bool))
    np.testing.assert_array_equal(read_image(path).alpha, np.eye(24, 32, dtype=np.uint8) * 255)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_written_file_honours_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_image(tmp_path / "perm.png", rgb8())
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "perm.png").stat().st_mode) == 0o644


def test_overwrite_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    write_image(path, rgb8())
    second = rgb8()
    write_image(path, second)
    np.testing.assert_array_equal(read_image(path).pixels, second)
    assert files_in(tmp_path) == ["x.png"]


# --------------------------------------------------------------------------- masks


def test_mask_threshold_at_half_brightness(tmp_path: Path) -> None:
    values = np.array([[0, 127, 128, 255]], np.uint8)
    Image.fromarray(values).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), [[False, False, True, True]])
    colours = np.array([[[255, 0, 0], [255, 255, 255], [0, 255, 0], [0, 0, 0]]], np.uint8)
    Image.fromarray(colours).save(tmp_path / "c.png")  # luma: red 76, green 150
    mask = read_mask(tmp_path / "c.png")
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, [[False, True, True, False]])


def test_mask_16bit(tmp_path: Path) -> None:
    values = np.array([[0, 32767, 32768, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "m16.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m16.png"), [[False, False, True, True]])


def test_mask_uniform_colour_uses_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((3, 4, 4), np.uint8)  # black strokes on a transparent layer
    rgba[1, 1:3, 3] = 255
    rgba[2, 0, 3] = 10
    Image.fromarray(rgba).save(tmp_path / "strokes.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "strokes.png"), rgba[:, :, 3] > 0)


def test_mask_opaque_alpha_uses_brightness(tmp_path: Path) -> None:
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[:, :, 3] = 255
    rgba[0, 0, :3] = 255
    Image.fromarray(rgba).save(tmp_path / "opaque.png")
    np.testing.assert_array_equal(
        read_mask(tmp_path / "opaque.png"), [[True, False], [False, False]]
    )


def test_mask_shape_check_and_orientation(tmp_path: Path) -> None:
    stored = np.zeros((2, 3), np.uint8)  # stored 3 wide, 2 high; orientation 6 makes it 2x3
    stored[0, 0] = 255
    path = tmp_path / "rot.png"
    Image.fromarray(stored).save(path, exif=make_exif(6).tobytes())
    mask = read_mask(path, shape=(3, 2))
    assert mask.shape == (3, 2) and mask.sum() == 1 and mask[0, 1]
    with pytest.raises(UnsupportedImage) as info:
        read_mask(path, shape=(2, 3))
    assert "2x3" in str(info.value) and "3x2" in str(info.value)


# --------------------------------------------------------------------------- API surface


def test_suffixes_and_path_filter() -> None:
    expected = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
    assert SUPPORTED_READ_SUFFIXES == expected == SUPPORTED_WRITE_SUFFIXES
    assert isinstance(SUPPORTED_READ_SUFFIXES, frozenset)
    for name in ("a.JPG", "b.jpeg", "c.TiFf", "d.webp", Path("e/f.png")):
        assert is_supported_image_path(name)
    for name in ("a.gif", "b.txt", "noext", ".png", "dir.png/readme"):
        assert not is_supported_image_path(name)
    assert set(eio.__all__) >= {"read_image", "write_image", "read_mask", "ImageMeta"}
