"""Encoders for 16-bit-per-channel PNG (OpenCV) and TIFF (tifffile), and 16 to 8-bit reduction.

Pillow cannot hold 48-bit RGB, so 16-bit output bypasses it. The PNG gets its ``iCCP`` and
``eXIf`` chunks spliced in after ``IHDR``; the TIFF gets the ICC tag and the textual EXIF tags.
"""

from __future__ import annotations

import re
from typing import IO, Any

import cv2
import numpy as np
import tifffile
from PIL import Image

from engine.io.metadata import TIFF_TEXT_TAGS, png_add_metadata

_DATETIME = re.compile(r"^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$")
# tifffile has dedicated arguments for these; the rest go in as extra tags.
_DEDICATED = {270: "description", 305: "software", 306: "datetime"}


def to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit to 8-bit with rounding: ``(x + 128) // 257`` (65535 -> 255, 0 -> 0)."""
    if values.dtype == np.uint8:
        return values
    return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)


def encode_png16(
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc: bytes | None,
    exif: bytes | None,
) -> bytes:
    """A complete 16-bit PNG: gray, RGB or RGBA (gray + alpha is widened to RGBA)."""
    if pixels.ndim == 2 and alpha is not None:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim == 2:
        bgr = pixels
    elif alpha is None:
        bgr = pixels[:, :, ::-1]
    else:
        bgr = np.dstack([pixels[:, :, ::-1], alpha])
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise RuntimeError("OpenCV could not encode the 16-bit PNG")
    return png_add_metadata(encoded.tobytes(), icc=icc, exif=exif)


def _text(value: Any) -> bytes | None:
    """Pillow decodes TIFF ASCII as Latin-1; encode it back the same way, byte for byte."""
    if isinstance(value, bytes):
        text = value
    elif isinstance(value, str):
        text = value.encode("latin-1", "replace")
    else:
        return None
    text = text.rstrip(b"\x00")
    return text or None


def _tiff_tags(exif: Image.Exif | None) -> dict[str, Any]:
    """tifffile keyword arguments carrying what of ``exif`` a tifffile TIFF can hold."""
    kwargs: dict[str, Any] = {"software": False, "extratags": []}
    if exif is None:
        return kwargs
    for tag in TIFF_TEXT_TAGS:
        value = _text(exif.get(tag))
        if value is None:
            continue
        if tag == 306:
            if _DATETIME.match(value.decode("latin-1")):
                kwargs["datetime"] = value.decode("latin-1")
        elif tag in _DEDICATED:
            kwargs[_DEDICATED[tag]] = value
        else:
            kwargs["extratags"].append((tag, "s", 0, value, True))
    try:
        x_res, y_res = float(exif[282]), float(exif[283])
        unit = int(exif.get(296, 2))
        if x_res > 0 and y_res > 0 and unit in (1, 2, 3):
            kwargs["resolution"] = (x_res, y_res)
            kwargs["resolutionunit"] = unit
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        pass
    return kwargs


def write_tiff16(
    fh: IO[bytes],
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc: bytes | None,
    exif: Image.Exif | None,
) -> None:
    """Write a Deflate-compressed 16-bit TIFF (gray or RGB, unassociated alpha if given).

    Keeps the ICC profile and the textual IFD0 EXIF tags plus resolution; tifffile cannot
    write the Exif/GPS sub-IFDs, so those are not kept.
    """
    gray = pixels.ndim == 2
    data = pixels if alpha is None else np.dstack([pixels, alpha])
    tifffile.imwrite(
        fh,
        np.ascontiguousarray(data),
        photometric="minisblack" if gray else "rgb",
        planarconfig="contig" if data.ndim == 3 else None,
        extrasamples=("unassalpha",) if alpha is not None else None,
        compression="zlib",
        predictor=True,
        iccprofile=icc or None,
        metadata=None,
        **_tiff_tags(exif),
    )
