"""Reading inpainting masks: :func:`read_mask`."""

from __future__ import annotations

import os

import numpy as np

from engine.errors import UnsupportedImage
from engine.io.read import read_image
from engine.io.types import DEFAULT_MAX_PIXELS

_ROWS = 512  # rows per block, to bound scratch memory on very large masks


def read_mask(
    path: str | os.PathLike[str],
    *,
    shape: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Read a mask file as a boolean H x W array, ``True`` where the image is to be filled.

    Any format :func:`read_image` reads; the EXIF orientation is applied, like for images.

    * Without alpha, or with an alpha channel that is opaque everywhere: a pixel is a hole
      when its luma (0.299 R + 0.587 G + 0.114 B) is at least half of full scale, i.e. white
      or bright = hole, black or dark = keep.
    * With alpha that has transparent parts, when all the visible pixels (alpha > 0) share one
      colour (the usual "strokes painted on a transparent layer"): hole = ``alpha > 0``.
    * With alpha and visible pixels of several colours: hole = bright (as above) and
      visible (``alpha > 0``); fully transparent pixels are never holes.

    Args:
        shape: expected ``(height, width)`` (the image's); a mask of another size raises
            :class:`UnsupportedImage` naming both sizes.
        max_pixels: as for :func:`read_image`.

    Raises:
        UnsupportedImage: unreadable file or size mismatch.
        ImageTooLarge: more pixels than ``max_pixels``.
    """
    # A mask is mostly one value: its data may expand far more than a photo's.
    loaded = read_image(path, max_pixels=max_pixels, compressible=True)
    height, width = loaded.height, loaded.width
    if shape is not None and (int(shape[0]), int(shape[1])) != (height, width):
        raise UnsupportedImage(
            f"{os.fsdecode(os.fspath(path))}: mask is {width}x{height} pixels but the image is "
            f"{int(shape[1])}x{int(shape[0])}"
        )
    pixels, alpha = loaded.pixels, loaded.alpha
    bright = _bright(pixels)
    if alpha is None:
        return bright
    visible = alpha > 0
    if visible.all():
        return bright
    if _uniform_where(pixels, visible):
        return visible
    return bright & visible


def _bright(pixels: np.ndarray) -> np.ndarray:
    """Luma >= 50 % of full scale, computed exactly in integers (weights sum to 1000)."""
    threshold = 500 * int(np.iinfo(pixels.dtype).max)
    out = np.empty(pixels.shape[:2], dtype=bool)
    for top in range(0, pixels.shape[0], _ROWS):
        block = pixels[top : top + _ROWS].astype(np.uint32)
        luma = 299 * block[:, :, 0] + 587 * block[:, :, 1] + 114 * block[:, :, 2]
        out[top : top + _ROWS] = luma >= threshold
    return out


def _uniform_where(pixels: np.ndarray, where: np.ndarray) -> bool:
    """Whether all pixels selected by ``where`` have the same colour (true if none are)."""
    selected = pixels[where]
    if selected.shape[0] == 0:
        return True
    return bool((selected == selected[0]).all())
