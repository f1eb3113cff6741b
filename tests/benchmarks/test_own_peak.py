"""benchmarks.own_peak: a child's own peak memory, not the peak of the process it forked from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.own_peak import own_peak_mb

ROOT = Path(__file__).resolve().parents[2]


def _run(peak: Path, *module_and_args: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "benchmarks.own_peak", str(peak), *module_and_args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_a_small_child_of_a_big_process_reports_its_own_small_peak(tmp_path):
    ballast = b"\x01" * (400 * 2**20)  # this process: over 400 MB resident when it forks
    assert own_peak_mb() > 400
    peak = tmp_path / "peak.txt"
    done = _run(peak, "timeit", "-n", "1", "-r", "1", "x = b'\\x01' * (60 * 2**20)")
    assert done.returncode == 0, done.stderr
    reported = float(peak.read_text(encoding="ascii"))
    assert 60 < reported < 300  # the 60 MB it made, plus the interpreter; not the ballast
    del ballast


def test_the_module_exit_status_is_passed_on_and_the_peak_still_written(tmp_path):
    peak = tmp_path / "peak.txt"
    done = _run(peak, "json.tool", str(tmp_path / "missing.json"))
    assert done.returncode != 0 and float(peak.read_text(encoding="ascii")) > 0
    assert _run(tmp_path / "p.txt").returncode == 2  # no module named: usage, exit 2
