"""Training runs as real processes: killed mid-step and resumed, and two ranks under torchrun."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from training_support import tiny_inpaint_toml

from training.report import read_log

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(photos, tmp_path):
    config = tiny_inpaint_toml(tmp_path / "tiny.toml", steps=100000, checkpoint_every=1)
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "training",
        "inpaint",
        "--data",
        str(photos),
        "--out",
        str(run),
        "--config",
        str(config),
        "--device",
        "cpu",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while len(read_log(run, "train")) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)  # mid-step, possibly mid-checkpoint
        process.wait()
    kept = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert kept >= 4
    result = subprocess.run(
        command[:-1] + ["--resume", "--steps", str(kept + 2), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [r["step"] for r in read_log(run, "train")]
    assert steps == list(range(1, kept + 3))  # records after the checkpoint were replayed once


def test_two_process_gloo_run_under_torchrun(photos, tmp_path):
    config = tiny_inpaint_toml(tmp_path / "tiny.toml", steps=3, checkpoint_every=3)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            "-m",
            "training",
            "inpaint",
            "--data",
            str(photos),
            "--out",
            str(tmp_path / "run"),
            "--config",
            str(config),
            "--device",
            "cpu",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    steps = [r["step"] for r in read_log(tmp_path / "run", "train")]
    assert steps == [1, 2, 3]  # rank 0 alone writes the log
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / "run" / "checkpoints" / "best.pt").is_file()  # rank 0 validated
