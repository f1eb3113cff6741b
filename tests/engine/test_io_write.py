"""Image I/O: write failures, masks and the API surface."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from io_support import (
    files_in,
    make_exif,
    rgb8,
    rgb16,
)
from PIL import Image

import engine.io as eio
from engine.errors import ImageWriteError, UnsupportedImage
from engine.io import (
    SUPPORTED_READ_SUFFIXES,
    SUPPORTED_WRITE_SUFFIXES,
    ImageMeta,
    is_supported_image_path,
    png_stream,
    read_image,
    read_mask,
    tiff_exif,
    write_image,
)

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
    path = tmp_path / "x.jpg"  # Pillow's encoder (PNG is written by engine.io.png_stream)
    write_image(path, rgb8(), meta=ImageMeta("JPEG", "RGB", 8, False, make_exif().tobytes(), None))
    monkeypatch.undo()
    loaded = read_image(path)
    assert loaded.meta.exif is None and loaded.pixels.shape == (24, 32, 3)


def _fail_midway(*_args, **_kwargs):
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize(
    ("suffix", "dtype", "target", "attribute"),
    [
        (".png", np.uint8, png_stream, "filter_rows"),
        (".jpg", np.uint8, Image.Image, "save"),
        (".png", np.uint16, png_stream, "filter_rows"),
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
    assert expected | {".gif"} == SUPPORTED_READ_SUFFIXES  # GIF: read (first frame) only
    assert expected == SUPPORTED_WRITE_SUFFIXES
    assert isinstance(SUPPORTED_READ_SUFFIXES, frozenset)
    for name in ("a.JPG", "b.jpeg", "c.TiFf", "d.webp", Path("e/f.png"), "g.GIF"):
        assert is_supported_image_path(name)
    for name in ("b.txt", "noext", ".png", "dir.png/readme"):
        assert not is_supported_image_path(name)
    assert set(eio.__all__) >= {"read_image", "write_image", "read_mask", "ImageMeta"}

