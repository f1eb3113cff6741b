"""Decoders for 16-bit-per-channel PNG and TIFF, which Pillow would reduce to 8 bits.

16-bit PNG goes through ``cv2.imdecode``; 16-bit TIFF through tifffile, falling back to
``cv2.imdecode`` for compressions tifffile cannot decode without ``imagecodecs`` (LZW,
PackBits, JPEG). Both return ``(rgb, alpha, was_grayscale)`` with RGB channel order.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import tifffile

from engine.errors import UnsupportedImage

# tifffile photometric values
_MINISWHITE, _MINISBLACK, _RGB = 0, 1, 2
# TIFF ExtraSamples values
_ASSOCIATED_ALPHA = 1
_ALPHA_KINDS = (1, 2)  # associated, unassociated; 0 ("unspecified") is not alpha


def _split_cv2(path: Path, array: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """cv2's (H x W | H x W x 1/3/4, BGR order) to contiguous RGB + optional alpha."""
    if array is None or array.size == 0:
        raise UnsupportedImage(f"{path}: cannot decode image (file is truncated or corrupt)")
    if array.ndim == 2 or (array.ndim == 3 and array.shape[2] == 1):
        gray = array.reshape(array.shape[0], array.shape[1])
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), None
    if array.ndim == 3 and array.shape[2] == 3:
        return np.ascontiguousarray(array[:, :, ::-1]), None
    if array.ndim == 3 and array.shape[2] == 4:
        return (
            np.ascontiguousarray(array[:, :, 2::-1]),
            np.ascontiguousarray(array[:, :, 3]),
        )
    raise UnsupportedImage(f"{path}: unsupported channel layout {array.shape}")


def _check_shape(path: Path, rgb: np.ndarray, size: tuple[int, int]) -> None:
    if rgb.shape[1] != size[0] or rgb.shape[0] != size[1]:
        raise UnsupportedImage(
            f"{path}: decoded size {rgb.shape[1]}x{rgb.shape[0]} does not match the header "
            f"({size[0]}x{size[1]})"
        )


def decode_png16(
    path: Path, data: bytes, size: tuple[int, int], colour_type: int
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Decode a 16-bit PNG held in ``data`` (``size`` is width, height from IHDR)."""
    array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    rgb, alpha = _split_cv2(path, array)
    if rgb.dtype != np.uint16:
        raise UnsupportedImage(f"{path}: expected 16-bit samples, decoder gave {rgb.dtype}")
    _check_shape(path, rgb, size)
    return rgb, alpha, colour_type in (0, 4)


def probe_tiff(path: Path) -> tuple[int, int, int, bytes | None]:
    """``(width, height, orientation, icc)`` of a TIFF's first page, read from its IFD only."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        tags = page.tags
        orientation = tags.get(274)
        try:
            value = int(orientation.value) if orientation is not None else 1
        except (TypeError, ValueError):
            value = 1
        icc_tag = tags.get(34675)
        icc = icc_tag.value if icc_tag is not None else None
        icc = bytes(icc) if isinstance(icc, (bytes, bytearray, np.ndarray)) else None
        return int(page.imagewidth), int(page.imagelength), value, icc


def decode_tiff(path: Path, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Decode the first page of an 8- or 16-bit RGB or grayscale TIFF, with alpha if present.

    Unsigned integer samples only; floating-point, signed and 32-bit TIFFs are refused, as are
    CMYK, YCbCr, Lab and palette TIFFs that Pillow could not open.
    """
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        dtype = np.dtype(page.dtype) if page.dtype is not None else None
        if dtype not in (np.dtype(np.uint8), np.dtype(np.uint16)):
            raise UnsupportedImage(
                f"{path}: {dtype} samples are not supported (only 8- and 16-bit unsigned "
                "integer TIFF); export it as 8- or 16-bit"
            )
        photometric = int(page.photometric)
        if photometric not in (_MINISWHITE, _MINISBLACK, _RGB):
            raise UnsupportedImage(
                f"{path}: TIFF colour space {page.photometric.name} is not supported "
                f"at {dtype.itemsize * 8} bits"
            )
        extrasamples = tuple(int(v) for v in (page.extrasamples or ()))
        try:
            array = page.asarray()
            axes = page.axes
        except (KeyError, ValueError, ImportError, NotImplementedError):
            # A codec tifffile lacks (LZW, PackBits, JPEG without imagecodecs): let OpenCV's
            # libtiff decode it.
            array = None
    if array is None:
        decoded = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        rgb, alpha = _split_cv2(path, decoded)
        _check_shape(path, rgb, size)
        return rgb, alpha, photometric != _RGB
    rgb, alpha = _tifffile_to_rgb(path, array, axes, photometric, extrasamples)
    _check_shape(path, rgb, size)
    return rgb, alpha, photometric != _RGB


def _tifffile_to_rgb(
    path: Path, array: np.ndarray, axes: str, photometric: int, extrasamples: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray | None]:
    if "S" in axes and axes.index("S") < axes.index("Y"):  # planar configuration: S Y X
        array = np.moveaxis(array, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    if axes not in ("YX", "YXS"):
        raise UnsupportedImage(f"{path}: unsupported TIFF layout {axes} {array.shape}")
    if array.ndim == 2:
        array = array[:, :, None]
    samples = array.shape[2]
    colour = 3 if photometric == _RGB else 1
    if samples < colour:
        raise UnsupportedImage(f"{path}: {samples} samples per pixel for a {colour}-channel image")
    maximum = np.iinfo(array.dtype).max
    base = array[:, :, :colour]
    if photometric == _MINISWHITE:
        base = maximum - base
    alpha = None
    if samples > colour and extrasamples and extrasamples[0] in _ALPHA_KINDS:
        alpha = np.ascontiguousarray(array[:, :, colour])
        if extrasamples[0] == _ASSOCIATED_ALPHA:
            base = _unpremultiply(base, alpha, maximum)
    if colour == 1:
        base = np.repeat(base, 3, axis=2)
    return np.ascontiguousarray(base, dtype=array.dtype), alpha


def _unpremultiply(colour: np.ndarray, alpha: np.ndarray, maximum: int) -> np.ndarray:
    """Undo premultiplied (associated) alpha, rounding; fully transparent pixels stay 0.

    Works in blocks of rows so that a 300-megapixel image does not need gigabytes of scratch.
    """
    out = np.empty(colour.shape, dtype=colour.dtype)
    for top in range(0, colour.shape[0], 256):
        a = alpha[top : top + 256].astype(np.uint32)[:, :, None]
        c = colour[top : top + 256].astype(np.uint32)
        block = (c * maximum + a // 2) // np.maximum(a, 1)
        block[np.broadcast_to(a == 0, block.shape)] = 0
        out[top : top + 256] = np.minimum(block, maximum)
    return out
