"""The hint contact sheet: hint colours, hand-placed points, refusing a model without hints."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks import contact_hints as ch
from engine import api
from engine.archs import build_arch
from engine.weights import save_weights

needs_scans = pytest.mark.skipif(not ch.PHOTOS.is_dir(), reason="sample scans not present")


def _patch_mean(patch: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.round(patch.reshape(-1, 3).mean(axis=0)))


def test_a_hint_carries_the_reference_mean_over_its_5x5_patch(monkeypatch):
    reference = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    assert ch.hint_colour(reference, 20, 10) == _patch_mean(reference[8:13, 18:23])
    assert ch.hint_colour(reference, 0, 39) == _patch_mean(reference[37:40, 0:3])  # clipped
    monkeypatch.setitem(ch.HINTS, "t.png", [(20, 10), (49, 0)])
    hints = ch.hints_for("t.png", reference)
    assert [(h.x, h.y) for h in hints] == [(20, 10), (49, 0)]
    assert hints[0].rgb == _patch_mean(reference[8:13, 18:23])
    assert hints[1].rgb == _patch_mean(reference[0:3, 47:50])


@needs_scans
def test_every_scan_has_a_few_hints_each_with_its_whole_patch_inside():
    assert sorted(ch.HINTS) == sorted(p.name for p in ch.PHOTOS.glob("*.png"))
    half = ch.PATCH // 2
    for name, points in ch.HINTS.items():
        height, width = api.read_image(ch.PHOTOS / name).pixels.shape[:2]
        assert 3 <= len(points) <= 6, name
        assert len(set(points)) == len(points), name
        for x, y in points:
            assert half <= x < width - half and half <= y < height - half, (name, x, y)


def test_a_model_that_takes_no_hints_is_refused_in_one_line(tiny_weights, tmp_path, capsys):
    out = tmp_path / "sheet.jpg"
    assert ch.main(["--weights", str(tiny_weights["colorize"]), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "hints" in lines[0], captured.err
    assert captured.out == "" and not out.exists()


@needs_scans
def test_the_sheet_has_one_row_per_scan(tmp_path, capsys):
    torch.manual_seed(0)
    net = build_arch("colorize_hint", base_channels=4, max_channels=8).eval()
    weights = tmp_path / "hint.pt"
    save_weights(weights, net, task="colorize", meta={"resolution": 64})
    out = tmp_path / "sheet.jpg"
    assert ch.main(["--weights", str(weights), "--out", str(out)]) == 0
    sheet = api.read_image(out).pixels
    assert sheet.shape[0] == len(ch.HINTS) * (ch.ROW + ch.GAP)
    printed = capsys.readouterr().out
    assert all(name in printed for name in ch.HINTS) and "mean" in printed
