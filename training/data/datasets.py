"""Deterministic torch datasets for the three restoration tasks.

Every random choice for sample ``index`` in epoch ``epoch`` comes from
``np.random.default_rng([seed, epoch, index])`` and nothing else (no global RNG, no worker
state), so a run resumed after being killed sees exactly the samples it would have seen.
Validation datasets (``train=False``) use epoch 0 always and a centre crop without
augmentation, so their noise and masks are the same every time metrics are computed.

Tensors are float32 C×H×W. Masks use **1 = hole**.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from engine.color import (
    L_SCALE,
    denormalize_ab,
    lab_to_rgb,
    normalize_ab,
    normalize_l,
    rgb_to_lab,
)
from engine.errors import EngineError
from engine.io import LoadedImage, read_image
from engine.tasks import get_task
from engine.tasks.base import encode_rgb
from training.data.augment import AugmentConfig, centre_crop, train_crop
from training.data.damage import DamageConfig
from training.data.degrade import NoiseConfig, degrade
from training.data.folders import TrainingDataError
from training.data.hard_negatives import HardNegativeConfig
from training.data.masks import MaskConfig, random_mask
from training.data.real_degrade import RealNoiseConfig

logger = logging.getLogger("training.data")

Sample = dict[str, torch.Tensor]


def _chw(array: np.ndarray) -> torch.Tensor:
    """H×W×C (or H×W) float array -> contiguous float32 C×H×W tensor."""
    if array.ndim == 2:
        array = array[..., None]
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))


@dataclass(frozen=True)
class DataSettings:
    """Everything a config says about a dataset; each task takes what it uses."""

    augment: AugmentConfig | None = None
    seed: int = 0
    train: bool = True
    noise: NoiseConfig | None = None
    masks: MaskConfig | None = None
    samples_per_epoch: int | None = None
    real_noise: RealNoiseConfig | None = None
    damage: DamageConfig | None = None
    hard_negatives: HardNegativeConfig | None = None


class CropDataset(Dataset[Sample]):
    """Shared base: one crop per index from `paths[index % len(paths)]`.

    Files that fail to decode (truncated after the header scan, or refused by
    :meth:`_reject`) are logged once per process on the ``training.data`` logger, remembered
    in :attr:`bad_files` and replaced by the next good file in path order; the sample keeps
    its own random draws. With DataLoader workers each worker keeps its own memory, so the
    warning may appear once per worker.

    Args:
        paths: image files, e.g. from :func:`training.data.scan_images`.
        augment: crop size and augmentation settings.
        seed: non-negative base seed of every random draw.
        train: random augmented crops drawn anew each epoch; ``False`` for fixed centre crops.
        samples_per_epoch: length of the dataset; default ``len(paths)``. Larger values cut
            several crops per image in one epoch (useful with few, large photos).
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
    ) -> None:
        if not paths:
            raise TrainingDataError("the dataset was given no image files")
        if seed < 0:
            raise TrainingDataError(f"seed must be non-negative, got {seed}")
        if samples_per_epoch is not None and samples_per_epoch < 1:
            raise TrainingDataError(f"samples_per_epoch must be positive, got {samples_per_epoch}")
        self.paths = [Path(p) for p in paths]
        self.augment = augment or AugmentConfig()
        self.seed = int(seed)
        self.train = bool(train)
        self.epoch = 0
        self.samples_per_epoch = samples_per_epoch
        self._bad: dict[int, str] = {}

    extras: tuple[str, ...] = ()  # the DataSettings fields this task also takes, by name

    @classmethod
    def build(cls, paths: Sequence[Path | str], settings: DataSettings) -> CropDataset:
        """The dataset from a config's settings (each task takes its `extras` too)."""
        extra = {name: getattr(settings, name) for name in cls.extras}
        return cls(
            paths,
            augment=settings.augment,
            seed=settings.seed,
            train=settings.train,
            samples_per_epoch=settings.samples_per_epoch,
            **extra,
        )

    def __len__(self) -> int:
        return self.samples_per_epoch or len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose crops/noise/masks are drawn (ignored when ``train=False``).

        Call it before creating the epoch's DataLoader iterator: persistent workers keep the
        copy of the dataset they were started with.
        """
        if epoch < 0:
            raise TrainingDataError(f"epoch must be non-negative, got {epoch}")
        self.epoch = int(epoch)

    @property
    def bad_files(self) -> dict[Path, str]:
        """Files found unusable so far in this process, with the reason."""
        return {self.paths[i]: reason for i, reason in sorted(self._bad.items())}

    def rng(self, index: int) -> np.random.Generator:
        """The generator of every random draw of sample `index` in the current epoch."""
        return np.random.default_rng([self.seed, self.epoch if self.train else 0, index])

    def _reject(self, loaded: LoadedImage) -> str | None:
        """A reason to refuse a decoded image for this task, or None (subclass hook)."""
        return None

    def _mark_bad(self, position: int, reason: str) -> None:
        path = self.paths[position]
        # engine messages start with the file name; it is already in ours.
        reason = reason.removeprefix(f"{path}: ")
        self._bad[position] = reason
        logger.warning("skipping training image %s: %s", path, reason)

    def _pixels(self, index: int) -> np.ndarray:
        """Upright uint8/uint16 pixels for `index`, or of the next usable file after it."""
        count = len(self.paths)
        for step in range(count):
            position = (index + step) % count
            if position in self._bad:
                continue
            try:
                loaded = read_image(self.paths[position])
            except EngineError as exc:  # UnsupportedImage, ImageTooLarge
                self._mark_bad(position, str(exc))
                continue
            reason = self._reject(loaded)
            if reason is None:
                return loaded.pixels
            self._mark_bad(position, reason)
        examples = "; ".join(f"{self.paths[i].name}: {r}" for i, r in list(self._bad.items())[:3])
        raise TrainingDataError(f"none of the {count} training images can be used ({examples})")

    def crop(self, index: int, rng: np.random.Generator) -> np.ndarray:
        """The float32 H×W×3 [0, 1] crop of sample `index` (random draws come from `rng`)."""
        pixels = self._pixels(index)
        if self.train:
            return train_crop(pixels, rng, self.augment)
        return centre_crop(pixels, self.augment)

    def __getitem__(self, index: int) -> Sample:
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"sample {index} out of range for a dataset of {size}")
        rng = self.rng(index)
        return self.make_sample(self.crop(index % len(self.paths), rng), rng)

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        """Build the task's tensors from a clean crop (subclass hook)."""
        raise NotImplementedError


class DenoiseDataset(CropDataset):
    """``{"input": noisy, "target": clean}``, both 3×H×W in [-1, 1] (noise per NoiseConfig;
    with ``noise.clip=False`` the input may leave that range)."""

    extras = ("noise",)

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        noise: NoiseConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
    ) -> None:
        super().__init__(paths, augment, seed, train, samples_per_epoch=samples_per_epoch)
        self.noise = noise or NoiseConfig()

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        noisy, _kind = degrade(clean, rng, self.noise)
        return {"input": _chw(encode_rgb(noisy)), "target": _chw(encode_rgb(clean))}


class InpaintDataset(CropDataset):
    """``{"input": 4×H×W, "target": 3×H×W, "mask": 1×H×W}``.

    ``input`` is the inpainting task's own encoding (`engine.tasks.inpaint.Inpainter.encode`:
    ``[rgb * 2 - 1 with holes set to 0, mask]``), exactly what inference feeds the network;
    ``target`` is the clean crop in [-1, 1];
    ``mask`` is 1 in holes, 0 elsewhere.
    """

    extras = ("masks",)

    def __init__(
        self,
        paths: Sequence[Path | str],
        augment: AugmentConfig | None = None,
        masks: MaskConfig | None = None,
        seed: int = 0,
        train: bool = True,
        *,
        samples_per_epoch: int | None = None,
    ) -> None:
        super().__init__(paths, augment, seed, train, samples_per_epoch=samples_per_epoch)
        self.masks = masks or MaskConfig()

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        height, width = clean.shape[:2]
        mask = random_mask(height, width, rng, self.masks)
        encoded = get_task("inpaint").model.encode(clean, mask > 0.5)
        return {"input": _chw(encoded), "target": _chw(encode_rgb(clean)), "mask": _chw(mask)}


# A mean channel spread below this (on [0, 1]) marks a photo with no colour to learn from.
_GRAY_SPREAD = 0.005


class ColorizeDataset(CropDataset):
    """``{"input": L, "target": ab}``: 1×H×W ``normalize_l(L)`` and 2×H×W ``normalize_ab(ab)``
    from `engine.color`, the same scaling inference uses.

    Black-and-white photos would teach the network to predict grey; they are skipped like
    unreadable files (warned once, replaced by another image).
    """

    def _reject(self, loaded: LoadedImage) -> str | None:
        if loaded.meta.was_grayscale:
            return "grayscale image, nothing to learn for colorization"
        pixels = loaded.pixels[::4, ::4]  # a subsample is plenty to tell grey from colour
        spread = pixels.max(axis=2).astype(np.float32) - pixels.min(axis=2)
        if float(spread.mean()) < _GRAY_SPREAD * np.iinfo(pixels.dtype).max:
            return "image has (almost) no colour, nothing to learn for colorization"
        return None

    def make_sample(self, clean: np.ndarray, rng: np.random.Generator) -> Sample:
        lab = rgb_to_lab(clean)
        return {
            "input": _chw(normalize_l(lab[..., 0]).astype(np.float32)),
            "target": _chw(normalize_ab(lab[..., 1:]).astype(np.float32)),
        }


def lab_to_rgb_tensor(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """Normalised L (B×1×H×W) and ab (B×2×H×W) -> RGB B×3×H×W in [0, 1], float32, on the
    device of `l_norm`. Converted through `engine.color` on the CPU (for metrics and sample
    grids, not for the training graph: no gradient flows through it)."""
    if l_norm.ndim != 4 or l_norm.shape[1] != 1 or ab_norm.ndim != 4 or ab_norm.shape[1] != 2:
        raise ValueError(
            f"expected L as B×1×H×W and ab as B×2×H×W, got {tuple(l_norm.shape)} and "
            f"{tuple(ab_norm.shape)}"
        )
    lightness = (l_norm.detach().float().cpu().numpy() + 1.0) * L_SCALE  # inverse of normalize_l
    ab = denormalize_ab(ab_norm.detach().float().cpu().numpy())
    out = np.empty((l_norm.shape[0], 3, *l_norm.shape[2:]), np.float32)
    for i in range(out.shape[0]):
        lab = np.concatenate([lightness[i], ab[i]], axis=0).transpose(1, 2, 0)
        out[i] = lab_to_rgb(lab).transpose(2, 0, 1)
    return torch.from_numpy(out).to(l_norm.device)


DATASETS: dict[str, type[CropDataset]] = {}
"""Dataset name -> class. Each engine task's own dataset is registered under the task's
name; a recipe may name another dataset of the same task (`TrainConfig.dataset`)."""
DATASET_TASKS: dict[str, str] = {}
"""Dataset name -> the engine task its samples train."""
TASKS: list[str] = []
"""The tasks that have a dataset under their own name. A list that grows in place as modules
register theirs (`training.data.damage_dataset` registers "detect" after this module has
been imported), so every importer sees them all."""


def register_dataset(name: str, cls: type[CropDataset], task: str | None = None) -> None:
    task = task or name
    get_task(task)  # a dataset trains a task the engine knows, under the engine's name
    if DATASETS.get(name, cls) is not cls:
        raise ValueError(f"dataset {name!r} is already registered to {DATASETS[name].__name__}")
    DATASETS[name] = cls
    DATASET_TASKS[name] = task
    if name == task and name not in TASKS:
        TASKS.append(name)


register_dataset("denoise", DenoiseDataset)
register_dataset("inpaint", InpaintDataset)
register_dataset("colorize", ColorizeDataset)


def build_dataset(
    task: str,
    paths: Sequence[Path | str],
    augment: AugmentConfig | None,
    seed: int,
    train: bool,
    noise: NoiseConfig | None = None,
    masks: MaskConfig | None = None,
    *,
    samples_per_epoch: int | None = None,
    real_noise: RealNoiseConfig | None = None,
    damage: DamageConfig | None = None,
    hard_negatives: HardNegativeConfig | None = None,
) -> CropDataset:
    """The dataset called `task` (a task's own, or another in `DATASETS`); each takes the
    settings it uses (noise, masks, real-photo damage, the detector's synthetic damage)."""
    if task not in DATASETS:
        raise TrainingDataError(f"unknown task {task!r}; known: {', '.join(DATASETS)}")
    settings = DataSettings(
        augment, seed, train, noise, masks, samples_per_epoch, real_noise, damage, hard_negatives
    )
    return DATASETS[task].build(paths, settings)
