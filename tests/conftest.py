"""Fixtures shared across the test packages: tiny trained-shape weight files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.archs import build_arch
from engine.models import clear_cache
from engine.weights import ModelEntry, save_weights, sha256_of, write_manifest

# CPU-tiny variants: same code paths as the shipped networks, milliseconds per call.
TINY = {
    "denoise": ("denoise_unet", {"base_channels": 4, "max_channels": 8}, 256),
    "inpaint": ("inpaint_gated", {"base_channels": 4}, 128),
    "colorize": ("colorize_unet", {"base_channels": 4, "max_channels": 8}, 256),
}


# The damage detector is kept out of `tiny_resources`: with a detector installed,
# `api.detect_damage` runs it instead of the classical detector other tests rely on.
TINY_DETECT = ("detect_unet", {"base_channels": 4, "fine_channels": 4})


def make_weights(path: Path, task: str, seed: int = 0) -> Path:
    arch, kwargs, resolution = TINY[task]
    torch.manual_seed(seed)
    net = build_arch(arch, **kwargs).eval()
    save_weights(path, net, task=task, meta={"resolution": resolution})
    return path


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> dict[str, Path]:
    """One tiny weight file per task."""
    folder = tmp_path_factory.mktemp("weights")
    return {task: make_weights(folder / f"{task}.pt", task) for task in TINY}


def make_detect_weights(path: Path, seed: int = 0, meta: dict | None = None) -> Path:
    arch, kwargs = TINY_DETECT
    torch.manual_seed(seed)
    save_weights(path, build_arch(arch, **kwargs).eval(), task="detect", meta=meta)
    return path


def make_resources(root: Path, weights: dict[str, Path]) -> Path:
    """A resources/ folder at `root` whose manifest vouches for `weights` (task -> file)."""
    weights_dir = root / "weights"
    weights_dir.mkdir(parents=True)
    entries = []
    for task, path in weights.items():
        target = weights_dir / path.name
        target.write_bytes(path.read_bytes())
        entries.append(
            ModelEntry(task, task, "blind", target.name, sha256_of(target), target.stat().st_size)
        )
    write_manifest(weights_dir, entries)
    return root


@pytest.fixture(scope="session")
def tiny_resources(tmp_path_factory, tiny_weights) -> Path:
    """A resources/ folder with a manifest vouching for the tiny weights."""
    return make_resources(tmp_path_factory.mktemp("resources"), tiny_weights)


@pytest.fixture(scope="session")
def tiny_detect_weights(tmp_path_factory) -> Path:
    """A tiny random-weight damage detector (probabilities near 0.5 everywhere)."""
    return make_detect_weights(tmp_path_factory.mktemp("detect") / "detect.pt")


@pytest.fixture(scope="session")
def tiny_detect_resources(tmp_path_factory, tiny_weights, tiny_detect_weights) -> Path:
    """`tiny_resources` plus the tiny damage detector."""
    root = tmp_path_factory.mktemp("resources_detect")
    return make_resources(root, {**tiny_weights, "detect": tiny_detect_weights})


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    clear_cache()
    yield
    clear_cache()
