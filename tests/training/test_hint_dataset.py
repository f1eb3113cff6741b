"""The hint colorizer's dataset, hooks and recipe (issue 22), at tiny sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from training_support import make_trainer, tiny_config

from engine.archs import build_arch
from engine.archs.colorize_hint import ColorizeHint
from engine.weights import load_weights
from training.config import ModelConfig, load_config
from training.data import (
    DATASET_TASKS,
    DATASETS,
    CropDataset,
    build_dataset,
    lab_to_rgb_tensor,
    scan_images,
)
from training.data.augment import AugmentConfig
from training.data.hint_dataset import HintColorizeDataset
from training.hint_hooks import HintColorizeHooks
from training.losses import AdversarialLoss, GeneratorLoss, LossWeights
from training.tasks import HOOKS, Outputs

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "training/configs/colorize_hint_cpu.toml"
SHIPPED = ROOT / "resources/weights/colorize.pt"
TINY_NET = {"base_channels": 4, "max_channels": 8}
AUGMENT = AugmentConfig(crop_size=64, scale_range=(0.5, 1.0))


def _datasets(photos: Path, train: bool = True) -> tuple[HintColorizeDataset, CropDataset]:
    paths = scan_images([photos], min_side=32).paths
    ours = build_dataset("colorize_hint", paths, AUGMENT, 7, train, samples_per_epoch=40)
    plain = build_dataset("colorize", paths, AUGMENT, 7, train, samples_per_epoch=40)
    assert isinstance(ours, HintColorizeDataset)
    return ours, plain


def test_the_dataset_and_its_hooks_are_registered_for_colorize() -> None:
    assert DATASETS["colorize_hint"] is HintColorizeDataset
    assert DATASET_TASKS["colorize_hint"] == "colorize"
    assert HOOKS["colorize_hint"] is HintColorizeHooks


def test_samples_are_the_colorize_samples_plus_hint_channels(photos: Path) -> None:
    ours, plain = _datasets(photos)
    counts = []
    for index in range(len(ours)):
        sample, reference = ours[index], plain[index]
        x = sample["input"]
        assert x.shape == (4, 64, 64) and sample["target"].shape == (2, 64, 64)
        # The same crop as the plain colorizer's: hints are drawn after it.
        assert torch.equal(x[:1], reference["input"])
        assert torch.equal(sample["target"], reference["target"])
        mask = x[3]
        assert set(mask.unique().tolist()) <= {0.0, 1.0}
        assert not x[1:3][:, mask == 0].any() and x[1:3].abs().max() <= 1.0
        counts.append(int(mask.sum()))
    counts_arr = np.array(counts)
    assert (counts_arr == 0).any() and (counts_arr > 0).mean() > 0.6  # P(no hint) = 1/8


def test_hint_colours_are_the_truth_they_were_drawn_from(tmp_path: Path) -> None:
    """On flat-coloured photos every patch mean is the photo's colour: hints equal the
    target wherever the mask is set (the means are checked exactly in test_hint_sampling)."""
    for i, rgb in enumerate([(200, 120, 40), (30, 90, 210)]):
        Image.fromarray(np.full((80, 90, 3), rgb, np.uint8)).save(tmp_path / f"flat{i}.png")
    paths = scan_images([tmp_path], min_side=32).paths
    ours = build_dataset("colorize_hint", paths, AUGMENT, 0, True, samples_per_epoch=16)
    hinted = 0
    for index in range(len(ours)):
        sample = ours[index]
        mask = sample["input"][3] > 0
        hints, truth = sample["input"][1:3][:, mask], sample["target"][:, mask]
        torch.testing.assert_close(hints, truth, atol=1e-5, rtol=0)
        hinted += int(mask.any())
    assert hinted >= 8


def test_samples_are_reproducible_per_epoch_and_change_with_it(photos: Path) -> None:
    ours, _plain = _datasets(photos)
    first = ours[3]["input"]
    assert torch.equal(ours[3]["input"], first)
    ours.set_epoch(1)
    assert not torch.equal(ours[3]["input"], first)


def test_validation_samples_are_the_automatic_case(photos: Path) -> None:
    ours, plain = _datasets(photos, train=False)
    for index in range(5):
        x = ours[index]["input"]
        assert not x[1:].any()
        assert torch.equal(x[:1], plain[index]["input"])


def _hooks() -> HintColorizeHooks:
    adversarial = AdversarialLoss()
    return HintColorizeHooks(GeneratorLoss(LossWeights(mse=1.0), adversarial, None))


def test_the_critic_sees_l_and_ab_and_the_input_picture_shows_the_hints(photos: Path) -> None:
    ours, _plain = _datasets(photos)
    index = next(i for i in range(len(ours)) if ours[i]["input"][3].any())
    batch = {k: v[None] for k, v in ours[index].items()}
    hooks = _hooks()
    real = hooks.critic_input(batch, None)
    fake = hooks.critic_input(batch, torch.zeros_like(batch["target"]))
    assert real.shape == fake.shape == (1, 3, 64, 64)
    assert torch.equal(real[:, :1], batch["input"][:, :1])
    shown, output, target = hooks.visuals(batch, Outputs(batch["target"]))
    assert shown.shape == output.shape == target.shape == (1, 3, 64, 64)
    mask = batch["input"][0, 3] > 0
    grey = lab_to_rgb_tensor(batch["input"][:, :1], torch.zeros_like(batch["target"]))[0]
    torch.testing.assert_close(shown[0][:, ~mask], grey[:, ~mask])  # grey off the hints
    assert (shown[0][:, mask] - grey[:, mask]).abs().mean() > 0.01  # colour on them


def test_the_recipe_grows_the_shipped_colorizer_on_the_hint_dataset() -> None:
    cfg = load_config("colorize", RECIPE)
    assert cfg.dataset == "colorize_hint" and cfg.model.generator == "colorize_hint"
    assert cfg.augment.zoom_past_short_side and cfg.augment.crop_size == 256
    assert cfg.losses.mse == 1.0 and cfg.losses.adversarial == 0.0 and cfg.losses.l1 == 0.0
    shipped = load_weights(SHIPPED)
    # The shipped file is the plain colorizer the recipe grew from, or (since issue 22
    # shipped it) the hint colorizer itself, which a run continues from.
    assert shipped.arch in (*ColorizeHint.grows_from, "colorize_hint")
    widths = {k: shipped.arch_kwargs[k] for k in ("base_channels", "max_channels")}
    assert {k: cfg.model.generator_kwargs[k] for k in widths} == widths
    assert "--init-from resources/weights/colorize.pt" in RECIPE.read_text(encoding="utf-8")


def test_init_from_the_shipped_file_starts_at_the_shipped_result(photos, tmp_path) -> None:
    cfg = load_config("colorize", RECIPE)
    critic = {"base_channels": 4, "max_channels": 8}
    model = ModelConfig("colorize_hint", cfg.model.generator_kwargs, "colorize_patchgan", critic)
    run = tiny_config("colorize", steps=1, dataset="colorize_hint", model=model)
    trainer = make_trainer(run, photos, tmp_path / "run", init_from=SHIPPED)
    shipped = load_weights(SHIPPED)
    plain = build_arch(shipped.arch, **shipped.arch_kwargs).eval()
    plain.load_state_dict({k: v.float() for k, v in shipped.state_dict.items()})
    lightness = torch.rand(1, 1, 256, 256) * 2 - 1
    empty = torch.cat([lightness, torch.zeros(1, 3, 256, 256)], dim=1)
    with torch.inference_mode():
        expected = plain(lightness)
        assert torch.equal(trainer.ema.eval()(lightness), expected)
        torch.testing.assert_close(trainer.ema(empty), expected, atol=1e-6, rtol=0)


def test_a_smoke_run_with_a_critic_trains_and_validates(photos, tmp_path) -> None:
    model = ModelConfig("colorize_hint", TINY_NET, "colorize_patchgan", TINY_NET)
    losses = LossWeights(mse=1.0, adversarial=0.1)
    cfg = tiny_config("colorize", steps=2, val_every=2, dataset="colorize_hint", model=model,
                      losses=losses)  # fmt: skip
    trainer = make_trainer(cfg, photos, tmp_path / "run")
    assert isinstance(trainer.train_set, HintColorizeDataset)
    assert isinstance(trainer.hooks, HintColorizeHooks)
    result = trainer.fit()
    assert result.steps == 2 and np.isfinite(result.last_metrics["psnr"])
