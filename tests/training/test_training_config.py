"""The typed training configuration and the shipped config files."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.archs import build_arch
from training.config import OptimConfig, TrainConfig, load_config
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
