"""The damage detector's training set (issue 21): clean photos aged and damaged by
`training.data.damage`, with the damage label as the target.

Each sample is ``{"input", "target"}``:

* ``input``: the damaged, scanned crop, 3×H×W in [-1, 1] (8-bit, as a file holds it);
* ``target``: the label, 1×H×W float 0/1 (1 = damage to inpaint).

Validation (``train=False``) draws from the *training* distribution on held-out photos,
so the numbers a run logs say how well it learnt what it was taught; the held-out damage
generator (`DamageConfig.held_out`, `HELD_OUT_SEED`) is the benchmark's and is never used
here — a run seeded with that seed is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.tasks.base import encode_rgb
from training.data.augment import AugmentConfig
from training.data.damage import HELD_OUT_SEED, DamageConfig, damage
from training.data.datasets import CropDataset, Sample, _chw, register_dataset
from training.data.folders import TrainingDataError

__all__ = ["DamageDataset"]


class DamageDataset(CropDataset):
    """Synthetic damage on the training photos, with its label (see the module doc).

    Args:
        paths, augment, seed, train, samples_per_epoch: as `CropDataset`.
        damage: the generator's settings (default `DamageConfig()`; a recipe's ``[damage]``
            table, `TrainConfig.damage`, for training and validation alike).
    """

    extras = ("damage",)

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
        damage: DamageConfig | None = None,
    ) -> None:
        if seed == HELD_OUT_SEED:
            raise TrainingDataError(
                f"seed {HELD_OUT_SEED} is the damage benchmark's; choose another for training"
            )
        super().__init__(paths, augment, seed, train, samples_per_epoch=samples_per_epoch)
        self.damage = damage or DamageConfig()

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        image, label, _info = damage(clean, rng, self.damage)
        return {"input": _chw(encode_rgb(image)), "target": _chw(label.astype(np.float32))}


register_dataset("detect", DamageDataset)
