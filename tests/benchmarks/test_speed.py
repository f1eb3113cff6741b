"""benchmarks.speed --megapixels: the command line's peak memory, measured in a child."""

from __future__ import annotations

from benchmarks import speed
from engine.weights import RESOURCES_ENV


def test_photo_sizes_are_three_by_two():
    assert speed.photo_size(24) == (6000, 4000)
    width, height = speed.photo_size(100)
    assert abs(width * height - 100e6) < 1e4 and abs(width / height - 1.5) < 1e-3


def test_the_cli_run_reports_its_own_peak_memory(monkeypatch, tiny_resources, capsys):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    row = speed.cli_peak(0.02, threads=1, tile=None)
    assert row["size"] == "172×115" and 100 < row["peak_rss_mb"] < 3000 and row["seconds"] > 0
    speed.report_cli([0.02], threads=1, tile=64)
    table = capsys.readouterr().out
    assert "| 172×115 | 0.0 |" in table and "peak RSS (MB)" in table
