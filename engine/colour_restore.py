"""Restore Colours: contrast and neutral balance of a faded colour print or a toned one.

Classical and cheap (numpy, no network, no model file). The three dyes of a colour print
fade at different rates, so each channel ends up with its own black point, white point and
mid-tone response, and the print loses contrast; a toned print (sepia, cyanotype) is a grey
photo whose channels are each a curve of the same grey. Both are undone by one curve per
channel, estimated from a downsampled copy and applied as lookup tables. The constants are
`ColourTuning`'s, chosen on training photos aged by `benchmarks/fading.py`
(`benchmarks/tune_colours.py`), never on the benchmark's photos.

1. Statistics from a copy of at most `sample_pixels` (area-averaged): percentiles and
   quantiles need no more, and on a large scan the averaging removes the grain, dust and
   thin scratches that would otherwise set the black and white points.
2. Per-channel levels: the `level_percentile` darkest and brightest values (a handful of
   pixels of the copy, not its minimum and maximum) become black and white, channel by
   channel. This undoes lifted blacks, dimmed or yellowed whites and the offset a cast
   puts on each channel, and so recovers the contrast the print lost.
3. Per-channel gamma: after levels the channels' mid-tones still differ (each dye's own
   response). Each channel's exponent is fitted, in least squares, to the mean of the three
   channels' log quantiles (`quantiles`). Natural photos differ between channels too: blue
   is darker in the mid-tones (`natural_tilt`, measured on other training photos), so that
   much is kept, and of the rest only `tilt_shrink` is applied, because a scene's own
   colours (a blue sky, a green wood) move the quantiles as much as a fading dye does and a
   full correction would paint them grey. The three exponents multiply to one: a photo's
   overall brightness says nothing measurable about its fade, so its tone curve stays.
4. Toned prints: a grey or toned photo's channels are curves of one another; matched onto
   each other by their histograms they agree to within scanner noise (`channel_spread`,
   measured on a smaller copy, `toned_pixels`, so grain averages out). Below `toned_spread`
   the photo comes back neutral: the mean of its channels aligned as in step 3, in all three.
5. Confidence: an unfaded photo almost always has some pixel that reaches black in some
   channel; a faded print has none (lost dye density lifts every channel's black). The
   correction fades in with the darkest value of the copy (`faded_black`: its very minimum,
   so a photo with any true black is left alone, to the bit; a speck of black dust on a
   faded scan keeps it from being corrected, the harmless side, and Restore Photo removes
   dust first). A toned print also counts as faded when a channel's white is dim (cream or
   yellowed highlights, `faded_white`); a colour photo does not, because saturated scenes
   without a neutral highlight (a red flower) have dim whites too. And fading narrows every
   channel alike: a channel spanning less than `faded_span` is the scene's own colour (that
   flower has little blue), not a fade, and stretching it would wreck the photo, so such a
   photo is left alone too (as is a flat one).
6. Strength blends the result with the input. All of it is one table per channel plus one
   shared table (the toned mean), applied stripe by stripe: a 24 MP scan needs its output
   and a few MB more; a 16-bit scan gets 65536-entry tables computed in float32.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engine.colour_options import ColoursRequest
from engine.options import Progress
from engine.pixels import pixel_scale
from engine.run import RunOptions, check_image
from engine.tiling import CancelToken

_STRIPE_ROWS = 256


@dataclass(frozen=True)
class ColourTuning:
    """The analysis' constants (chosen on the validation photos, see the module docstring);
    a dataclass so the benchmark's tuning script can try others."""

    sample_pixels: int = 1_000_000  # statistics from a copy of at most this many pixels
    level_percentile: float = 0.001  # % of sample pixels darker/brighter than black/white
    quantiles: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
    natural_tilt: tuple[float, float, float] = (-0.09, -0.03, 0.12)  # log exponent, R G B
    tilt_shrink: float = 0.6  # share of the tilt beyond natural that is corrected
    faded_black: tuple[float, float] = (0.05, 0.10)  # darkest value of the copy: unfaded .. faded
    faded_white: tuple[float, float] = (0.25, 0.35)  # toned: 1 - dimmest white point
    faded_span: tuple[float, float] = (0.3, 0.5)  # narrowest channel's span: scene .. fade
    toned_spread: tuple[float, float] = (0.6, 1.2)  # 8-bit levels: toned .. coloured
    toned_pixels: int = 50_000  # the toned measure's copy: smaller, so grain averages out


DEFAULT_TUNING = ColourTuning()


def _ramp(value: float, bounds: tuple[float, float]) -> float:
    """0 below bounds[0], 1 above bounds[1], smooth in between."""
    low, high = bounds
    t = min(1.0, max(0.0, (value - low) / (high - low)))
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class ColourCorrection:
    """What the analysis found: per-channel levels and exponents, and how sure it is."""

    black: tuple[float, float, float]  # on [0, 1]
    white: tuple[float, float, float]
    gamma: tuple[float, float, float]  # the colour photo's exponents (step 3, in part)
    tone_gamma: tuple[float, float, float]  # full alignment, for a toned print's grey
    toned: float  # 0 colour photo .. 1 tinted grey (step 4)
    faded: float  # 0 unfaded, left alone .. 1 fully corrected (step 5)

    def tables(self, dtype: np.dtype, strength: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-channel tables (levels × 3, in the dtype's pixel scale, float32): the output
        is ``own[:, c][x_c] + sum_k shared[:, k][x_k]``; `shared` is None for a colour
        photo."""
        scale = pixel_scale(dtype)
        v = np.arange(int(scale) + 1, dtype=np.float32)[:, None] / np.float32(scale)
        black, white = np.float32(self.black), np.float32(self.white)
        u = np.clip((v - black) / (white - black), 0.0, 1.0)
        own = np.repeat((1.0 - strength) * v, 3, axis=1)
        if self.toned < 1.0:
            colour = v + self.faded * (u ** np.float32(self.gamma) - v)
            own = own + strength * (1.0 - self.toned) * colour
        shared = None
        if self.toned > 0.0:
            grey = v + self.faded * (u ** np.float32(self.tone_gamma) - v)
            shared = (strength * self.toned / 3.0 * grey * scale).astype(np.float32)
        return (own * scale).astype(np.float32), shared


def _sample(image: np.ndarray, pixels: int) -> np.ndarray:
    """At most `pixels` of the photo, area-averaged, as float32 N×3 on [0, 1]."""
    height, width = image.shape[:2]
    factor = min(1.0, float(np.sqrt(pixels / (height * width))))
    small = image
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return small.reshape(-1, 3).astype(np.float32) / np.float32(pixel_scale(image.dtype))


def _levels(sample: np.ndarray, percentile: float) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's black and white point (step 2); white > black even when flat."""
    black = np.percentile(sample, percentile, axis=0)
    white = np.percentile(sample, 100.0 - percentile, axis=0)
    return black, np.maximum(white, black + 1.0 / 255.0)


def _log_exponents(unit: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Each channel's exponent relative to the channels' mean (log, summing to 0): the
    least-squares fit of its log quantiles to the mean of the three channels'."""
    logs = np.log(np.clip(np.quantile(unit, quantiles, axis=0), 1e-3, 1.0)).astype(np.float64)
    common = logs.mean(axis=1, keepdims=True)
    fit = (logs * logs).sum(axis=0) / np.maximum((logs * common).sum(axis=0), 1e-12)
    exponents = np.log(np.maximum(fit, 1e-6))
    return exponents - exponents.mean()


def channel_spread(sample: np.ndarray) -> float:
    """How far a photo's channels are from being curves of one another (8-bit levels, RMS):
    each channel's histogram matched to the channels' mean quantile function (257 knots),
    then the spread of the three matched values, pixel by pixel. A grey or toned print
    scores scanner noise; a colour photo its colours."""
    knots = np.quantile(sample, np.linspace(0.0, 1.0, 257), axis=0)
    common = knots.mean(axis=1)
    matched = np.stack([np.interp(sample[:, c], knots[:, c], common) for c in range(3)], 1)
    return float(np.sqrt(np.mean(np.var(matched, axis=1)))) * 255.0


def analyse_colours(image: np.ndarray, tuning: ColourTuning = DEFAULT_TUNING) -> ColourCorrection:
    """The correction for an H×W×3 uint8/uint16 photo (steps 1-5 of the module docstring)."""
    sample = _sample(image, tuning.sample_pixels)
    black, white = _levels(sample, tuning.level_percentile)
    unit = np.clip((sample - black) / (white - black), 0.0, 1.0)
    tilt = _log_exponents(unit, tuning.quantiles)
    tone_gamma = np.exp(-tilt)
    gamma = np.exp(-tuning.tilt_shrink * (tilt - np.asarray(tuning.natural_tilt)))
    gamma /= np.exp(np.log(gamma).mean())  # the overall brightness curve stays
    spread = channel_spread(_sample(image, tuning.toned_pixels))
    toned = 1.0 - _ramp(spread, tuning.toned_spread)
    faded = max(
        _ramp(float(sample.min()), tuning.faded_black),
        toned * _ramp(1.0 - float(white.min()), tuning.faded_white),
    )
    faded *= _ramp(float((white - black).min()), tuning.faded_span)

    def three(values: np.ndarray) -> tuple[float, float, float]:
        a, b, c = (float(x) for x in values)
        return a, b, c

    return ColourCorrection(
        black=three(black),
        white=three(white),
        gamma=three(gamma),
        tone_gamma=three(tone_gamma),
        toned=toned,
        faded=faded,
    )


def apply_correction(
    image: np.ndarray,
    correction: ColourCorrection,
    strength: float = 1.0,
    *,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """The corrected photo, in the input's dtype, computed stripe by stripe."""
    own, shared = correction.tables(image.dtype, strength)
    top = pixel_scale(image.dtype)
    out = np.empty_like(image)
    height = image.shape[0]
    stripes = -(-height // _STRIPE_ROWS)
    for number, y in enumerate(range(0, height, _STRIPE_ROWS), 1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        rows = image[y : y + _STRIPE_ROWS]
        common = None
        if shared is not None:
            common = shared[:, 0][rows[..., 0]] + shared[:, 1][rows[..., 1]]
            common += shared[:, 2][rows[..., 2]]
        for c in range(3):
            values = own[:, c][rows[..., c]]
            if common is not None:
                values += common
            values += 0.5
            np.clip(values, 0.0, top, out=values)
            out[y : y + _STRIPE_ROWS, :, c] = values.astype(image.dtype)
        if progress is not None:
            progress(Progress("colours", number + 1, stripes + 1))
    return out


def restore_colours(
    image: np.ndarray,
    *,
    strength: float = 1.0,
    options: RunOptions | None = None,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Recover the contrast and neutral balance of a faded colour print, or make a toned
    print (sepia, cyanotype) neutral grey; strength 0..1 blends the correction (0 returns
    the input). A photo that is not faded comes back (nearly) unchanged.

    `image` is H×W×3 uint8 or uint16; the result has its shape and dtype. No model and no
    device: `options` is taken for the same call shape as the other tasks and not needed.
    Progress comes as `Progress("colours", ...)`; `cancel` is honoured between stripes.
    """
    del options  # classical: numpy on the CPU, nothing to choose
    request = ColoursRequest(strength=strength)
    image = check_image(image)
    if request.strength == 0.0:
        return image.copy()
    if cancel is not None:
        cancel.raise_if_cancelled()
    correction = analyse_colours(image)
    if progress is not None:
        progress(Progress("colours", 1, 1 + -(-image.shape[0] // _STRIPE_ROWS)))
    return apply_correction(image, correction, request.strength, progress=progress, cancel=cancel)
