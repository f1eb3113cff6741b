"""Tiny training runs for the trainer's tests: CPU-sized networks and configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from training.config import ModelConfig, TrainConfig
from training.trainer import Trainer

TINY_MODELS = {
    "denoise": ModelConfig(
        "denoise_unet",
        {"base_channels": 4, "max_channels": 8},
        "denoise_patchgan",
        {"base_channels": 4, "max_channels": 8},
    ),
    "inpaint": ModelConfig(
        "inpaint_gated", {"base_channels": 4}, "inpaint_patchgan", {"base_channels": 4}
    ),
    "colorize": ModelConfig(
        "colorize_unet",
        {"base_channels": 4, "max_channels": 8},
        "colorize_patchgan",
        {"base_channels": 4, "max_channels": 8},
    ),
}
CROPS = {"denoise": 128, "inpaint": 32, "colorize": 256}


def tiny_config(task: str, steps: int = 4, **changes) -> TrainConfig:
    cfg = TrainConfig(
        task=task,
        steps=steps,
        batch_size=2,
        val_fraction=0.2,
        val_max_images=2,
        val_every=4,
        checkpoint_every=2,
        log_every=1,
        samples=2,
        min_image_side=32,
        model=TINY_MODELS[task],
    )
    cfg.augment.crop_size = CROPS[task]
    cfg.stability.d_skip_below = 0.0
    for key, value in changes.items():
        setattr(cfg, key, value)
    return cfg


def write_photos(folder: Path, count: int = 10) -> Path:
    """Small 'photos' with smooth colour structure (what the losses can learn from)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96] / 96.0
    for i in range(count):
        channels = [
            0.5 + 0.4 * np.sin(6 * xx * rng.uniform(0.5, 2) + rng.uniform(0, 6) + yy)
            for _ in range(3)
        ]
        image = (np.stack(channels, axis=2) * 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"photo_{i}.png")
    return folder


def make_trainer(cfg: TrainConfig, photos: Path, run_dir: Path, **kwargs) -> Trainer:
    return Trainer(
        cfg, [photos], run_dir, device="cpu", allow_random_vgg=True, show_progress=False, **kwargs
    )


def tiny_inpaint_toml(path: Path, steps: int, checkpoint_every: int) -> Path:
    """The tiny inpainting config as a file, for runs through the command line."""
    path.write_text(
        f"steps = {steps}\nbatch_size = 2\nval_fraction = 0.2\nval_max_images = 2\n"
        f"val_every = {steps}\ncheckpoint_every = {checkpoint_every}\nlog_every = 1\n"
        "min_image_side = 32\n"
        "[augment]\ncrop_size = 32\n[losses]\nperceptual = 0.0\nstyle = 0.0\n"
        '[model]\ngenerator = "inpaint_gated"\ndiscriminator = "inpaint_patchgan"\n'
        "[model.generator_kwargs]\nbase_channels = 4\n"
        "[model.discriminator_kwargs]\nbase_channels = 4\n"
    )
    return path


def random_photos(folder: Path, count: int) -> Path:
    """`folder` made and filled with `count` 80×96 random colour PNGs (p0.png, ...)."""
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(count):
        pixels = (rng.random((96, 80, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i}.png")
    return folder
