"""The typed training configuration and the shipped config files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from engine.archs import build_arch
from training.config import OptimConfig, TrainConfig, config_from_dict, load_config
from training.data import DamageConfig
from training.errors import TrainingError

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "training" / "configs").glob("*.toml"))


def test_config_file_is_typed_and_typos_are_refused(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("steps = 50\nbatch_size = 4\n[augment]\ncrop_size = 64\n[losses]\nl1 = 2\n")
    cfg = load_config("colorize", good)
    assert (cfg.steps, cfg.batch_size, cfg.augment.crop_size, cfg.losses.l1) == (50, 4, 64, 2.0)
    assert cfg.losses.adversarial > 0  # untouched fields keep the task's defaults
    typo = tmp_path / "typo.toml"
    typo.write_text("[optim]\nlr_genrator = 0.1\n")
    with pytest.raises(TrainingError, match="optim.lr_genrator"):
        load_config("denoise", typo)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('batch_size = "eight"\n')
    with pytest.raises(TrainingError, match="batch_size must be int"):
        load_config("denoise", wrong)


def test_settings_that_would_crash_later_are_refused_at_start():
    with pytest.raises(TrainingError, match="val_every must be at least 1"):
        TrainConfig(task="denoise", val_every=0)
    with pytest.raises(TrainingError, match="val_fraction"):
        TrainConfig(task="denoise", val_fraction=0.0)
    with pytest.raises(TrainingError, match="optim.schedule"):
        TrainConfig(task="denoise", optim=OptimConfig(schedule="linear"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads_and_builds_its_networks(path):
    task = path.name.split("_")[0]  # configs are named after their task
    cfg = load_config(task, path)
    generator = build_arch(cfg.model.generator, **cfg.model.generator_kwargs)
    critic = build_arch(cfg.model.discriminator, **cfg.model.discriminator_kwargs)
    assert generator.task == critic.task == task
    if "damage" not in tomllib.loads(path.read_text(encoding="utf-8")):
        assert cfg.damage == DamageConfig()  # the detector's generator as it always was


def test_a_damage_table_sets_the_detectors_generator(tmp_path):
    recipe = tmp_path / "detect.toml"
    recipe.write_text("[damage]\nclean_prob = 0.35\nfresh_prob = 0.4\ncrack_count = [2, 6]\n")
    cfg = load_config("detect", recipe)
    assert cfg.damage == DamageConfig(clean_prob=0.35, fresh_prob=0.4, crack_count=(2, 6))
    assert all(type(n) is int for n in cfg.damage.crack_count)  # counts stay whole numbers
    assert cfg.damage.crack_prob == DamageConfig().crack_prob  # the rest keep their defaults
    assert TrainConfig(task="detect").damage == DamageConfig()
    assert load_config("detect").damage == DamageConfig()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("foo = 1", r"unknown setting damage\.foo; known here: age_blur, .*clean_prob, "),
        ("clean_prob = 1.5", r"damage\.clean_prob must be in \[0, 1\], got 1\.5"),
        ("fresh_prob = -0.1", r"damage\.fresh_prob must be in \[0, 1\]"),
        ("crack_width = [5, 2]", r"damage\.crack_width must be \(low, high\) with 0 <= low"),
        ("contrast = [-0.1, 0.9]", r"damage\.contrast must be \(low, high\)"),
        ("crack_count = [1.5, 3]", r"damage\.crack_count must be whole numbers"),
        ("scan_blur = [0.3]", r"damage\.scan_blur must be a \(low, high\) pair"),
        ('saturation = ["a", 1]', r"damage\.saturation must be a \(low, high\) pair"),
        ("tones = [0.5, 0.5]", r"damage\.tones must be 3 shares"),
        ("torn_colours = [0.5, 0.5, 0.5, 0.5]", r"damage\.torn_colours must be shares"),
        ("dust_radius = [0, 2]", r"damage\.dust_radius must be > 0"),
        ("jpeg_quality = [50, 120]", r"damage\.jpeg_quality must lie in \[1, 100\]"),
        ('clean_prob = "often"', r"setting damage\.clean_prob must be float"),
        (
            "crack_prob = 0\nscratch_prob = 0\ncrease_prob = 0\ndust_prob = 0\nhair_prob = 0\n"
            "spot_prob = 0\ntorn_prob = 0",
            r"damage: some <kind>_prob must be > 0",
        ),
    ],
)
def test_bad_damage_settings_are_refused_at_load_in_one_line(tmp_path, table, message):
    recipe = tmp_path / "bad.toml"
    recipe.write_text(f"[damage]\n{table}\n")
    with pytest.raises(TrainingError, match=message) as caught:
        load_config("detect", recipe)
    assert "\n" not in str(caught.value)


def test_a_damage_setting_must_be_a_table(tmp_path):
    recipe = tmp_path / "bad.toml"
    recipe.write_text("damage = 0.3\n")
    with pytest.raises(TrainingError, match="setting damage must be a table, got 0.3"):
        load_config("detect", recipe)


def test_saved_settings_round_trip_and_old_ones_without_damage_still_load():
    cfg = TrainConfig(task="detect", damage=DamageConfig(clean_prob=0.35, crack_count=(2, 6)))
    saved = json.loads(json.dumps(cfg.to_dict()))  # a run folder's config.json
    assert saved["damage"]["clean_prob"] == 0.35 and saved["damage"]["crack_count"] == [2, 6]
    assert config_from_dict("detect", saved).damage == cfg.damage
    del saved["damage"]  # written before the detector's damage was a setting
    assert config_from_dict("detect", saved).damage == DamageConfig()
