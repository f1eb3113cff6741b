"""The damage detector's dataset and its scores (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.tasks.base import decode_rgb
from training import builder
from training.config import TrainConfig
from training.data import DATASETS, TASKS, AugmentConfig, DamageDataset, build_dataset
from training.data.damage import HELD_OUT_SEED, DamageConfig, damage
from training.data.damage_dataset import MAX_WEIGHT, REFERENCE_AREA, component_weights
from training.data.folders import TrainingDataError
from training.distributed import DistInfo
from training.metrics import damage_counts, damage_scores


def _dataset(photos, **kwargs) -> DamageDataset:
    paths = sorted(photos.glob("*.png"))
    return DamageDataset(paths, AugmentConfig(crop_size=64), **kwargs)


def test_registered_as_the_detect_task(photos):
    assert DATASETS["detect"] is DamageDataset and "detect" in TASKS
    built = build_dataset("detect", sorted(photos.glob("*.png")), None, 3, False)
    assert isinstance(built, DamageDataset) and built.seed == 3 and not built.train


def test_a_sample_is_the_damaged_photo_and_its_label(photos):
    data = _dataset(photos, seed=1)
    for index in range(4):
        sample = data[index]
        image, label = sample["input"], sample["target"]
        assert image.shape == (3, 64, 64) and label.shape == (1, 64, 64)
        assert image.dtype == label.dtype == torch.float32
        assert image.min() >= -1 and image.max() <= 1
        assert set(torch.unique(label).tolist()) <= {0.0, 1.0}
        # exactly the generator's output for this sample's draws, 8-bit as a file holds it
        rng = data.rng(index)
        clean = data.crop(index % len(data.paths), rng)
        expected, expected_label, _ = damage(clean, rng, data.damage)
        assert np.allclose(decode_rgb(image.numpy().transpose(1, 2, 0)), expected, atol=1e-6)
        assert np.array_equal(label[0].numpy(), expected_label.astype(np.float32))
        levels = decode_rgb(image.numpy()) * 255
        assert np.allclose(levels, np.round(levels), atol=1e-3)


def test_samples_repeat_per_epoch_and_validation_never_changes(photos):
    train, val = _dataset(photos), _dataset(photos, train=False)
    first = train[2]["target"]
    assert torch.equal(train[2]["target"], first)  # deterministic in (seed, epoch, index)
    train.set_epoch(1)
    assert not torch.equal(train[2]["input"], _dataset(photos)[2]["input"])
    before = val[1]
    val.set_epoch(5)
    assert torch.equal(val[1]["input"], before["input"])


def test_damage_is_there_and_so_are_clean_samples(photos):
    data = _dataset(photos, samples_per_epoch=40)
    shares = [float(data[i]["target"].mean()) for i in range(len(data))]
    assert sum(s == 0 for s in shares) >= 2  # "nothing here" is taught too
    assert sum(s > 0 for s in shares) >= 20


def test_the_benchmark_seed_and_config_are_not_for_training(photos):
    with pytest.raises(TrainingDataError, match="benchmark"):
        _dataset(photos, seed=HELD_OUT_SEED)
    assert _dataset(photos).damage == DamageConfig()  # the training generator by default
    assert _dataset(photos, train=False).damage == DamageConfig()  # validation too


def test_a_recipes_damage_settings_reach_training_and_validation(photos):
    assert DamageDataset.extras == ("damage", "hard_negatives")
    paths = sorted(photos.glob("*.png"))
    calm = DamageConfig(clean_prob=1.0)  # nothing to find, ever
    for train in (True, False):
        built = build_dataset("detect", paths, AugmentConfig(crop_size=64), 1, train, damage=calm)
        assert built.damage is calm
        assert all(float(built[i]["target"].max()) == 0.0 for i in range(len(built)))
    default = build_dataset("detect", paths, AugmentConfig(crop_size=64), 1, True)
    assert default.damage == DamageConfig()
    assert any(float(default[i]["target"].max()) > 0.0 for i in range(len(default)))


@pytest.mark.parametrize("changed", [False, True])
def test_the_run_builds_its_datasets_from_the_configs_damage(photos, changed):
    cfg = TrainConfig(task="detect", batch_size=2, val_fraction=0.2, min_image_side=32)
    if changed:
        cfg.damage = DamageConfig(clean_prob=0.35, fresh_prob=0.4)
    data = builder.build_data(cfg, [photos], DistInfo())
    assert data.train_set.damage == data.val_set.damage == cfg.damage
    assert (cfg.damage == DamageConfig()) is not changed  # a recipe without [damage]: as before


# --- scores ------------------------------------------------------------------------------


def _line(column: int, size: int = 40) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[5:35, column] = True
    return mask


def test_tolerance_forgives_a_mask_a_few_pixels_off():
    truth = _line(20)
    near = damage_scores(damage_counts(_line(22), truth))
    assert near["precision"] == near["recall"] == near["f1"] == 1.0
    assert near["iou"] == 0.0  # the IoU is exact
    far = damage_scores(damage_counts(_line(24), truth))
    assert far["f1"] == 0.0
    exact = damage_scores(damage_counts(truth, truth, tolerance=0))
    assert exact["f1"] == exact["iou"] == 1.0


def test_precision_and_recall_count_false_alarms_and_misses():
    truth = _line(10) | _line(30)
    scores = damage_scores(damage_counts(_line(10), truth))
    assert scores["precision"] == 1.0 and scores["recall"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(2 / 3)
    alarms = damage_scores(damage_counts(truth, _line(10)))
    assert alarms["precision"] == pytest.approx(0.5) and alarms["recall"] == 1.0
    assert alarms["flagged"] == pytest.approx(60 / 1600)


def test_empty_masks_and_pooled_counts():
    empty = np.zeros((40, 40), bool)
    assert damage_scores(damage_counts(empty, empty)) == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "iou": 1.0,
        "flagged": 0.0,
    }
    assert damage_scores(damage_counts(_line(5), empty))["f1"] == 0.0  # a false alarm
    assert damage_scores(damage_counts(empty, _line(5)))["f1"] == 0.0  # a miss
    # pooled: counts add up over images, so a clean image adds pixels, not a 0 or 1 F1
    a, b = damage_counts(_line(10), _line(10)), damage_counts(empty, empty)
    pooled = damage_scores({k: a[k] + b[k] for k in a})
    assert pooled["f1"] == 1.0 and pooled["flagged"] == pytest.approx(30 / 3200)
    with pytest.raises(ValueError, match="H×W"):
        damage_counts(empty, np.zeros((40, 41), bool))


def test_component_weights_favour_small_pieces_of_damage():
    label = np.zeros((80, 80), np.uint8)
    label[2:5, 2:5] = 1  # a 9-px speck
    label[10:70, 40:60] = 1  # a 1200-px crack: larger than the reference area
    label[75, 10:42] = 1  # a 32-px hair
    weights = component_weights(label)
    assert weights.dtype == np.float32 and weights.shape == label.shape
    assert np.all(weights[label == 0] == 1.0)
    assert np.all(weights[10:70, 40:60] == 1.0)
    assert np.all(weights[2:5, 2:5] == MAX_WEIGHT)  # sqrt(1024 / 9) > the cap
    assert weights[75, 20] == pytest.approx(np.sqrt(REFERENCE_AREA / 32))
    assert np.all(component_weights(np.zeros((8, 8), np.uint8)) == 1.0)


def test_a_sample_carries_the_weights_of_its_label(photos):
    sample = _dataset(photos, seed=2)[0]
    label = sample["target"][0].numpy()
    assert sample["weight"].shape == (1, 64, 64)
    assert np.array_equal(sample["weight"][0].numpy(), component_weights(label))
