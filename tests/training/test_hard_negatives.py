"""Mining a detector's false alarms and centring training crops on them (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.archs import build_arch
from engine.weights import save_weights
from training import builder
from training.config import TrainConfig, load_config
from training.data import AugmentConfig, DamageDataset, train_crop
from training.data.folders import TrainingDataError
from training.data.hard_negatives import HardNegativeConfig, HardNegatives
from training.distributed import DistInfo
from training.mine_negatives import MIN_AREA, main, marked_pieces

MARK = (0.85, 0.9)  # where the red square of each photo lies (y, x on the 0-1 scale)


def _photos(folder: Path, count: int = 3, size=(300, 400)) -> list[Path]:
    """Grey noise photos with a small pure-red square at `MARK`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)
    paths = []
    for i in range(count):
        pixels = (rng.random((*size, 3)) * 80 + 60).astype(np.uint8)
        y, x = round(MARK[0] * size[0]), round(MARK[1] * size[1])
        pixels[y - 3 : y + 3, x - 3 : x + 3] = (255, 0, 0)
        Image.fromarray(pixels).save(folder / f"{i}.png")
        paths.append(folder / f"{i}.png")
    return paths


def _red(crop: np.ndarray) -> bool:
    return bool((crop[..., 0] - crop[..., 1] > 0.6).any())  # the photos are grey elsewhere


def _mined(paths: list[Path], file: Path) -> Path:
    box = [MARK[0] - 0.01, MARK[1] - 0.01, MARK[0] + 0.01, MARK[1] + 0.01, 0.0003]
    photos = [{"path": str(p), "flagged": [0.0003, 0.0], "pieces": [box]} for p in paths]
    file.write_text(json.dumps({"photos": photos}))
    return file


@pytest.mark.parametrize("zoom", [(1.0, 1.0), (0.5, 1.0)])
def test_a_crop_given_a_point_holds_it_where_random_crops_mostly_miss_it(tmp_path, zoom):
    pixels = np.asarray(Image.open(_photos(tmp_path, 1)[0]))
    cfg = AugmentConfig(crop_size=64, scale_range=zoom)
    held = [_red(train_crop(pixels, np.random.default_rng(i), cfg, at=MARK)) for i in range(40)]
    anywhere = [_red(train_crop(pixels, np.random.default_rng(i), cfg)) for i in range(40)]
    assert all(held) and sum(anywhere) < 20


def test_a_point_on_a_small_photo_is_held_after_it_is_upscaled(tmp_path):
    pixels = np.asarray(Image.open(_photos(tmp_path, 1, size=(48, 60))[0]))
    cfg = AugmentConfig(crop_size=64)
    assert all(_red(train_crop(pixels, np.random.default_rng(i), cfg, at=MARK)) for i in range(20))


def test_a_whole_view_crop_past_the_short_side_holds_the_point_too(tmp_path):
    pixels = np.asarray(Image.open(_photos(tmp_path, 1, size=(80, 400))[0]))
    cfg = AugmentConfig(crop_size=64, scale_range=(0.5, 0.5), zoom_past_short_side=True)
    held = [_red(train_crop(pixels, np.random.default_rng(i), cfg, at=MARK)) for i in range(20)]
    anywhere = [_red(train_crop(pixels, np.random.default_rng(i), cfg)) for i in range(20)]
    assert all(held) and not all(anywhere)


def test_training_crops_are_centred_on_mined_pieces_by_the_share_asked(tmp_path):
    paths = _photos(tmp_path / "photos")
    file = _mined(paths[:2], tmp_path / "hard.json")
    always = DamageDataset(
        paths,
        AugmentConfig(crop_size=64),
        hard_negatives=HardNegativeConfig(str(file), 1.0),
    )
    assert len(always._hard) == 2  # the pieces of the two mined photos
    assert all(_red(always.crop(i % 3, always.rng(i))) for i in range(24))
    never = DamageDataset(paths, AugmentConfig(crop_size=64))
    assert sum(_red(never.crop(i % 3, never.rng(i))) for i in range(24)) < 12
    # Validation crops are never steered (nor is the file read).
    held_out = DamageDataset(
        paths,
        AugmentConfig(crop_size=64),
        train=False,
        hard_negatives=HardNegativeConfig(str(tmp_path / "missing.json"), 1.0),
    )
    assert held_out._hard is None


def test_pieces_of_photos_outside_the_dataset_are_dropped_and_none_is_refused(tmp_path):
    paths = _photos(tmp_path / "photos")
    file = _mined(paths[:1], tmp_path / "hard.json")
    assert HardNegatives.load(file, paths).positions == [0]
    with pytest.raises(TrainingDataError, match="no piece of the 1 mined photos"):
        HardNegatives.load(file, paths[1:])
    with pytest.raises(TrainingDataError, match="covers at least 0.001"):
        HardNegatives.load(file, paths, min_area=0.001)  # its one piece covers 0.0003
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(TrainingDataError, match="cannot read it"):
        HardNegatives.load(tmp_path / "bad.json", paths)


def test_a_second_rounds_file_adds_its_pieces_to_the_first_rounds(tmp_path):
    paths = _photos(tmp_path / "photos")
    first = _mined(paths[:1], tmp_path / "round1.json")
    second = _mined(paths[1:], tmp_path / "round2.json")
    assert HardNegatives.load([first, second], paths).positions == [0, 1, 2]
    recipe = tmp_path / "r.toml"
    recipe.write_text(f'[hard_negatives]\nfile = "{first}"\nfiles = ["{second}"]\nshare = 0.5\n')
    config = load_config("detect", recipe).hard_negatives
    assert config.all_files == (str(first), str(second))
    dataset = DamageDataset(paths, AugmentConfig(crop_size=64), seed=3, hard_negatives=config)
    assert sorted(set(dataset._hard.positions)) == [0, 1, 2]
    with pytest.raises(TrainingDataError, match="round3.json: cannot read it"):
        HardNegatives.load([first, tmp_path / "round3.json"], paths)


def test_large_pieces_are_drawn_more_often_and_points_lie_in_their_box(tmp_path):
    paths = _photos(tmp_path / "photos", 2)
    photos = [
        {"path": str(paths[0]), "pieces": [[0.0, 0.0, 0.1, 0.1, 0.0001]]},
        {"path": str(paths[1]), "pieces": [[0.5, 0.5, 1.0, 1.0, 0.25]]},
    ]
    hard = HardNegatives(photos, paths)
    rng = np.random.default_rng(0)
    draws = [hard.draw(rng) for _ in range(400)]
    big = [at for position, at in draws if position == 1]
    assert 300 < len(big) < 400  # weight sqrt(area): 50 to 1
    assert all(0.5 <= y <= 1.0 and 0.5 <= x <= 1.0 for y, x in big)
    only_large = HardNegatives(photos, paths, min_area=0.01)
    assert only_large.positions == [1] and only_large.draw(rng)[0] == 1


def test_the_share_is_checked_and_read_from_a_recipe(tmp_path):
    with pytest.raises(TrainingDataError, match="share must be in"):
        HardNegativeConfig("x.json", 1.5)
    with pytest.raises(TrainingDataError, match="needs hard_negatives.file"):
        HardNegativeConfig("", 0.3)
    recipe = tmp_path / "r.toml"
    recipe.write_text('[hard_negatives]\nfile = "runs/h.json"\nshare = 0.3\n')
    assert load_config("detect", recipe).hard_negatives == HardNegativeConfig("runs/h.json", 0.3)


def test_marked_pieces_are_boxes_on_the_unit_scale_largest_first():
    mask = np.zeros((100, 200), bool)
    mask[10:20, 20:60] = True  # 400 px
    mask[50:90, 100:150] = True  # 2000 px
    mask[0:2, 0:2] = True  # a speck below MIN_AREA
    pieces = marked_pieces(mask)
    assert len(pieces) == 2 and MIN_AREA > 4
    assert pieces[0] == [0.5, 0.5, 0.9, 0.75, 0.1]
    assert pieces[1] == [0.1, 0.1, 0.2, 0.3, 0.02]


def test_mining_scans_only_the_training_split_and_writes_what_it_marks(tmp_path):
    torch.manual_seed(0)
    net = build_arch("detect_unet", base_channels=4, deep_blocks=1, fine_channels=4)
    weights = tmp_path / "detect.pt"
    save_weights(weights, net, task="detect")
    _photos(tmp_path / "photos", 4, size=(64, 80))
    out = tmp_path / "hard.json"
    # A cut of 0 marks every pixel: every training photo is one whole-photo piece.
    argv = ["--weights", str(weights), "--data", str(tmp_path / "photos"), "--out", str(out)]
    assert main([*argv, "--threshold", "0", "--no-coarse", "--val-fraction", "0.25"]) == 0
    report = json.loads(out.read_text())
    assert report["photos_scanned"] == 3 and len(report["photos"]) == 3
    held_out = {str(p) for p in (tmp_path / "photos").glob("*.png")} - {
        e["path"] for e in report["photos"]
    }
    assert len(held_out) == 1
    entry = report["photos"][0]
    assert entry["flagged"] == [1.0, 1.0] and entry["pieces"][0] == [0.0, 0.0, 1.0, 1.0, 1.0]


def test_a_run_steers_its_training_crops_but_not_its_validation_crops(tmp_path):
    paths = _photos(tmp_path / "photos", 5)
    cfg = TrainConfig(task="detect", batch_size=2, val_fraction=0.2, min_image_side=32)
    cfg.hard_negatives = HardNegativeConfig(str(_mined(paths, tmp_path / "hard.json")), 0.5)
    data = builder.build_data(cfg, [tmp_path / "photos"], DistInfo())
    assert len(data.train_set._hard) == 4  # the validation photo's piece is not drawn
    assert data.val_set._hard is None
