"""Synthetic noise for the denoising task.

Every function is pure: the result depends only on its arguments, and all randomness comes
from the `numpy.random.Generator` passed in, so a sample can be reproduced from its seed.
Images are float32 H×W×3 arrays in [0, 1].

The kind names match `engine.tasks.denoise.NoiseKind` values, so a model trained on one kind
can be installed as the dedicated model for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from training.data.folders import TrainingDataError

GAUSSIAN = "gaussian"
SALT_AND_PEPPER = "salt_and_pepper"
SPECKLE = "speckle"
MIXTURE = "mixture"
NOISE_KINDS = (GAUSSIAN, SALT_AND_PEPPER, SPECKLE, MIXTURE)


def _default_weights() -> dict[str, float]:
    return {GAUSSIAN: 0.6, SALT_AND_PEPPER: 0.1, SPECKLE: 0.1, MIXTURE: 0.2}


def _range(value: Sequence[float], name: str, upper: float | None = None) -> tuple[float, float]:
    """Validate a ``(low, high)`` range read from code or TOML (where it arrives as a list)."""
    if len(value) != 2:
        raise TrainingDataError(f"{name} must be a (low, high) pair, got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not 0.0 <= low <= high or (upper is not None and high > upper):
        limit = f" and at most {upper}" if upper is not None else ""
        raise TrainingDataError(f"{name} must satisfy 0 <= low <= high{limit}, got {value!r}")
    return low, high


@dataclass
class NoiseConfig:
    """How noisy training inputs are made; each sample draws its own strength.

    Attributes:
        gaussian_sigma: range of the additive Gaussian noise's standard deviation, on the
            0-255 scale (a σ of 25 is strong phone-sensor noise); drawn uniformly per sample.
        salt_pepper_amount: range of the fraction of pixels set to pure black or white
            (half each, all three channels of a pixel together, like dead/hot pixels).
        speckle_sigma: range of the standard deviation of multiplicative noise:
            ``noisy = clean * (1 + n)``, ``n ~ N(0, σ)``; dark areas stay nearly clean.
        kind_weights: relative probability of each kind per sample: ``gaussian``,
            ``salt_and_pepper``, ``speckle`` and ``mixture`` (Gaussian followed by one of the
            other two, as in real scans that are both grainy and dusty). Missing kinds have
            weight 0.
        clip: clip the noisy image to [0, 1], as any saved photo is. Without it Gaussian
            statistics stay exact but inputs leave the network's [-1, 1] range.
        unclipped_fraction: with `clip` on, the share of samples left unclipped anyway, so
            one model serves both real files and the papers' unclipped benchmark protocol.
    """

    gaussian_sigma: tuple[float, float] = (0.0, 55.0)
    salt_pepper_amount: tuple[float, float] = (0.0, 0.10)
    speckle_sigma: tuple[float, float] = (0.0, 0.25)
    kind_weights: dict[str, float] = field(default_factory=_default_weights)
    clip: bool = True
    unclipped_fraction: float = 0.0

    def __post_init__(self) -> None:
        self.gaussian_sigma = _range(self.gaussian_sigma, "noise.gaussian_sigma", 255.0)
        self.salt_pepper_amount = _range(self.salt_pepper_amount, "noise.salt_pepper_amount", 1.0)
        self.speckle_sigma = _range(self.speckle_sigma, "noise.speckle_sigma")
        unknown = sorted(set(self.kind_weights) - set(NOISE_KINDS))
        if unknown:
            raise TrainingDataError(
                f"noise.kind_weights has unknown kind {unknown[0]!r}; known: "
                + ", ".join(NOISE_KINDS)
            )
        weights = {k: float(w) for k, w in self.kind_weights.items()}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise TrainingDataError(
                f"noise.kind_weights must be non-negative with a positive sum, got {weights}"
            )
        self.kind_weights = weights
        if not 0.0 <= self.unclipped_fraction <= 1.0:
            raise TrainingDataError(
                f"noise.unclipped_fraction must be in [0, 1], got {self.unclipped_fraction!r}"
            )


def add_gaussian(
    image: np.ndarray, rng: np.random.Generator, sigma: float, *, clip: bool = True
) -> np.ndarray:
    """Additive white Gaussian noise of standard deviation `sigma` on the 0-255 scale,
    independent per channel (like a sensor's per-photosite noise)."""
    noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma / 255.0)
    noisy = image.astype(np.float32) + noise
    return np.clip(noisy, 0.0, 1.0, out=noisy) if clip else noisy


def add_salt_and_pepper(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Set a fraction `amount` of pixel positions to black or white (half each).

    Whole pixels are hit (all channels), as with dust specks and dead/hot pixels; the
    engine's impulse filter looks for exactly such extreme pixels.
    """
    noisy = image.astype(np.float32, copy=True)
    height, width = image.shape[:2]
    hit = rng.random((height, width)) < amount
    white = rng.random((height, width)) < 0.5
    noisy[hit & white] = 1.0
    noisy[hit & ~white] = 0.0
    return noisy


def add_speckle(
    image: np.ndarray, rng: np.random.Generator, sigma: float, *, clip: bool = True
) -> np.ndarray:
    """Multiplicative noise ``image * (1 + n)``, ``n ~ N(0, sigma)`` per channel: its strength
    follows the signal, so black stays black."""
    factor = 1.0 + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma)
    noisy = image.astype(np.float32) * factor
    return np.clip(noisy, 0.0, 1.0, out=noisy) if clip else noisy


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def degrade(
    image: np.ndarray, rng: np.random.Generator, cfg: NoiseConfig
) -> tuple[np.ndarray, str]:
    """A noisy copy of `image` and the kind of noise used (one of `NOISE_KINDS`).

    The kind is drawn from ``cfg.kind_weights``, then its strength uniformly from its range.
    """
    kinds = list(cfg.kind_weights)
    weights = np.array([cfg.kind_weights[k] for k in kinds], dtype=np.float64)
    kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
    clean = image.astype(np.float32)
    clip = cfg.clip
    if clip and cfg.unclipped_fraction > 0:  # no extra draw otherwise: old seeds stay valid
        clip = bool(rng.random() >= cfg.unclipped_fraction)
    if kind == GAUSSIAN:
        noisy = add_gaussian(clean, rng, _uniform(rng, cfg.gaussian_sigma), clip=clip)
    elif kind == SALT_AND_PEPPER:
        noisy = add_salt_and_pepper(clean, rng, _uniform(rng, cfg.salt_pepper_amount))
    elif kind == SPECKLE:
        noisy = add_speckle(clean, rng, _uniform(rng, cfg.speckle_sigma), clip=clip)
    else:  # mixture: grain first, then impulses or speckle on top
        noisy = add_gaussian(clean, rng, _uniform(rng, cfg.gaussian_sigma), clip=clip)
        if rng.random() < 0.5:
            noisy = add_salt_and_pepper(noisy, rng, _uniform(rng, cfg.salt_pepper_amount))
        else:
            noisy = add_speckle(noisy, rng, _uniform(rng, cfg.speckle_sigma), clip=clip)
    return noisy.astype(np.float32, copy=False), kind
