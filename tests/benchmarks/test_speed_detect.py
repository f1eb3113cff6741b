"""benchmarks.speed_detect: one row per model and precision, naming the passes it makes."""

from __future__ import annotations

import sys

import pytest
import torch

from benchmarks import speed_detect
from engine.archs import build_arch
from engine.weights import save_weights


def _weights(path, meta: dict):
    torch.manual_seed(0)
    save_weights(path, build_arch("detect_unet", base_channels=4), task="detect", meta=meta)
    return path


def test_rows_say_which_files_make_the_coarse_pass(tmp_path, monkeypatch, capsys):
    one = _weights(tmp_path / "one.pt", {"threshold": 0.9})
    two = _weights(tmp_path / "two.pt", {"threshold": 0.9, "coarse_threshold": 0.99})
    assert not speed_detect._coarse(one) and speed_detect._coarse(two)
    monkeypatch.setattr(speed_detect, "SIZES", ((160, 128), (192, 160)))
    argv = ["speed_detect", "--repeat", "1", "--threads", "1", "--precision", "auto", "full"]
    argv += ["--model", f"one={one}", "--model", f"two={two}"]
    monkeypatch.setattr(sys, "argv", argv)
    speed_detect.main()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    labels = [row.split(" | ")[:3] for row in rows[2:]]  # after the header and its rule
    assert labels[-4:] == [
        ["| one", "full", "auto"],
        ["| one", "full", "full"],
        ["| two", "full + half side", "auto"],
        ["| two", "full + half side", "full"],
    ]
    assert all(float(cell) >= 0 for row in rows[2:] for cell in row.strip(" |").split(" | ")[3:])


def test_a_model_without_a_file_is_refused():
    with pytest.raises(SystemExit, match="LABEL=FILE"):
        speed_detect._models(["shipped"])
