"""Training data of the hint-conditioned colorizer (issue 22, `engine.archs.colorize_hint`).

Each sample is `ColorizeDataset`'s (the same crops, the same grey-photo refusal, the same L
and ab scaling) with colour hints drawn from its own truth (`training.data.hints`), encoded
as the engine encodes a user's pins (`engine.hints.encode_input`).

Validation samples (``train=False``) carry no hints: validation scores through the engine's
`Colorizer` with no hints (an empty hint map), so the no-hint case is
what it measures (the default a user gets), and the sample grid shows what was scored.

Selected by a recipe's ``dataset = "colorize_hint"`` (`TrainConfig.dataset`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.color import normalize_ab, normalize_l, rgb_to_lab
from engine.hints import encode_input
from training.data.augment import AugmentConfig
from training.data.datasets import ColorizeDataset, Sample, _chw, register_dataset
from training.data.hints import HintConfig, hint_maps

__all__ = ["HintColorizeDataset"]


class HintColorizeDataset(ColorizeDataset):
    """``{"input": 4×H×W, "target": 2×H×W}``: input = [normalize_l(L), hint ab
    (normalize_ab, 0 where no hint), hint mask (1 = hint)]; target = normalize_ab(ab).

    Args:
        hints: how hints are drawn (Zhang 2017's defaults; not a config table yet).
        Others: as `ColorizeDataset`.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
        hints: HintConfig | None = None,
    ) -> None:
        super().__init__(paths, augment, seed, train, samples_per_epoch=samples_per_epoch)
        self.hints = hints or HintConfig()

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        lab = rgb_to_lab(clean)
        ab = lab[..., 1:]
        if self.train:
            ab_map, mask = hint_maps(ab, rng, self.hints)
        else:  # the automatic case, as the engine's validation runs it (see the module doc)
            ab_map, mask = np.zeros_like(ab), np.zeros(ab.shape[:2], np.float32)
        return {
            "input": _chw(encode_input(normalize_l(lab[..., 0]), ab_map, mask)),
            "target": _chw(normalize_ab(ab).astype(np.float32)),
        }


register_dataset("colorize_hint", HintColorizeDataset, task="colorize")
