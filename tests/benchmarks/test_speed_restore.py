"""benchmarks/speed_restore.py: its scan gives every step work, and its per-step times add up."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import speed_restore
from engine import api
from engine.weights import RESOURCES_ENV


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))


def test_the_scan_is_faded_and_scratched():
    scan = speed_restore.old_scan(300, 200)
    assert scan.shape == (200, 300, 3) and scan.dtype == np.uint8
    assert scan.reshape(-1, 3).min(axis=0).min() >= 10  # no channel reaches black: faded
    assert 0.001 < (scan == 235).all(axis=2).mean() < 0.2  # the scratches
    analysis = api.analyse_scan(scan, find_damage=False)
    assert analysis.faded >= 0.5  # Restore Colours has work


def test_every_step_is_timed_once_in_running_order():
    times = speed_restore.step_times(speed_restore.old_scan(120, 80), threads=1, precision="full")
    assert list(times) == ["detect", "inpaint", "denoise", "colours"]
    assert all(t >= 0 for t in times.values())
