"""Pixel policies the whole application shares, written once (numpy only, no torch).

- value scales: integer pixels <-> float32 on [0, 1] (`to_unit`, `from_unit`);
- bit depth: 8 <-> 16 bits with rounding (`convert_depth`), for display, files and layers;
- colour: is a photo grey, toned or coloured (`is_grey`, `colourfulness`, `has_colour`).

`engine.api` re-exports what the editor needs; the engine's tasks, its image writers and
the trainers import it directly.
"""

from __future__ import annotations

import numpy as np


def pixel_scale(dtype: np.dtype) -> float:
    """The value of full white: 255 or 65535 for integer images, 1.0 for float ones."""
    if np.issubdtype(dtype, np.floating):
        return 1.0
    return float(np.iinfo(dtype).max)


def to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 pixels -> float32 in [0, 1] (float32 input is returned as float32)."""
    return pixels.astype(np.float32) / np.float32(pixel_scale(pixels.dtype))


def from_unit(values: np.ndarray, dtype: np.dtype, *, overwrite: bool = False) -> np.ndarray:
    """float in [0, 1] -> rounded, clipped integer pixels of `dtype` (float: unchanged).

    ``overwrite=True`` lets it use a float32 ``values`` as its scratch buffer: on a 24 MP
    image the temporaries of the out-of-place form cost more than the arithmetic.
    """
    if np.issubdtype(dtype, np.floating):
        return values.astype(dtype, copy=False)
    scale = pixel_scale(dtype)
    if overwrite and values.dtype == np.float32 and values.flags.writeable:
        scaled = np.multiply(values, scale, out=values)
    else:
        scaled = values * np.float32(scale)
    scaled += 0.5
    return np.clip(scaled, 0, scale, out=scaled).astype(dtype)


def convert_depth(values: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """uint8 <-> uint16 pixels, rounded: ×257 up (255 -> 65535), ``(x + 128) // 257`` down.

    Returns `values` itself when it already has `dtype`.
    """
    target = np.dtype(dtype)
    if values.dtype == target:
        return values
    if values.dtype == np.uint8 and target == np.uint16:
        return values.astype(np.uint16) * np.uint16(257)
    if values.dtype == np.uint16 and target == np.uint8:
        return ((values.astype(np.uint32) + 128) // 257).astype(np.uint8)
    raise ValueError(f"cannot convert {values.dtype} pixels to {target}: uint8 or uint16 only")


def is_grey(pixels: np.ndarray) -> bool:
    """True when an H×W×3 image's three channels are identical (a grey scan read as RGB)."""
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        return pixels.ndim == 2
    # Rows at a time: a 24 MP comparison never needs a full-size boolean temporary.
    for y in range(0, pixels.shape[0], 256):
        rows = pixels[y : y + 256]
        red, green, blue = rows[..., 0], rows[..., 1], rows[..., 2]
        if not (np.array_equal(red, green) and np.array_equal(green, blue)):
            return False
    return True


def to_grey(pixels: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """The channel mean, repeated in all three channels, in the input's dtype (rounded);
    written into `out` (which may be `pixels` itself) when given."""
    out = np.empty_like(pixels) if out is None else out
    for y in range(0, pixels.shape[0], 256):
        rows = pixels[y : y + 256]
        mean = rows.mean(axis=2, dtype=np.float32)
        if np.issubdtype(pixels.dtype, np.integer):
            mean = np.round(mean)
        out[y : y + 256] = mean.astype(pixels.dtype)[..., None]
    return out


# A toned black-and-white print (sepia, cyanotype, a yellowed scan) is tinted but not
# coloured: every pixel's chroma points the same way, only its amount changes with
# brightness. A colour photo has chroma in several directions (blue dress, green leaves). So
# the measure is the spread of the pixels' chroma *across* its main direction: the smaller
# axis of their chroma's second moment, in 8-bit levels. Toned versions of the bundled
# samples score 0.4–2.2, the samples themselves (faded early colour photos) 4.2–10.9.
COLOUR_THRESHOLD = 3.0  # 8-bit levels: above scanner chroma noise, below faded colour
_SAMPLE_PIXELS = 250_000  # a subsample is plenty for a second moment, in milliseconds


def colourfulness(pixels: np.ndarray) -> float:
    """Chroma spread across the dominant tint (0 for grey or a single-tone print)."""
    step = max(1, int(np.sqrt(pixels.shape[0] * pixels.shape[1] / _SAMPLE_PIXELS)))
    scale = np.float32(255.0 / pixel_scale(pixels.dtype))
    rgb = pixels[::step, ::step].reshape(-1, 3).astype(np.float32) * scale
    red, green, blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    # Opponent chroma: red–green and yellow–blue; grey pixels are (0, 0).
    chroma = np.stack([red - green, (red + green) / 2 - blue], axis=1)
    moment = chroma.T @ chroma / max(1, len(chroma))  # about 0, not the mean: a tint counts
    smallest = float(np.linalg.eigvalsh(moment.astype(np.float64))[0])
    return float(np.sqrt(max(0.0, smallest)))


def has_colour(pixels: np.ndarray) -> bool:
    """Does the photo already have colour (not grey, not a single-tone print)?"""
    return colourfulness(pixels) > COLOUR_THRESHOLD
