"""The damage detector's training set (issue 21): clean photos aged and damaged by
`training.data.damage`, with the damage label as the target.

Each sample is ``{"input", "target"}``:

* ``input``: the damaged, scanned crop, 3×H×W in [-1, 1] (8-bit, as a file holds it);
* ``target``: the label, 1×H×W float 0/1 (1 = damage to inpaint);
* ``weight``: a 1×H×W pixel weight for the ``balanced_bce`` loss (`component_weights`):
  1 on clean pixels, and on a damage pixel more the smaller its piece of damage is.

Why the weight: with plain BCE and batch-pooled Dice, a crack network of thousands of
pixels outweighs a dust speck of ten by a thousand to one, and the stage-3 detector learnt
to ignore the small kinds altogether — on validation photos with only foxing spots it
found 0 % of them, hairs 2 %, dust 22 %, while it found 76 % of the cracks. Weighting each
connected piece of damage by ``sqrt(REFERENCE_AREA / area)`` (capped at `MAX_WEIGHT`, never
below 1) gives a speck a few times a crack pixel's weight instead of nothing.

Validation (``train=False``) draws from the *training* distribution on held-out photos,
so the numbers a run logs say how well it learnt what it was taught; the held-out damage
generator (`DamageConfig.held_out`, `HELD_OUT_SEED`) is the benchmark's and is never used
here — a run seeded with that seed is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from engine.tasks.base import encode_rgb
from training.data.augment import AugmentConfig, train_crop
from training.data.damage import HELD_OUT_SEED, DamageConfig, damage
from training.data.datasets import CropDataset, Sample, _chw, register_dataset
from training.data.folders import TrainingDataError
from training.data.hard_negatives import HardNegativeConfig, HardNegatives

__all__ = ["MAX_WEIGHT", "REFERENCE_AREA", "DamageDataset", "component_weights"]

REFERENCE_AREA = 1024.0  # px: damage pieces this large or larger weigh 1 per pixel
MAX_WEIGHT = 6.0  # a 28-px speck and anything smaller: 6 per pixel


def component_weights(label: np.ndarray) -> np.ndarray:
    """Float32 H×W weights of a 0/1 `label`: 1 off the damage; on each 8-connected piece of
    damage ``clip(sqrt(REFERENCE_AREA / area), 1, MAX_WEIGHT)``."""
    mask = np.ascontiguousarray(label > 0, np.uint8)
    _, pieces, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float32)
    per_piece = np.clip(np.sqrt(REFERENCE_AREA / np.maximum(areas, 1.0)), 1.0, MAX_WEIGHT)
    per_piece[0] = 1.0  # the background
    return per_piece[pieces].astype(np.float32)


class DamageDataset(CropDataset):
    """Synthetic damage on the training photos, with its label (see the module doc).

    Args:
        paths, augment, seed, train, samples_per_epoch: as `CropDataset`.
        damage: the generator's settings (default `DamageConfig()`; a recipe's ``[damage]``
            table, `TrainConfig.damage`, for training and validation alike).
        hard_negatives: a share of training crops centred where a detector marked an
            undamaged photo (`training.data.hard_negatives`; none by default).
    """

    extras = ("damage", "hard_negatives")

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
        damage: DamageConfig | None = None,
        hard_negatives: HardNegativeConfig | None = None,
    ) -> None:
        if seed == HELD_OUT_SEED:
            raise TrainingDataError(
                f"seed {HELD_OUT_SEED} is the damage benchmark's; choose another for training"
            )
        super().__init__(paths, augment, seed, train, samples_per_epoch=samples_per_epoch)
        self.damage = damage or DamageConfig()
        self.hard = hard_negatives or HardNegativeConfig()
        self._hard = None
        if self.train and self.hard.share > 0:
            self._hard = HardNegatives.load(self.hard.all_files, self.paths, self.hard.min_area)

    def crop(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """`CropDataset.crop`, or with `hard_negatives` a crop of a mined photo that holds
        one of its marked pieces (the draw is made only when hard negatives are on, so a
        recipe without them sees the crops it always saw)."""
        if self._hard is not None and rng.random() < self.hard.share:
            position, at = self._hard.draw(rng)
            return train_crop(self._pixels(position), rng, self.augment, at=at)
        return super().crop(index, rng)

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        image, label, _info = damage(clean, rng, self.damage)
        return {
            "input": _chw(encode_rgb(image)),
            "target": _chw(label.astype(np.float32)),
            "weight": _chw(component_weights(label)),
        }


register_dataset("detect", DamageDataset)
