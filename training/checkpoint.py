"""Atomic checkpoints: a run killed at any moment resumes from a whole file.

The file is written beside its final name, flushed to disk, then renamed over it, so a
crash leaves either the previous checkpoint or the new one — never half of one. Loading
uses `weights_only=True`: checkpoints hold only tensors and plain values.

A run folder holds two: ``last.pt``, where `--resume` continues, and ``best.pt``, the state
at the validation that scored best so far (same format, so it exports the same way).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from training.errors import TrainingError

CHECKPOINT_NAME = "last.pt"
BEST_NAME = "best.pt"
CHECKPOINT_FOLDER = "checkpoints"


def checkpoint_path(run_dir: Path, name: str = CHECKPOINT_NAME) -> Path:
    return Path(run_dir) / CHECKPOINT_FOLDER / name


def best_checkpoint_path(run_dir: Path) -> Path:
    return checkpoint_path(run_dir, BEST_NAME)


def run_dir_of(source: Path) -> Path:
    """The run folder of `source`: a run folder itself, or one of its checkpoint files."""
    source = Path(source)
    if source.is_file() and source.parent.name == CHECKPOINT_FOLDER:
        return source.parent.parent
    return source


def save_checkpoint(run_dir: Path, state: dict[str, Any], name: str = CHECKPOINT_NAME) -> Path:
    target = checkpoint_path(run_dir, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_checkpoint(source: Path) -> dict[str, Any]:
    """The state in a run folder's last checkpoint, or in the checkpoint file `source`
    (e.g. ``RUN/checkpoints/best.pt``)."""
    source = Path(source)
    path = source if source.is_file() else checkpoint_path(source)
    if not path.is_file():
        raise TrainingError(f"no checkpoint to resume from in {source} (expected {path})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file raises many types; all mean the same here
        raise TrainingError(f"checkpoint {path} cannot be read: {exc}") from exc
