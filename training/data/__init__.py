"""Training data: finding images, synthetic degradations, hole masks and torch datasets.

Everything random is drawn from explicit `numpy.random.Generator`s seeded per sample, so a
resumed run reproduces its data exactly. Masks use **1 = hole** throughout.
"""

from __future__ import annotations

from training.data import hint_dataset  # noqa: F401  (registers "colorize_hint")
from training.data.augment import AugmentConfig, centre_crop, to_unit, train_crop
from training.data.damage import DamageConfig
from training.data.damage_dataset import DamageDataset  # registers "detect"
from training.data.datasets import (
    DATASET_TASKS,
    DATASETS,
    TASKS,
    ColorizeDataset,
    CropDataset,
    DenoiseDataset,
    InpaintDataset,
    build_dataset,
    lab_to_rgb_tensor,
)
from training.data.degrade import (
    NOISE_KINDS,
    NoiseConfig,
    add_gaussian,
    add_salt_and_pepper,
    add_speckle,
    degrade,
)
from training.data.folders import (
    BENCH_FOLDER_NAME,
    ImageScan,
    TrainingDataError,
    scan_images,
    split_train_val,
)
from training.data.hard_negatives import HardNegativeConfig
from training.data.masks import MaskConfig, random_mask
from training.data.real_dataset import RealDenoiseDataset  # registers "denoise_real"
from training.data.real_degrade import RealNoiseConfig

__all__ = [
    "BENCH_FOLDER_NAME",
    "DATASETS",
    "DATASET_TASKS",
    "NOISE_KINDS",
    "TASKS",
    "AugmentConfig",
    "ColorizeDataset",
    "CropDataset",
    "DamageConfig",
    "DamageDataset",
    "DenoiseDataset",
    "HardNegativeConfig",
    "ImageScan",
    "InpaintDataset",
    "MaskConfig",
    "NoiseConfig",
    "RealDenoiseDataset",
    "RealNoiseConfig",
    "TrainingDataError",
    "add_gaussian",
    "add_salt_and_pepper",
    "add_speckle",
    "build_dataset",
    "centre_crop",
    "degrade",
    "lab_to_rgb_tensor",
    "random_mask",
    "scan_images",
    "split_train_val",
    "to_unit",
    "train_crop",
]
