"""The fading model of `quality.py colours`: how a colour print or a toned print is aged.

Colour prints (`fade`). The three dyes of a chromogenic print fade at different rates, so
each channel gets its own response, then the whole print loses contrast. With the photo's
sRGB values ``x`` on [0, 1], per channel ``c``:

1. dye response: ``x_c ** gamma_c``, ``log gamma_c`` uniform in ±0.3 (0.74..1.35, each
   channel on its own: the mid-tones drift apart);
2. density loss: ``offset_c + scale_c · v``, ``scale_c`` uniform in 0.85..1.00 and
   ``offset_c`` in 0.00..0.08 (lifted blacks, dimmer whites, channel by channel);
3. a colour cast: ``(1 - a) · v + a · cast``, ``a`` uniform in 0.05..0.20 and ``cast`` one
   of magenta (1.0, 0.55, 0.80), red (1.0, 0.60, 0.50) or yellow (1.0, 0.90, 0.45) (cyan
   dye fades first in the dark; yellowed paper and varnish);
4. loss of contrast: ``0.5 + k · (v - 0.5)``, ``k`` uniform in 0.70..0.95 (washed out);

then rounding to 8 bits, as a scan would (no grain, dust or scratches are added). The
faded prints' darkest values land at about 0.1-0.3 of full scale and their whites at
0.8-0.95 (the faded sample scans a, c and f: darkest 0.5 % at 0.09-0.14). Every step keeps
each channel monotone, so the ideal restoration is a per-channel curve; what a method
cannot know is the photo's own colours.

Toned prints (`tone`). The photo's grey version (its CIE L with a = b = 0: what a
black-and-white print of it would show) is toned sepia: ``w_c · v ** t_c`` with ``t`` about
(0.80, 1.00, 1.35) and ``w`` about (1.00, 0.88, 0.70) (each ×exp(U(±0.1))): brown shadows,
cream highlights; then steps 2 (one offset 0..0.06 for all channels, scale 0.85..1.00) and 4
as above. The truth is the grey version: a restored toned print is neutral grey.

Every draw comes from the ``numpy.random.Generator`` given (the benchmark seeds one per
photo), so a photo always fades the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.color import lab_to_rgb, rgb_to_lab

CASTS = {
    "magenta": (1.0, 0.55, 0.80),
    "red": (1.0, 0.60, 0.50),
    "yellow": (1.0, 0.90, 0.45),
}
SEPIA_GAMMA = (0.80, 1.00, 1.35)
SEPIA_WEIGHT = (1.00, 0.88, 0.70)


@dataclass(frozen=True)
class Fade:
    """One print's ageing: per-channel response, density loss and cast, then contrast."""

    gamma: tuple[float, float, float]
    scale: tuple[float, float, float]
    offset: tuple[float, float, float]
    cast: tuple[float, float, float]
    cast_amount: float
    contrast: float

    def apply(self, unit: np.ndarray) -> np.ndarray:
        """float RGB on [0, 1] -> the faded float RGB on [0, 1] (steps 1-4)."""
        v = np.power(np.clip(unit, 0.0, 1.0), np.asarray(self.gamma))
        v = np.asarray(self.offset) + np.asarray(self.scale) * v
        v = (1.0 - self.cast_amount) * v + self.cast_amount * np.asarray(self.cast)
        v = 0.5 + self.contrast * (v - 0.5)
        return np.clip(v, 0.0, 1.0)


def _three(rng: np.random.Generator, low: float, high: float) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in rng.uniform(low, high, 3))
    return a, b, c


def draw_fade(rng: np.random.Generator) -> Fade:
    """A colour print's fade, drawn from the ranges of the module docstring."""
    gamma = tuple(float(np.exp(v)) for v in rng.uniform(-0.3, 0.3, 3))
    scale = _three(rng, 0.85, 1.00)
    offset = _three(rng, 0.00, 0.08)
    cast = CASTS[str(rng.choice(sorted(CASTS)))]
    return Fade(gamma, scale, offset, cast, float(rng.uniform(0.05, 0.20)),
                float(rng.uniform(0.70, 0.95)))  # fmt: skip


def draw_tone(rng: np.random.Generator) -> Fade:
    """A sepia print's toning and fade (applied to a grey photo)."""
    jitter = np.exp(rng.uniform(-0.1, 0.1, (2, 3)))
    gamma = tuple(float(v) for v in np.asarray(SEPIA_GAMMA) * jitter[0])
    weight = np.minimum(1.0, np.asarray(SEPIA_WEIGHT) * jitter[1])
    scale = weight * rng.uniform(0.85, 1.00)
    offset = float(rng.uniform(0.00, 0.06))
    return Fade(gamma, tuple(float(s) for s in scale), (offset,) * 3,  # type: ignore[arg-type]
                (0.5, 0.5, 0.5), 0.0, float(rng.uniform(0.70, 0.95)))  # fmt: skip


def to_pixels(unit: np.ndarray) -> np.ndarray:
    return np.clip(unit * 255.0 + 0.5, 0, 255).astype(np.uint8)


def grey_version(rgb: np.ndarray) -> np.ndarray:
    """The photo's CIE L with a = b = 0 as 8-bit RGB (three equal channels)."""
    lab = rgb_to_lab(rgb.astype(np.float32) / 255.0)
    lab[..., 1:] = 0.0
    grey = to_pixels(lab_to_rgb(lab).astype(np.float64))
    return np.repeat(grey[..., 1:2], 3, axis=2)  # exactly equal (float rounding aside)


def fade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An 8-bit colour photo faded by a fade drawn from `rng` (8-bit)."""
    return to_pixels(draw_fade(rng).apply(rgb.astype(np.float64) / 255.0))


def tone(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An 8-bit grey photo toned sepia and faded by a toning drawn from `rng` (8-bit)."""
    return to_pixels(draw_tone(rng).apply(grey.astype(np.float64) / 255.0))
