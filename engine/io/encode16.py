"""The TIFF encoder (tifffile), for 8- and 16-bit pixels.

Pillow cannot hold 48-bit RGB and copies 8-bit RGB into 4 bytes a pixel; tifffile writes
from the array itself, a strip at a time. The TIFF gets the ICC tag and the whole EXIF
(IFD0 tags in its IFD0, the Exif and GPS sub-IFDs appended by :mod:`engine.io.tiff_exif`).
PNG is `engine.io.png_stream`'s.
"""

from __future__ import annotations

from typing import IO, Any

import numpy as np
import tifffile
from PIL import Image

from engine.io import tiff_exif


def _resolution(exif: Image.Exif | None) -> dict[str, Any]:
    """tifffile's ``resolution``/``resolutionunit`` arguments from ``exif``, if it has them."""
    if exif is None:
        return {}
    try:
        x_res, y_res = float(exif[282]), float(exif[283])
        unit = int(exif.get(296, 2))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return {}
    if x_res > 0 and y_res > 0 and unit in (1, 2, 3):
        return {"resolution": (x_res, y_res), "resolutionunit": unit}
    return {}


def write_tiff16(
    fh: IO[bytes],
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    *,
    icc: bytes | None,
    exif: Image.Exif | None,
) -> None:
    """Write a little-endian, Deflate-compressed 8- or 16-bit TIFF (gray or RGB, unassociated alpha
    if given) at the current position of ``fh``, which must be readable and seekable.

    Keeps the ICC profile and the EXIF: its IFD0 tags (resolution included) go in the TIFF's
    IFD0, and the Exif and GPS sub-IFDs are appended after the image and pointed at from IFD0
    (see :mod:`engine.io.tiff_exif`).
    """
    subs = tiff_exif.sub_ifds(exif)
    start = fh.tell()
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
        software=False,
        byteorder="<",
        extratags=tiff_exif.ifd0_extratags(exif, subs),
        **_resolution(exif),
    )
    tiff_exif.append_sub_ifds(fh, start, subs)
