"""The training set of the real-photo denoiser (issue 20): `degrade_real` damage, plus the
damage level the noise-level-conditioned network (`engine.archs.denoise_cond`) is taught.

Each sample is ``{"input", "target", "level", "noise_sigma"}``:

* ``input``: the degraded crop, 3×H×W in [-1, 1], clipped and on the 8-bit grid as a file is;
* ``target``: `DegradeInfo.reference`, the clean crop through the sample's blur and resize
  steps (if any), 3×H×W in [-1, 1]: a denoiser removes noise and JPEG damage and leaves
  the sharpness alone (trained to undo the blur too, it sharpened real photos, see
  `training.data.real_degrade`);
* ``level``: 1×H×W, per pixel the RMS over the channels of (degraded - target) in 8-bit
  levels: *all* the damage to remove (noise, JPEG), not only `DegradeInfo.noise_sigma`'s noise.
  That is what strength 1 must remove, so a level of 0 means "input = target" and strength
  0 can mean "leave it alone". The network RMS-pools it to its 8×8 cells
  (`engine.archs.denoise_cond.rms_pool`), both to fit its estimator and as the level it is
  conditioned on in training;
* ``noise_sigma``: (1,) `DegradeInfo.noise_sigma`, for logging and analysis.

A share `clean_prob` of the samples is left undamaged but for the 8-bit rounding (level
≈ 0.3): `degrade_real` leaves only ≈2 % of its samples that clean, and the network must
learn to leave a clean photo alone and what a level near 0 means.

Clean targets: the config's `[augment] scale_range` below 1 shrinks every crop's window
(area averaging), which also shrinks whatever JPEG blocks and sensor noise the "clean"
training photos carry (the ImageNet folders were JPEGs twice; see the recipe).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from engine.tasks.base import encode_rgb
from training.data.augment import AugmentConfig
from training.data.datasets import DenoiseDataset, Sample, _chw, register_dataset
from training.data.degrade import NoiseConfig
from training.data.folders import TrainingDataError
from training.data.real_degrade import RealNoiseConfig, degrade_real
from training.data.real_noise import to_uint8

__all__ = ["RealDenoiseDataset", "damage_level"]

LEVELS = 255.0  # 8-bit levels per unit of [0, 1]


def damage_level(degraded: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Per pixel, the RMS over the channels of ``degraded - clean`` (H×W×3 on [0, 1]), in
    8-bit levels: float32 H×W."""
    difference = degraded.astype(np.float32) - clean.astype(np.float32)
    return np.sqrt(np.mean(np.square(difference), axis=2)) * np.float32(LEVELS)


class RealDenoiseDataset(DenoiseDataset):
    """Real-photo damage (`training.data.real_degrade`) with its per-pixel level.

    Args:
        paths, augment, seed, train, samples_per_epoch: as `DenoiseDataset`.
        noise: today's white/impulse/speckle mix, used for `RealNoiseConfig.legacy_prob` of
            the samples (overrides ``real_noise.legacy`` when given).
        real_noise: the real-photo degradation recipe (default `RealNoiseConfig()`).
        clean_prob: share of samples left undamaged but for 8-bit rounding.
    """

    extras = ("noise", "real_noise")

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        noise: NoiseConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
        real_noise: RealNoiseConfig | None = None,
        clean_prob: float = 0.05,
    ) -> None:
        super().__init__(paths, augment, noise, seed, train, samples_per_epoch=samples_per_epoch)
        if not 0.0 <= clean_prob <= 1.0:
            raise TrainingDataError(f"clean_prob must be in [0, 1], got {clean_prob}")
        real = real_noise or RealNoiseConfig()
        if noise is not None:  # the config's [noise] table shapes the legacy share
            real = RealNoiseConfig(**{**vars(real), "legacy": noise})
        self.real = real
        self.clean_prob = float(clean_prob)

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        # Drawn first and always, so the damage of every other sample does not depend on it.
        untouched = rng.random() < self.clean_prob
        if untouched:
            degraded = to_uint8(clean).astype(np.float32) / np.float32(LEVELS)
            target, sigma = clean, 0.0
        else:
            degraded, info = degrade_real(clean, rng, self.real)
            target, sigma = info.reference, info.noise_sigma
        return {
            "input": _chw(encode_rgb(degraded)),
            "target": _chw(encode_rgb(target)),
            "level": _chw(damage_level(degraded, target)),
            "noise_sigma": torch.tensor([sigma], dtype=torch.float32),
        }


register_dataset("denoise_real", RealDenoiseDataset, task="denoise")
