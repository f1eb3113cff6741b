"""Training the damage detector: losses, hooks, config, validation, a tiny run exported
and run through the engine (issue 21)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from training_support import make_trainer

from engine import api
from engine.archs import build_arch
from engine.weights import load_weights
from training.checkpoint import load_checkpoint, save_checkpoint
from training.config import DEFAULT_MODELS, ModelConfig, TrainConfig, load_config
from training.data import AugmentConfig, DamageConfig, DamageDataset
from training.detect_hooks import DetectHooks
from training.errors import TrainingError
from training.export import export_run
from training.losses import GeneratorLoss, LossWeights, soft_dice
from training.tasks import HOOKS, Outputs
from training.validation import primary_metric, validate_generator

RECIPE = Path(__file__).resolve().parents[2] / "training/configs/detect_cpu.toml"
TINY = ModelConfig(
    "detect_unet",
    {"base_channels": 4, "fine_channels": 4},
    "detect_patchgan",
    {"base_channels": 4},
)


def _batch(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = (torch.rand(2, 1, 32, 32, generator=g) > 0.9).float()
    return {"input": torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, "target": target}


def test_default_losses_are_bce_and_dice_without_a_critic():
    weights = LossWeights.for_task("detect")
    assert weights.enabled == {"bce": 1.0, "dice": 1.0} and not weights.needs_vgg


def test_soft_dice_rewards_overlap():
    target = _batch()["target"]
    right, wrong = (target * 2 - 1) * 20, (1 - target * 2) * 20
    assert float(soft_dice(right, target)) < 0.01
    assert float(soft_dice(wrong, target)) > 0.95
    assert float(soft_dice(torch.full_like(target, -20.0), torch.zeros_like(target))) < 0.01


def test_hooks_train_every_parameter_on_bce_plus_dice():
    assert HOOKS["detect"] is DetectHooks
    net = build_arch(TINY.generator, **TINY.generator_kwargs)
    hooks = DetectHooks(GeneratorLoss(LossWeights.for_task("detect")))
    batch = _batch()
    out = hooks.generate(net, batch)
    assert out.pred.shape == batch["target"].shape
    total, parts = hooks.generator_loss(batch, out, None)
    assert set(parts) == {"bce", "dice"}
    assert float(total.detach()) == pytest.approx(parts["bce"] + parts["dice"], rel=1e-5)
    total.backward()
    assert all(p.grad is not None for p in net.parameters())


def test_visuals_and_critic_input():
    hooks = DetectHooks(GeneratorLoss(LossWeights.for_task("detect")))
    batch = _batch()
    logits = torch.randn(2, 1, 32, 32)
    damaged, predicted, truth = hooks.visuals(batch, Outputs(logits))
    for picture in (damaged, predicted, truth):
        assert picture.shape == (2, 3, 32, 32) and picture.min() >= 0 and picture.max() <= 1
    assert torch.allclose(predicted[:, 0], torch.sigmoid(logits)[:, 0])
    assert torch.equal(truth[:, 1], batch["target"][:, 0])
    critic = build_arch(TINY.discriminator, **TINY.discriminator_kwargs)
    assert critic(hooks.critic_input(batch, None)).dim() == 4  # 4 channels: photo + mask
    assert critic(hooks.critic_input(batch, logits)).dim() == 4


def test_the_recipe_and_the_defaults():
    cfg = load_config("detect", RECIPE)
    assert cfg.model.generator == "detect_unet" and cfg.augment.crop_size == 256
    assert cfg.losses.enabled == {"bce": 1.0, "dice": 1.0} and cfg.batch_size == 8
    assert cfg.steps == 6000 and 0 < cfg.val_fraction < 0.1
    default = TrainConfig(task="detect")
    generator, g_kwargs, critic, d_kwargs = DEFAULT_MODELS["detect"]
    assert default.model.generator == generator == cfg.model.generator
    assert build_arch(critic, **d_kwargs).in_channels == 4
    assert build_arch(generator, **g_kwargs).arch_kwargs == cfg.model.generator_kwargs
    assert primary_metric("detect") == "f1"


def test_validation_scores_masks_through_the_engine(photos):
    data = DamageDataset(sorted(photos.glob("*.png"))[:3], AugmentConfig(crop_size=64), train=False)
    net = build_arch(TINY.generator, **TINY.generator_kwargs).eval()
    result = validate_generator(
        "detect", net, data, torch.device("cpu"), 64, samples=2, shown_input=lambda s: s
    )
    assert set(result.metrics) == {"precision", "recall", "f1", "iou", "flagged"}
    assert all(0.0 <= v <= 1.0 for v in result.metrics.values())
    assert len(result.grid) == 2
    _, predicted, truth = result.grid[0]
    assert predicted.shape == truth.shape == (64, 64, 3) and predicted.dtype == np.float32
    assert set(np.unique(truth)) <= {0.0, 1.0}


def _tiny_run(steps: int, **changes) -> TrainConfig:
    """A detector run of `steps` steps on 64-px crops, validated and saved at its end."""
    cfg = TrainConfig(
        task="detect",
        steps=steps,
        batch_size=2,
        val_fraction=0.2,
        val_max_images=2,
        val_every=steps,
        checkpoint_every=steps,
        log_every=1,
        samples=1,
        min_image_side=32,
        model=TINY,
        **changes,
    )
    cfg.augment.crop_size = 64
    return cfg


def test_a_tiny_run_exports_a_detector_the_engine_runs(tmp_path, photos):
    cfg = _tiny_run(2)
    result = make_trainer(cfg, photos, tmp_path / "run").fit()
    assert result.steps == 2 and "f1" in result.last_metrics
    exported = export_run(tmp_path / "run", tmp_path / "weights" / "detect.pt")
    image = api.read_image(sorted(photos.glob("*.png"))[0]).pixels
    mask = api.detect_damage(image, options=api.RunOptions(weights=exported.path))
    assert mask.shape == image.shape[:2] and mask.dtype == bool
    # The threshold training.calibrate chose travels in the file and its card.
    calibrated = export_run(tmp_path / "run", tmp_path / "w2" / "detect.pt", threshold=0.35)
    assert load_weights(calibrated.path).meta["threshold"] == 0.35
    assert "threshold | 0.35" in calibrated.card.read_text()
    with pytest.raises(TrainingError, match=r"threshold 1\.5: it must be in \(0, 1\)"):
        export_run(tmp_path / "run", tmp_path / "w3" / "detect.pt", threshold=1.5)
    # And the coarse pass's threshold, checked the same way; absent unless asked for.
    assert "coarse_threshold" not in load_weights(calibrated.path).meta
    two = export_run(tmp_path / "run", tmp_path / "w4" / "detect.pt", coarse_threshold=0.97)
    assert load_weights(two.path).meta["coarse_threshold"] == 0.97
    assert "coarse threshold | 0.97" in two.card.read_text()
    with pytest.raises(TrainingError, match="--coarse-threshold has threshold 0: it must be"):
        export_run(tmp_path / "run", tmp_path / "w5" / "detect.pt", coarse_threshold=0.0)


def test_snapshots_kept_every_n_steps_export_like_the_last(tmp_path, photos):
    cfg = _tiny_run(4, keep_every=2)
    make_trainer(cfg, photos, tmp_path / "run").fit()
    kept = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    assert kept == ["step_0000002.pt", "step_0000004.pt"]
    early = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_0000002.pt")
    assert early["step"] == 2 and load_checkpoint(tmp_path / "run")["step"] == 4
    early_file = export_run(tmp_path / "run" / "checkpoints" / "step_0000002.pt", tmp_path / "a.pt")
    last_file = export_run(tmp_path / "run", tmp_path / "b.pt")
    early_net, last_net = load_weights(early_file.path), load_weights(last_file.path)
    assert early_net.arch == last_net.arch == "detect_unet"
    assert any(  # the snapshot is the state two steps before the end, not a copy of it
        not torch.equal(a, b)
        for a, b in zip(early_net.state_dict.values(), last_net.state_dict.values(), strict=True)
    )
    with pytest.raises(TrainingError, match="keep_every must be 0 or more"):
        TrainConfig(task="detect", keep_every=-1)


def test_a_runs_damage_settings_are_saved_and_an_older_run_without_them_resumes(tmp_path, photos):
    cfg = TrainConfig(
        task="detect",
        steps=1,
        batch_size=2,
        val_fraction=0.2,
        val_max_images=2,
        val_every=1,
        checkpoint_every=1,
        samples=1,
        min_image_side=32,
        model=TINY,
        damage=DamageConfig(clean_prob=0.35, fresh_prob=0.4),
    )
    cfg.augment.crop_size = 64
    run = tmp_path / "run"
    trainer = make_trainer(cfg, photos, run)
    assert trainer.train_set.damage == trainer.val_set.damage == cfg.damage
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    assert saved["damage"]["clean_prob"] == 0.35 and saved["damage"]["fresh_prob"] == 0.4
    trainer.fit()
    resumed = make_trainer(TrainConfig(task="detect"), photos, run, resume=True)
    assert resumed.cfg.damage == cfg.damage  # the run's own settings, not the caller's
    # A run saved before the detector's damage was a setting trained on the defaults.
    state = load_checkpoint(run)
    del state["config"]["damage"]
    save_checkpoint(run, state)
    older = make_trainer(TrainConfig(task="detect"), photos, run, resume=True)
    assert older.cfg.damage == older.train_set.damage == older.val_set.damage == DamageConfig()
    assert older.step == 1


def test_balanced_bce_weighs_pixels_by_the_batch_weights():
    batch = {**_batch(), "weight": torch.ones(2, 1, 32, 32)}
    logits = torch.zeros_like(batch["target"])
    loss = GeneratorLoss(LossWeights(balanced_bce=1.0))
    hooks = DetectHooks(loss)
    plain = float(hooks.generator_loss(batch, Outputs(logits), None)[0])
    assert plain == pytest.approx(math.log(2.0), rel=1e-5)  # weight 1 everywhere: plain BCE
    # a wrong pixel weighed 5x costs more than the same pixel weighed 1x
    wrong = (1 - batch["target"] * 2) * 3
    heavy = {**batch, "weight": torch.ones_like(batch["target"]) + 4 * batch["target"]}
    light = hooks.generator_loss(batch, Outputs(wrong), None)[0]
    assert float(hooks.generator_loss(heavy, Outputs(wrong), None)[0]) > float(light)
    with pytest.raises(TrainingError, match="per-pixel weights"):
        loss(logits, batch["target"])
