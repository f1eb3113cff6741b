"""Choosing the colorizer's default vividness on the training photos' validation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from training_support import random_photos

from engine.archs import build_arch
from engine.color import rgb_to_lab
from engine.weights import save_weights
from training.calibrate import (
    GainRow,
    ThresholdRow,
    choose_gain,
    choose_threshold,
    grey_of,
    main,
    score_gains,
    score_thresholds,
)
from training.data import scan_images, split_train_val


def _row(gain: float, psnr: float, win: float) -> GainRow:
    return GainRow(gain, psnr, psnr - 25.0, win, 10.0)


def test_the_best_psnr_among_gains_that_beat_grey_often_enough_is_chosen() -> None:
    rows = [_row(1.0, 26.0, 0.80), _row(1.4, 26.5, 0.60), _row(1.2, 26.2, 0.76)]
    assert choose_gain(rows).gain == 1.2  # 1.4 scores best but beats grey too rarely
    assert choose_gain(rows, min_win_share=0.5).gain == 1.4
    assert choose_gain([_row(1.0, 24.0, 0.1), _row(2.0, 24.5, 0.2)]).gain == 2.0  # none does


def test_the_grey_baseline_keeps_lightness_and_drops_all_colour() -> None:
    rng = np.random.default_rng(0)
    photo = rng.random((16, 16, 3)).astype(np.float32)
    grey = grey_of(photo)
    lab, grey_lab = rgb_to_lab(photo), rgb_to_lab(grey)
    np.testing.assert_allclose(grey_lab[..., 0], lab[..., 0], atol=0.5)
    assert np.abs(grey_lab[..., 1:]).max() < 0.5


@pytest.fixture
def colour_weights(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    net = build_arch("colorize_unet", base_channels=4, max_channels=8)
    with torch.no_grad():  # a strong, fixed colour everywhere: far from grey
        net.final[0].bias.copy_(torch.tensor([0.5, -0.5]))
    path = tmp_path / "colorize.pt"
    save_weights(path, net, task="colorize", meta={"resolution": 256})
    return path


def test_a_gain_near_zero_scores_as_grey_and_rows_cover_every_gain(
    colour_weights: Path, tmp_path: Path
) -> None:
    photos = sorted(random_photos(tmp_path / "photos", 3).glob("*.png"))
    rows = score_gains(colour_weights, photos, [0.001, 2.0])
    assert [row.gain for row in rows] == [0.001, 2.0]
    assert rows[0].over_grey == pytest.approx(0.0, abs=0.05)
    assert rows[0].colourfulness < 1.0 < rows[1].colourfulness
    assert all(0.0 <= row.win_share <= 1.0 for row in rows)


def test_the_command_scores_the_runs_validation_split_only(
    colour_weights: Path, tmp_path: Path
) -> None:
    folder = random_photos(tmp_path / "train", 8)
    out = tmp_path / "rows.json"
    args = ["colorize", "--weights", str(colour_weights), "--data", str(folder)]
    assert main([*args, "--val-fraction", "0.25", "--gains", "1", "1.5", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    held_out = split_train_val(scan_images([folder], min_side=64).paths, 0.25, 0)[1]
    assert result["photos"] == [str(p) for p in held_out] and len(held_out) == 2
    assert result["chosen"] in (1.0, 1.5) and len(result["rows"]) == 2


def _trow(threshold: float, f1: float, flagged: float) -> ThresholdRow:
    return ThresholdRow(threshold, f1, f1, f1, flagged)


def test_the_best_f1_among_thresholds_quiet_on_clean_photos_is_chosen() -> None:
    rows = [_trow(0.3, 0.85, 0.004), _trow(0.5, 0.80, 0.0015), _trow(0.7, 0.70, 0.0005)]
    assert choose_threshold(rows).threshold == 0.5  # 0.3 finds more but flags clean photos
    assert choose_threshold(rows, max_flagged=0.01).threshold == 0.3
    noisy = [_trow(0.3, 0.9, 0.05), _trow(0.6, 0.8, 0.01)]
    assert choose_threshold(noisy).threshold == 0.6  # none quiet enough: the quietest


def test_detector_thresholds_are_scored_on_damaged_and_undamaged_photos(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = build_arch("detect_unet", base_channels=4, deep_blocks=1, fine_channels=4)
    path = tmp_path / "detect.pt"
    save_weights(path, net, task="detect")
    photos = sorted(random_photos(tmp_path / "photos", 2).glob("*.png"))
    rows = score_thresholds(path, photos, [0.0, 0.999999])
    low, high = rows
    # Everything above probability 0: every pixel of every photo is marked.
    assert low.clean_flagged == 1.0 and low.recall == 1.0 and low.precision < 1.0
    assert high.clean_flagged <= low.clean_flagged and high.recall <= low.recall


def test_coarse_pass_thresholds_are_scored_in_pairs_with_each_threshold(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = build_arch("detect_unet", base_channels=4, deep_blocks=1, fine_channels=4)
    path = tmp_path / "detect.pt"
    save_weights(path, net, task="detect")
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(2)
    for i in range(2):  # large enough for a coarse pass (>= 128 px)
        Image.fromarray((rng.random((160, 144, 3)) * 255).astype(np.uint8)).save(
            folder / f"{i}.png"
        )
    photos = sorted(folder.glob("*.png"))
    rows = score_thresholds(path, photos, [0.3, 0.999999], [0.0, 0.999999])
    assert [(r.threshold, r.coarse) for r in rows] == [
        (t, c) for t in (0.3, 0.999999) for c in (None, 0.0, 0.999999)
    ]
    alone, everything, quiet = rows[:3]
    # A coarse cut of 0 finds one piece, the whole photo, and the full pass found something
    # in it at 0.3: every pixel is marked. The pair is never quieter than its cut alone.
    assert alone.clean_flagged > 0 and everything.clean_flagged == 1.0
    assert everything.recall == 1.0
    assert alone.clean_flagged <= quiet.clean_flagged <= everything.clean_flagged
    # Where the full pass finds nothing, the coarse pass adds nothing.
    assert rows[3].clean_flagged == rows[4].clean_flagged == 0.0
    assert alone == score_thresholds(path, photos, [0.3])[0]  # the same as without pairs


def test_grey_validation_photos_are_skipped_as_training_skips_them(
    colour_weights: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    grey = np.repeat(np.linspace(0, 255, 96 * 80).reshape(96, 80, 1), 3, 2).astype(np.uint8)
    Image.fromarray(grey).save(folder / "grey.png")
    with pytest.raises(SystemExit, match="no colour photo"):
        score_gains(colour_weights, [folder / "grey.png"], [1.0])
    photos = sorted(random_photos(tmp_path / "photos", 1).glob("*.png"))
    both = score_gains(colour_weights, [folder / "grey.png", *photos], [1.0])
    assert both == score_gains(colour_weights, photos, [1.0])
