"""Choosing the hint colorizer's pin size on the training photos' validation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from training_support import random_photos

from engine.archs import build_arch
from engine.models import load_model
from engine.weights import save_weights
from training.calibrate import main
from training.calibrate_hints import PatchRow, choose_patch, score_patches, truth_hints
from training.data import scan_images, split_train_val

TINY = {"base_channels": 4, "max_channels": 8}


def _row(patch: int, five: float, ten: float) -> PatchRow:
    return PatchRow(patch, {5: five, 10: ten}, (five + ten) / 2)


def test_the_patch_with_the_best_psnr_averaged_over_the_counts_is_chosen() -> None:
    rows = [_row(3, 24.0, 24.5), _row(5, 24.9, 25.5), _row(7, 25.3, 25.0), _row(9, 25.1, 24.7)]
    assert choose_patch(rows).patch == 5  # 7 wins at 5 hints, 5 on the mean
    assert choose_patch([_row(1, 23.0, 24.0), _row(3, 24.0, 23.0)]).patch == 1  # a tie: first


def test_hints_are_the_truths_3x3_mean_at_random_pixels_fixed_per_photo_and_count() -> None:
    rng = np.random.default_rng(0)
    truth = (rng.random((40, 60, 3)) * 255).astype(np.uint8)
    hints = truth_hints(truth, 10, 3)
    assert len(hints) == 10 and hints == truth_hints(truth, 10, 3)
    assert hints != truth_hints(truth, 10, 4) and hints[:5] != truth_hints(truth, 5, 3)
    for hint in hints:
        x, y = int(hint.x), int(hint.y)
        assert (hint.x - x, hint.y - y) == (0.5, 0.5) and 0 <= x < 60 and 0 <= y < 40
        patch = truth[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].reshape(-1, 3)
        assert hint.rgb == tuple(int(v) for v in np.round(patch.mean(axis=0)))


def _hint_weights(path: Path, *, listens: bool = True, arch: str = "colorize_hint") -> Path:
    """A tiny colorizer as a weight file; a fresh hint net's hint weight is zero (it ignores
    hints), `listens` gives it one."""
    torch.manual_seed(0)
    net = build_arch(arch, **TINY)
    if listens:
        with torch.no_grad():
            nn.init.normal_(net.encoder[0].hint.weight, std=0.5)
    save_weights(path, net, task="colorize", meta={"resolution": 256, "hint_patch": 5})
    return path


def test_every_patch_and_count_is_scored_and_the_files_patch_is_left_as_loaded(
    tmp_path: Path,
) -> None:
    weights = _hint_weights(tmp_path / "hint.pt")
    photos = sorted(random_photos(tmp_path / "photos", 2).glob("*.png"))
    rows, no_hints, scored = score_patches(weights, photos, [1, 7], [2, 6])
    assert scored == 2
    assert [row.patch for row in rows] == [1, 7] and all(list(r.psnr) == [2, 6] for r in rows)
    assert all(np.isfinite(row.mean) for row in rows) and np.isfinite(no_hints)
    assert rows[0].psnr != rows[1].psnr  # the square's size reaches the network
    assert rows[0].mean == pytest.approx(np.mean(list(rows[0].psnr.values())))
    model = load_model("colorize", torch.device("cpu"), weights=weights, full_precision=True)
    assert model.hint_patch == 5


def test_a_net_that_ignores_its_hints_scores_as_with_no_hints(tmp_path: Path) -> None:
    weights = _hint_weights(tmp_path / "deaf.pt", listens=False)
    photos = sorted(random_photos(tmp_path / "photos", 1).glob("*.png"))
    rows, no_hints, _ = score_patches(weights, photos, [1, 9], [3])
    assert [row.psnr[3] for row in rows] == pytest.approx([no_hints, no_hints], abs=1e-9)


def test_the_command_scores_the_runs_validation_split_and_marks_its_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = _hint_weights(tmp_path / "hint.pt")
    folder = random_photos(tmp_path / "train", 8)
    out = tmp_path / "rows.json"
    args = ["colorize-hints", "--weights", str(weights), "--data", str(folder)]
    cli = ["--val-fraction", "0.25", "--patches", "1", "3", "--counts", "2", "4"]
    assert main([*args, *cli, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    held_out = split_train_val(scan_images([folder], min_side=64).paths, 0.25, 0)[1]
    assert result["photos"] == [str(p) for p in held_out] and len(held_out) == 2
    assert result["task"] == "colorize-hints" and result["counts"] == [2, 4]
    assert [row["patch"] for row in result["rows"]] == [1, 3]
    best = max(result["rows"], key=lambda row: row["mean"])
    assert result["chosen"] == best["patch"] and np.isfinite(result["no_hints"])
    printed = capsys.readouterr().out
    assert "| patch | 2 hints | 4 hints | mean |" in printed
    assert f"| {best['patch']}×{best['patch']} (chosen) |" in printed
    assert "over 2 colour photos; no hints:" in printed and result["colour_photos"] == 2


def test_a_model_that_takes_no_hints_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "plain.pt"
    torch.manual_seed(0)
    save_weights(weights, build_arch("colorize_unet", **TINY), task="colorize")
    folder = random_photos(tmp_path / "train", 4)
    args = ["colorize-hints", "--weights", str(weights), "--data", str(folder)]
    assert main([*args, "--val-fraction", "0.5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("takes no colour hints: nothing to calibrate") and "\n" not in err
    assert str(weights) in err


@pytest.mark.parametrize("bad", [["--patches", "4"], ["--patches", "11"], ["--counts", "0"]])
def test_patches_must_be_odd_sides_and_counts_positive(bad: list[str], tmp_path: Path) -> None:
    args = ["colorize-hints", "--weights", "x.pt", "--data", str(tmp_path)]
    with pytest.raises(SystemExit) as caught:
        main([*args, *bad])
    assert caught.value.code == 2


def test_grey_validation_photos_are_skipped(tmp_path: Path) -> None:
    weights = _hint_weights(tmp_path / "hint.pt")
    grey = np.repeat(np.linspace(0, 255, 96 * 80).reshape(96, 80, 1), 3, 2).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    with pytest.raises(SystemExit, match="no colour photo"):
        score_patches(weights, [tmp_path / "grey.png"], [3], [5])
    photos = sorted(random_photos(tmp_path / "photos", 1).glob("*.png"))
    assert score_patches(weights, [tmp_path / "grey.png", *photos], [3], [5])[2] == 1
