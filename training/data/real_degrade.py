"""Degradations of real photographs, for training a blind denoiser that works on real files.

`training.data.degrade` adds pixel-independent white, impulse and speckle noise only. Real
noise depends on brightness, is correlated between colour channels (demosaicking) and
between neighbouring pixels (film grain, optics, in-camera denoising) and went through
JPEG. Following CBDNet, BSRGAN / Real-ESRGAN, SCUNet and Bringing-Old-Photos-Back-to-Life,
`degrade_real` draws, per sample, a random subset of the steps below, each with its own
probability and parameters, and applies them in random order (the physical order varies:
a scan blurs film grain, a phone denoises sensor noise before resizing), then JPEG and the
8-bit quantisation of a saved file last. Ranges are from published camera and codec models,
never fitted to benchmark images. Levels `σ` are on the 0-255 scale.

- ``camera``: Poisson–Gaussian sensor noise in linear light (sRGB curve and white balance
  undone, then redone): variance ``a·x + b``. ``log a ~ U[log 1e-4, log 0.012]`` and
  ``log b = 2.18·log a + 1.20 + N(0, 0.26²)``, white-balance gains R ∈ [1.9, 2.4],
  B ∈ [1.5, 1.9] (Brooks et al. 2019, "Unprocessing Images for Learned Raw Denoising").
  That spans clean daylight (≈1 level) to high-ISO phone raw (≈25-30 levels in red
  mid-tones; log-uniform, so strong settings are rare). With probability `mosaic_prob` the
  noise is drawn on one of the four Bayer layouts and colour-difference demosaicked, which
  correlates it between channels (ρ ≈ 0.3-0.5) and neighbours as on a camera. The curve is
  concave, so the strongest noise darkens mid-tones by up to ≈4 levels, as it does on a
  camera; not corrected, since a real noisy file has it too (over the default mix of steps
  flat images shift by < 0.6 levels).
- ``colour``: Gaussian noise with σ ∈ [1, 12] and inter-channel correlation ρ ∈ [0.3, 0.9],
  per-channel weights in [0.8, 1.2]: the luma-heavy noise that in-camera chroma denoising
  leaves, for sources whose demosaicking we do not model.
- ``grain``: film grain after AV1's model (auto-regressive filter of lag 3 on Gaussian noise,
  then a piecewise-linear scaling by luma): σ ∈ [2, 14] where the scaling peaks, tap
  fall-off ∈ [0.5, 1] px and AR gain ∈ [0.5, 0.95] (fine grain to soft clumps of ≈4 px:
  lag-1 correlation ≈0.15 to ≈0.8), scaling knot values ∈ [0.25, 1] at luma 0, ⅓, ⅔, 1, and a
  per-channel (chroma) share ∈ [0, 0.6] for the separately grainy colour layers.
- ``blurred``: Gaussian noise blurred at a scale ∈ [0.4, 1.5] px, rescaled to σ ∈ [2, 12],
  shared by the channels half of the time: in-camera denoising, scanner optics, resampling.
- ``white``, ``speckle``, ``impulse``: today's `training.data.degrade` noise, weaker and
  rarer here (σ ∈ [1, 15]; speckle σ ∈ [0.02, 0.1]; dust / dead pixels on a fraction
  ∈ [1e-4, 2e-3] of the pixels).
- ``blur``: slight scan / enlarger softness: a Gaussian of σ ∈ [0.3, 1.0] px or a defocus
  disk of radius ∈ [0.7, 1.3] px, half each. It blurs the picture as well as the noise.
- ``resize``: down by a factor ∈ [0.6, 0.9] and back up (area/linear/cubic down,
  linear/cubic up): a scan or web copy at a lower resolution than the print.
- ``jpeg`` (last): quality ∈ [30, 95], 4:2:0 chroma; with probability `jpeg_twice_prob` a
  second compression at a fresh quality with a random 8×8 grid shift (a cropped re-save).
- quantisation (always, very last): the result is clipped to [0, 1] and rounded to 8 bits.

A share `legacy_prob` of the samples instead gets exactly today's `degrade` with
`RealNoiseConfig.legacy`, so nothing that works today regresses. About 12 % of the others
draw no noise step at all (only blur / resize / JPEG or nothing): the denoiser must also
learn to leave a clean picture alone.

`DegradeInfo.noise_sigma` is the effective noise level: the standard deviation, in 8-bit
levels, of the noise the noise steps left in the clipped image before JPEG and
quantisation (blur and resize applied to the clean picture too, so they count only for
how they shape the noise). `DegradeInfo.reference` is that blurred / resized clean picture:
the photograph as the scanner or camera saw it, before noise. It, not the sharp original,
is what a denoiser should return: trained against the sharp original, the network learnt
to sharpen as well, and on sharp real photos (PolyU) raised the high-frequency error above
the noisy input's at strength 2. `DegradeInfo.rmse` is the whole damage, final minus
`reference`.

Cost: ≈2 ms per 128×128 crop on average (one CPU core; grain, the dearest step, ≈2.3 ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from training.data import real_noise as ops
from training.data.degrade import (
    NoiseConfig,
    add_gaussian,
    add_salt_and_pepper,
    add_speckle,
    degrade,
)
from training.data.folders import TrainingDataError

Range = tuple[float, float]
# Steps that add noise (the image only); the others transform the picture and its noise.
NOISE_STEPS = ("camera", "colour", "grain", "blurred", "white", "speckle", "impulse")
BLUR_STEPS = ("blur", "resize")
STEPS = NOISE_STEPS + BLUR_STEPS
_DOWN = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)
_UP = (cv2.INTER_LINEAR, cv2.INTER_CUBIC)


@dataclass(frozen=True)
class RealNoiseConfig:
    """Per-step probabilities and parameter ranges of `degrade_real` (see the module doc).

    ``*_prob`` fields are the probability that a step runs in a (non-legacy) sample; each
    `Range` is sampled uniformly per sample, except the shot noise range, which is log-uniform.
    """

    legacy_prob: float = 0.2
    legacy: NoiseConfig = field(default_factory=NoiseConfig)
    camera_prob: float = 0.6
    shot: Range = (1e-4, 0.012)
    read_log_fit: tuple[float, float, float] = (2.18, 1.20, 0.26)  # slope, offset, scatter
    wb_red: Range = (1.9, 2.4)
    wb_blue: Range = (1.5, 1.9)
    mosaic_prob: float = 0.6
    colour_prob: float = 0.2
    colour_sigma: Range = (1.0, 12.0)
    colour_rho: Range = (0.3, 0.9)
    grain_prob: float = 0.3
    grain_sigma: Range = (2.0, 14.0)
    grain_size: Range = (0.5, 1.0)
    grain_strength: Range = (0.5, 0.95)
    grain_chroma: Range = (0.0, 0.6)
    grain_scaling: Range = (0.25, 1.0)
    blurred_prob: float = 0.3
    blurred_sigma: Range = (2.0, 12.0)
    blurred_scale: Range = (0.4, 1.5)
    white_prob: float = 0.15
    white_sigma: Range = (1.0, 15.0)
    speckle_prob: float = 0.05
    speckle_sigma: Range = (0.02, 0.1)
    impulse_prob: float = 0.05
    impulse_amount: Range = (1e-4, 2e-3)
    blur_prob: float = 0.25
    blur_sigma: Range = (0.3, 1.0)
    defocus_radius: Range = (0.7, 1.3)
    resize_prob: float = 0.2
    resize_factor: Range = (0.6, 0.9)
    jpeg_prob: float = 0.6
    jpeg_quality: Range = (30, 95)
    jpeg_twice_prob: float = 0.3

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise TrainingDataError(f"real_noise.{name} must be in [0, 1], got {value!r}")
            is_range = isinstance(value, tuple) and name != "read_log_fit"
            if is_range and (len(value) != 2 or not 0.0 <= value[0] <= value[1]):
                raise TrainingDataError(
                    f"real_noise.{name} must be a (low, high) pair with 0 <= low <= high,"
                    f" got {value!r}"
                )
        if self.shot[0] <= 0 or self.grain_strength[1] >= 1.0 or self.grain_chroma[1] > 1.0:
            raise TrainingDataError(
                "real_noise: shot must be > 0, grain_strength < 1 and grain_chroma <= 1"
            )
        q = self.jpeg_quality
        if not 1 <= q[0] <= q[1] <= 100:
            raise TrainingDataError(f"real_noise.jpeg_quality must lie in [1, 100], got {q!r}")

    def probability(self, step: str) -> float:
        """The probability that `step` (one of `STEPS` or ``"jpeg"``) runs."""
        return float(getattr(self, f"{step}_prob"))


@dataclass(frozen=True)
class DegradeInfo:
    """What `degrade_real` did to one sample.

    Attributes:
        steps: ``(name, parameters)`` in the order applied; JPEG last when it ran. A legacy
            sample has the single step ``("legacy", {"kind": ...})``.
        noise_sigma: effective noise level in 8-bit levels (see the module doc).
        rmse: root-mean-square difference between result and `reference`, in 8-bit levels.
        reference: float32 H×W×3 in [0, 1], the clean image through the same blur and
            resize steps (the clean image itself when neither ran): the denoiser's target.
    """

    steps: tuple[tuple[str, dict[str, Any]], ...]
    noise_sigma: float
    rmse: float
    reference: np.ndarray = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.steps)

    @property
    def legacy(self) -> bool:
        return self.names == ("legacy",)


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _camera(image, rng, cfg):
    shot = math.exp(_uniform(rng, (math.log(cfg.shot[0]), math.log(cfg.shot[1]))))
    slope, offset, scatter = cfg.read_log_fit
    read = math.exp(slope * math.log(shot) + offset + float(rng.normal(0.0, scatter)))
    gains = (_uniform(rng, cfg.wb_red), 1.0, _uniform(rng, cfg.wb_blue))
    pattern = None
    if rng.random() < cfg.mosaic_prob:
        pattern = list(ops.BAYER_PATTERNS)[int(rng.integers(len(ops.BAYER_PATTERNS)))]
    params = {"shot": shot, "read": read, "wb_gains": gains, "pattern": pattern}
    return ops.camera_noise(image, rng, **params), params


def _colour(image, rng, cfg):
    params = {
        "sigma": _uniform(rng, cfg.colour_sigma),
        "rho": _uniform(rng, cfg.colour_rho),
        "weights": tuple(float(w) for w in rng.uniform(0.8, 1.2, 3)),
    }
    return ops.colour_noise(image, rng, **params), params


def _grain(image, rng, cfg):
    params = {
        "sigma": _uniform(rng, cfg.grain_sigma),
        "size": _uniform(rng, cfg.grain_size),
        "strength": _uniform(rng, cfg.grain_strength),
        "chroma": _uniform(rng, cfg.grain_chroma),
        "scaling": tuple(float(v) for v in rng.uniform(*cfg.grain_scaling, 4)),
    }
    peak = max(params["scaling"])  # σ is the level where the scaling peaks
    params["scaling"] = tuple(v / peak for v in params["scaling"])
    return ops.film_grain(image, rng, **params), params


def _blurred(image, rng, cfg):
    params = {
        "sigma": _uniform(rng, cfg.blurred_sigma),
        "scale": _uniform(rng, cfg.blurred_scale),
        "shared": bool(rng.random() < 0.5),
    }
    return ops.blurred_noise(image, rng, **params), params


def _white(image, rng, cfg):
    sigma = _uniform(rng, cfg.white_sigma)
    return add_gaussian(image, rng, sigma, clip=False), {"sigma": sigma}


def _speckle(image, rng, cfg):
    sigma = _uniform(rng, cfg.speckle_sigma)
    return add_speckle(image, rng, sigma, clip=False), {"sigma": sigma}


def _impulse(image, rng, cfg):
    amount = _uniform(rng, cfg.impulse_amount)
    return add_salt_and_pepper(image, rng, amount), {"amount": amount}


def _blur_params(rng, cfg):
    if rng.random() < 0.5:
        return {"kind": "gaussian", "sigma": _uniform(rng, cfg.blur_sigma)}
    return {"kind": "defocus", "radius": _uniform(rng, cfg.defocus_radius)}


def _blur(image, params):
    if params["kind"] == "gaussian":
        return ops.gaussian_blur(image, params["sigma"])
    return ops.defocus_blur(image, params["radius"])


def _resize_params(rng, cfg):
    return {
        "factor": _uniform(rng, cfg.resize_factor),
        "down": _DOWN[int(rng.integers(len(_DOWN)))],
        "up": _UP[int(rng.integers(len(_UP)))],
    }


def _resize(image, params):
    return ops.rescale(image, **params)


_NOISE = {
    "camera": _camera,
    "colour": _colour,
    "grain": _grain,
    "blurred": _blurred,
    "white": _white,
    "speckle": _speckle,
    "impulse": _impulse,
}
# Blur steps draw their parameters once and apply them to the image and the clean reference.
_BLUR = {"blur": (_blur_params, _blur), "resize": (_resize_params, _resize)}


def _jpeg(image, rng, cfg):
    low, high = int(cfg.jpeg_quality[0]), int(cfg.jpeg_quality[1])
    qualities = [int(rng.integers(low, high + 1))]
    shift = (0, 0)
    if rng.random() < cfg.jpeg_twice_prob:
        qualities.append(int(rng.integers(low, high + 1)))
        shift = (int(rng.integers(8)), int(rng.integers(8)))
    image = ops.jpeg(image, qualities[0])
    if len(qualities) == 2:
        image = ops.jpeg(image, qualities[1], shift)
    return image, {"qualities": tuple(qualities), "shift": shift}


def _levels(difference: np.ndarray, mean: bool) -> float:
    if mean:  # standard deviation: the noise level
        return float(np.std(difference, dtype=np.float64) * 255.0)
    return float(np.sqrt(np.mean(np.square(difference, dtype=np.float64))) * 255.0)


def degrade_real(
    clean: np.ndarray, rng: np.random.Generator, config: RealNoiseConfig | None = None
) -> tuple[np.ndarray, DegradeInfo]:
    """A realistically degraded copy of `clean` (float32 H×W×3 in [0, 1]) and what was done.

    The result is float32 H×W×3, clipped to [0, 1] and on the 8-bit grid, as a file is
    (legacy samples: exactly `training.data.degrade.degrade`'s result). Deterministic in
    `rng`'s state. The denoiser's target is ``info.reference``, not `clean`.
    """
    cfg = config or RealNoiseConfig()
    clean = np.ascontiguousarray(clean, np.float32)
    if rng.random() < cfg.legacy_prob:
        noisy, kind = degrade(clean, rng, cfg.legacy)
        info = DegradeInfo(
            (("legacy", {"kind": kind}),),
            _levels(noisy - clean, mean=True),
            _levels(noisy - clean, mean=False),
            clean,
        )
        return noisy, info
    chosen = [step for step in STEPS if rng.random() < cfg.probability(step)]
    order = [chosen[i] for i in rng.permutation(len(chosen))]
    image, reference, steps = clean, clean, []
    for name in order:
        if name in _NOISE:
            image, params = _NOISE[name](image, rng, cfg)
        else:
            draw, apply = _BLUR[name]
            params = draw(rng, cfg)
            image, reference = apply(image, params), apply(reference, params)
        steps.append((name, params))
    image = np.clip(image, 0.0, 1.0)
    reference = np.clip(reference, 0.0, 1.0).astype(np.float32).reshape(clean.shape)
    noise_sigma = _levels(image - reference, mean=True)
    if rng.random() < cfg.jpeg_prob:
        image, params = _jpeg(image, rng, cfg)
        steps.append(("jpeg", params))
    result = (ops.to_uint8(image).astype(np.float32) / np.float32(255.0)).reshape(clean.shape)
    rmse = _levels(result - reference, mean=False)
    return result, DegradeInfo(tuple(steps), noise_sigma, rmse, reference)
