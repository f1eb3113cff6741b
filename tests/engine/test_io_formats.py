"""Image I/O: round trips of every format and depth, with EXIF and ICC."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from io_support import (
    RNG,
    SRGB_ICC,
    files_in,
    make_exif,
    parsed,
    png_chunks,
    rgb8,
    rgb16,
    smooth8,
)
from PIL import Image, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational

from engine.errors import ImageTooLarge
from engine.io import (
    ImageMeta,
    read_image,
    tiff_exif,
    write_image,
)
from engine.io.metadata import clean_exif

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


