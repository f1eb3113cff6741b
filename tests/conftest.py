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


@pytest.fixture(scope="session")
def tiny_resources(tmp_path_factory, tiny_weights) -> Path:
    """A resources/ folder with a manifest vouching for the tiny weights."""
    root = tmp_path_factory.mktemp("resources")
    weights_dir = root / "weights"
    weights_dir.mkdir()
    entries = []
    for task, path in tiny_weights.items():
        target = weights_dir / path.name
        target.write_bytes(path.read_bytes())
        entries.append(
            ModelEntry(task, task, "blind", target.name, sha256_of(target), target.stat().st_size)
        )
    write_manifest(weights_dir, entries)
    return root


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    clear_cache()
    yield
    clear_cache()
