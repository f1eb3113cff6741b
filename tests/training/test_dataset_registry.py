"""Datasets are found by the engine's task names and built from a config's settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.tasks import task_names
from training.config import config_from_dict, load_config
from training.data.datasets import DATASET_TASKS, DATASETS, TASKS, CropDataset, build_dataset
from training.data.degrade import NoiseConfig
from training.data.folders import TrainingDataError
from training.data.masks import MaskConfig
from training.errors import TrainingError

REAL_RECIPE = Path(__file__).resolve().parents[2] / "training/configs/denoise_real_cpu.toml"


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(2):
        path = tmp_path / f"p{i}.png"
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def test_every_engine_task_has_a_training_dataset_under_its_name():
    assert set(TASKS) == set(task_names())
    assert all(DATASET_TASKS[name] == name for name in TASKS)
    assert DATASET_TASKS["denoise_real"] == "denoise"  # another set of the same task
    for cls in DATASETS.values():
        assert cls.build.__func__ is CropDataset.build.__func__  # one build path for all


def test_a_recipe_may_name_only_a_dataset_of_its_own_task():
    assert load_config("denoise", REAL_RECIPE).dataset == "denoise_real"
    with pytest.raises(TrainingError, match="does not train inpaint; inpaint datasets: inpaint"):
        config_from_dict("inpaint", {"dataset": "denoise_real"})


def test_each_task_takes_its_own_settings_from_the_config(photos):
    noise, masks = NoiseConfig(), MaskConfig()
    denoise = build_dataset("denoise", photos, None, 3, True, noise, masks, samples_per_epoch=5)
    inpaint = build_dataset("inpaint", photos, None, 3, False, noise, masks)
    assert denoise.noise is noise and len(denoise) == 5 and denoise.seed == 3
    assert inpaint.masks is masks and not inpaint.train and len(inpaint) == 2
    sample = inpaint[0]
    hole = sample["mask"][0] > 0.5
    # the engine's encoding: holes zeroed in the RGB part, the mask as the 4th channel
    assert (sample["input"][:3][:, hole] == 0).all()
    assert (sample["input"][3] == sample["mask"][0]).all()


def test_an_unknown_task_names_the_known_ones(photos):
    with pytest.raises(TrainingDataError, match="known: denoise"):
        build_dataset("sharpen", photos, None, 0, True)
