"""The real-photo denoiser's dataset, its training hooks and its recipe (issue 20)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from training_support import make_trainer, tiny_config

from engine.archs import build_arch
from training.config import ModelConfig, config_from_dict
from training.data import AugmentConfig, NoiseConfig, TrainingDataError, scan_images
from training.data import datasets as datasets_module
from training.data.real_dataset import RealDenoiseDataset, damage_level
from training.data.real_degrade import RealNoiseConfig, degrade_real
from training.errors import TrainingError
from training.losses import GeneratorLoss, LossWeights
from training.real_denoise_hooks import (
    LevelOutputs,
    RealDenoiseHooks,
    asymmetric_level_loss,
)
from training.report import read_log
from training.tasks import HOOKS

RECIPE = Path(__file__).parents[2] / "training" / "configs" / "denoise_real_cpu.toml"
NOT_YET_LOADABLE = ("dataset", "real_noise")  # keys waiting for the loader (see the recipe)
TINY_NET = {"base_channels": 4, "blocks": 1, "outer_blocks": 1, "estimator_channels": 4}


def _dataset(photos: Path, **kwargs) -> RealDenoiseDataset:
    paths = scan_images([photos], min_side=32).paths
    return RealDenoiseDataset(paths, AugmentConfig(crop_size=32), **kwargs)


def test_samples_have_input_target_level_on_the_8_bit_grid(photos: Path) -> None:
    data = _dataset(photos, samples_per_epoch=12)
    for index in range(len(data)):
        sample = data[index]
        assert set(sample) == {"input", "target", "level", "noise_sigma"}
        assert sample["input"].shape == sample["target"].shape == (3, 32, 32)
        assert sample["level"].shape == (1, 32, 32) and sample["noise_sigma"].shape == (1,)
        assert all(t.dtype == torch.float32 for t in sample.values())
        levels = (sample["input"].numpy() + 1.0) * 127.5
        np.testing.assert_allclose(levels, np.round(levels), atol=2e-3)  # a saved file
        unit = [(sample[k].numpy().transpose(1, 2, 0) + 1) / 2 for k in ("input", "target")]
        np.testing.assert_allclose(sample["level"][0].numpy(), damage_level(*unit), atol=1e-3)


def test_the_level_is_the_whole_damage_that_degrade_real_reports(photos: Path) -> None:
    data = _dataset(photos, clean_prob=0.0, samples_per_epoch=8)
    for index in range(len(data)):
        rng = data.rng(index)
        clean = data.crop(index % len(data.paths), rng)
        rng.random()  # the dataset's clean-sample draw
        _, info = degrade_real(clean, rng, data.real)
        sample = data[index]
        rms = float(sample["level"].square().mean().sqrt())
        assert rms == pytest.approx(info.rmse, rel=1e-3, abs=1e-3)
        assert float(sample["noise_sigma"][0]) == pytest.approx(info.noise_sigma)


def test_blurred_samples_target_the_blurred_picture_not_a_sharper_one(photos: Path) -> None:
    blur_only = RealNoiseConfig(
        legacy_prob=0.0,
        **{f"{step}_prob": 0.0 for step in ("camera", "colour", "grain", "blurred", "jpeg")},
        white_prob=0.0,
        speckle_prob=0.0,
        impulse_prob=0.0,
        blur_prob=1.0,
    )
    data = _dataset(photos, clean_prob=0.0, real_noise=blur_only, samples_per_epoch=4)
    for index in range(len(data)):
        sample = data[index]
        # Nothing to denoise: input = target but for 8-bit rounding, so the level is ~0.
        torch.testing.assert_close(sample["input"], sample["target"], atol=1.01 / 255, rtol=0)
        assert float(sample["level"].max()) <= 0.5 + 1e-3


def test_clean_samples_have_a_level_near_zero(photos: Path) -> None:
    sample = _dataset(photos, clean_prob=1.0)[0]
    assert float(sample["level"].max()) <= 0.5 + 1e-4  # 8-bit rounding only
    assert float(sample["noise_sigma"][0]) == 0.0
    torch.testing.assert_close(sample["input"], sample["target"], atol=1 / 255, rtol=0)


def test_samples_are_reproducible_per_epoch(photos: Path) -> None:
    data = _dataset(photos)
    first = data[3]
    assert all(torch.equal(first[k], data[3][k]) for k in first)
    data.set_epoch(1)
    assert not torch.equal(first["input"], data[3]["input"])


def test_settings_reach_the_degradation(photos: Path) -> None:
    noise = NoiseConfig(kind_weights={"speckle": 1.0})
    data = _dataset(photos, noise=noise, real_noise=RealNoiseConfig(legacy_prob=1.0))
    assert data.real.legacy is noise and data.real.legacy_prob == 1.0
    with pytest.raises(TrainingDataError, match="clean_prob"):
        _dataset(photos, clean_prob=1.5)


def test_asymmetric_level_loss_punishes_under_estimates_more() -> None:
    truth = torch.full((1, 1, 2, 2), 10.0)
    under = asymmetric_level_loss(truth - 5.0, truth)
    over = asymmetric_level_loss(truth + 5.0, truth)
    assert float(under) == pytest.approx(0.7 * 5 / 25) and float(over) == pytest.approx(0.3 / 5)


def _hooks(**kwargs) -> RealDenoiseHooks:
    weights = LossWeights.for_task("denoise")
    weights.adversarial, weights.perceptual, weights.l1 = 0.0, 0.0, 1.0
    return RealDenoiseHooks(GeneratorLoss(weights), **kwargs)


def _batch(photos: Path, size: int = 4) -> dict[str, torch.Tensor]:
    data = _dataset(photos, samples_per_epoch=size)
    samples = [data[i] for i in range(size)]
    return {k: torch.stack([s[k] for s in samples]) for k in samples[0]}


def test_the_unet_sees_the_true_level_but_for_the_estimate_share(photos: Path) -> None:
    hooks = _hooks(estimate_share=0.25)
    truth, estimate = torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 2, 2)
    mixed = hooks.conditioning(truth, estimate)
    assert mixed[:3].eq(0).all() and mixed[3].eq(1).all()


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_one_step_trains_both_parts(photos: Path, share: float) -> None:
    net = build_arch("denoise_cond", **TINY_NET).train()
    hooks, batch = _hooks(estimate_share=share), _batch(photos)
    out = hooks.generate(net, batch)
    assert isinstance(out, LevelOutputs) and out.level.shape == out.true_level.shape
    total, parts = hooks.generator_loss(batch, out, None)
    assert {"l1", "level", "level_error"} <= set(parts)
    total.backward()
    assert [n for n, p in net.named_parameters() if p.grad is None] == []


def test_a_hand_written_loop_learns_the_level(photos: Path) -> None:
    torch.manual_seed(0)
    net = build_arch("denoise_cond", **{**TINY_NET, "estimator_channels": 8}).train()
    hooks, batch = _hooks(), _batch(photos, size=8)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    errors = []
    for _ in range(40):
        total, parts = hooks.generator_loss(batch, hooks.generate(net, batch), None)
        opt.zero_grad()
        total.backward()
        opt.step()
        errors.append(parts["level_error"])
    assert np.mean(errors[-5:]) < 0.5 * np.mean(errors[:5]), errors


def _recipe() -> dict:
    return tomllib.loads(RECIPE.read_text(encoding="utf-8"))


def test_the_recipe_is_valid_but_for_the_keys_the_loader_lacks() -> None:
    values = _recipe()
    assert values["dataset"] == "denoise_real"
    RealNoiseConfig(**values["real_noise"])  # a valid real-noise recipe
    loadable = {k: v for k, v in values.items() if k not in NOT_YET_LOADABLE}
    cfg = config_from_dict("denoise", loadable)
    assert cfg.model.generator == "denoise_cond" and cfg.augment.scale_range[1] < 1.0
    build_arch(cfg.model.generator, **cfg.model.generator_kwargs)
    try:  # refused by name today; accepted once the loader knows the new keys
        config_from_dict("denoise", values)
    except TrainingError as exc:
        assert "dataset" in str(exc)


def test_a_smoke_run_of_the_trainer(photos: Path, tmp_path: Path, monkeypatch) -> None:
    """The recipe's settings at tiny sizes, with the dataset and hooks patched in where the
    loader's `dataset = "denoise_real"` will put them."""
    monkeypatch.setitem(datasets_module.DATASETS, "denoise", RealDenoiseDataset)
    monkeypatch.setitem(HOOKS, "denoise", RealDenoiseHooks)
    loadable = {k: v for k, v in _recipe().items() if k not in NOT_YET_LOADABLE}
    recipe = config_from_dict("denoise", loadable)
    cfg = tiny_config("denoise", steps=3, val_every=3, losses=recipe.losses, noise=recipe.noise)
    cfg.model = ModelConfig("denoise_cond", TINY_NET, "denoise_patchgan", {"base_channels": 4})
    cfg.augment = AugmentConfig(crop_size=32, scale_range=recipe.augment.scale_range)
    cfg.optim = recipe.optim
    trainer = make_trainer(cfg, photos, tmp_path / "run")
    assert isinstance(trainer.train_set, RealDenoiseDataset)
    result = trainer.fit()
    assert result.steps == 3 and np.isfinite(result.last_metrics["psnr"])
    records = read_log(tmp_path / "run", "train")
    assert all(np.isfinite(r["g_level"]) and np.isfinite(r["g_level_error"]) for r in records)
