"""What a training run tells its user: a progress bar with ETA, a JSON-lines log of losses
and metrics (plus TensorBoard when installed), and PNG sample grids."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from training.checkpoint import run_dir_of


class ProgressBar:
    """One line on stderr: step, losses, rate and ETA. Off a terminal, a line per update."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True) -> None:
        self.total = total
        self.start_step = start
        self.started = time.monotonic()
        self.enabled = enabled
        self.tty = sys.stderr.isatty()

    def update(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        done = step - self.start_step
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else 0.0
        shown = " ".join(f"{k}={v:.4g}" for k, v in values.items())
        line = (
            f"step {step}/{self.total} [{step / self.total:4.0%}] {shown} "
            f"{rate:.2f} it/s ETA {_duration(eta)}"
        )
        sys.stderr.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.tty:
            sys.stderr.write("\n")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class RunLog:
    """Appends one JSON object per record to RUN_DIR/log.jsonl; mirrors scalars to TensorBoard."""

    def __init__(self, run_dir: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = run_dir / "log.jsonl"
        self.tensorboard = None
        if enabled:
            try:  # optional: only when the tensorboard package is installed
                from torch.utils.tensorboard import SummaryWriter

                self.tensorboard = SummaryWriter(str(run_dir / "tensorboard"))
            except Exception:  # any import failure just means no TensorBoard
                self.tensorboard = None

    def write(self, kind: str, step: int, values: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"kind": kind, "step": step, "time": round(time.time(), 3), **values}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if self.tensorboard is not None:
            for key, value in values.items():
                if isinstance(value, int | float):
                    self.tensorboard.add_scalar(f"{kind}/{key}", value, step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()


def read_log(run_dir: Path, kind: str | None = None) -> list[dict[str, Any]]:
    """The log's records; a line cut short by a killed process is ignored. `run_dir` may
    also be one of the run's checkpoint files (exporting ``best.pt`` reads its run's log)."""
    path = run_dir_of(run_dir) / "log.jsonl"
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return [r for r in records if kind is None or r["kind"] == kind]


def truncate_log(run_dir: Path, step: int) -> None:
    """Forget records after `step` (written after the checkpoint a resumed run starts from)."""
    path = run_dir / "log.jsonl"
    if path.is_file():
        kept = [r for r in read_log(run_dir) if r["step"] <= step]
        path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")


def save_grid(path: Path, rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """A PNG with one (input | output | target) row per sample; arrays HWC float in [0, 1]."""
    lines = [np.concatenate(list(row), axis=1) for row in rows]
    grid = np.concatenate(lines, axis=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)
