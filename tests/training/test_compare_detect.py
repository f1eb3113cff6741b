"""The paired bootstrap that says whether a detector beats another on validation (issue 21)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from training_support import random_photos

from engine.archs import build_arch
from engine.weights import save_weights
from training.calibrate import validation_photos
from training.compare_detect import bootstrap_gain, main
from training.metrics import damage_counts


def _photos(found: int, count: int = 30, seed: int = 0):
    """Per-photo counts of a detector that finds `found` of each photo's 10 damaged pixels
    (with photo-to-photo luck), and its flagged shares."""
    rng = np.random.default_rng(seed)
    counts = []
    for _ in range(count):
        truth = np.zeros((4, 10), bool)
        truth[0] = True
        pred = np.zeros_like(truth)
        pred[0, : max(0, min(10, found + int(rng.integers(-1, 2))))] = True
        counts.append(damage_counts(pred, truth, tolerance=0))
    return counts, list(rng.uniform(0.0, 0.002, count))


def test_the_same_detector_gains_nothing_with_no_spread():
    base = _photos(6)
    gain = bootstrap_gain(base, base, resamples=200)
    assert gain["f1"] == gain["f1_low"] == gain["f1_high"] == 0.0
    assert gain["f1_better_share"] == 0.0 and gain["flagged"] == 0.0


def test_a_detector_that_finds_more_on_every_photo_gains_beyond_the_noise():
    base, better = _photos(5, seed=1), _photos(8, seed=1)  # same luck, three pixels more
    gain = bootstrap_gain(base, better, resamples=300)
    assert 0.0 < gain["f1_low"] <= gain["f1"] <= gain["f1_high"]
    assert gain["f1_better_share"] == 1.0
    worse = bootstrap_gain(better, base, resamples=300)
    assert worse["f1_high"] < 0.0 and worse["f1_better_share"] == 0.0


def test_better_on_some_photos_and_worse_on_as_many_is_within_the_noise():
    base = _photos(5, count=12, seed=3)
    mixed = ([dict(c) for c in base[0]], base[1])
    for index, row in enumerate(mixed[0]):  # three more found on half the photos, three fewer
        row["found"] += 3 if index % 2 else -3
    gain = bootstrap_gain(base, mixed, resamples=400)
    assert gain["f1_low"] < 0.0 < gain["f1_high"]
    assert 0.1 < gain["f1_better_share"] < 0.9


def test_the_command_compares_on_the_whole_validation_split_unless_limited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(0)
    net = build_arch("detect_unet", base_channels=4, deep_blocks=1, fine_channels=4)
    weights = tmp_path / "detect.pt"
    save_weights(weights, net, task="detect")
    folder = random_photos(tmp_path / "train", 132)
    held_out = validation_photos([folder], 0, 0.5, 8)
    assert len(held_out) > 60  # more than calibrate's 60, which it once defaulted to
    args = ["--data", str(folder), "--val-fraction", "0.5", "--min-side", "8", "--resamples", "20"]
    pair = ["--detector", str(weights), "0.5", "none"]
    assert main([*args, *pair, *pair]) == 0
    assert f"over {len(held_out)} photos: F1 +0.0000" in capsys.readouterr().out
    assert main([*args, "--limit", "2", *pair, *pair]) == 0
    assert "over 2 photos" in capsys.readouterr().out
