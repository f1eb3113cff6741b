"""Atomic checkpoints: a run killed at any moment resumes from a whole file.

The file is written beside its final name, flushed to disk, then renamed over it, so a
crash leaves either the previous checkpoint or the new one — never half of one. Loading
uses `weights_only=True`: checkpoints hold only tensors and plain values.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from training.errors import TrainingError

CHECKPOINT_NAME = "last.pt"


def checkpoint_path(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / CHECKPOINT_NAME


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    target = checkpoint_path(run_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".last-", suffix=".tmp")
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


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = checkpoint_path(run_dir)
    if not path.is_file():
        raise TrainingError(f"no checkpoint to resume from in {run_dir} (expected {path})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file raises many types; all mean the same here
        raise TrainingError(f"checkpoint {path} cannot be read: {exc}") from exc
