"""Issue 24: numeric run options are checked where they enter (CLI, API), with the range.

Unchecked, `--threads 20000` ended in "libgomp: Thread creation failed" and 100000 in
SIGSEGV; `--max-megapixels nan` in a traceback. The subprocess runs under a memory and time
limit, so a regression stops itself instead of taking the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_corpus import run_cli
from PIL import Image

from engine import api, cli, devices
from engine.options import (
    MAX_TILE,
    check_max_pixels,
    check_threads,
    check_tile,
    thread_limit,
)
from engine.weights import RESOURCES_ENV


def _png(path: Path) -> Path:
    Image.fromarray(np.full((40, 48, 3), 128, np.uint8)).save(path)
    return path


def test_the_thread_limit_is_this_machines_cpu_count_at_most_256():
    assert thread_limit() == min(256, os.cpu_count() or 1)
    assert check_threads(None) is None and check_threads(np.int64(1)) == 1
    for bad in (0, -3, thread_limit() + 1, 100_000, 1.5, True, "4"):
        with pytest.raises(api.InvalidRequest, match=f"threads must be .* 1 to {thread_limit()}"):
            check_threads(bad)


def test_tile_and_pixel_limit_ranges_are_named():
    assert check_tile(None) is None and check_tile(32) == 32 and check_tile(MAX_TILE) == MAX_TILE
    for bad in (31, MAX_TILE + 1, 10**9, 64.0):
        with pytest.raises(api.InvalidRequest, match=f"tile size must be .* 32 to {MAX_TILE}"):
            check_tile(bad)
    assert check_max_pixels(1) == 1
    for bad in (0, -1, 10**13, float("nan"), float("inf")):
        with pytest.raises(api.InvalidRequest, match="pixel limit must be"):
            check_max_pixels(bad)


def test_torch_never_sees_an_absurd_thread_count():
    before = torch.get_num_threads()
    with pytest.raises(ValueError, match=f"1..{thread_limit()}"):
        devices.set_cpu_threads(100_000)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "options,message",
    [
        ({"threads": 100_000}, "threads must be"),
        ({"threads": 0}, "threads must be"),
        ({"tile": 100_000}, "tile size must be"),
        ({"tile": 8}, "tile size must be"),
    ],
)
def test_the_api_refuses_before_loading_a_model(tmp_path, options, message):
    # An empty resources folder: reaching the model loader would say "no denoise model".
    run = api.RunOptions(device="cpu", resources=tmp_path, **options)
    with pytest.raises(api.InvalidRequest, match=message):
        api.denoise(np.zeros((8, 8, 3), np.uint8), options=run)


def test_read_image_checks_its_pixel_limit(tmp_path):
    src = _png(tmp_path / "a.png")
    for bad in (0, float("nan"), 10**15):
        with pytest.raises(api.InvalidRequest, match="pixel limit"):
            api.read_image(src, max_pixels=bad)


@pytest.mark.parametrize(
    "flag,value,allowed",
    [
        ("--threads", "100000", f"at most {thread_limit()}"),
        ("--threads", "20000", f"at most {thread_limit()}"),
        ("--threads", "0", "greater than 0"),
        ("--tile", "1000000", f"32 to {MAX_TILE}"),
        ("--tile", "8", f"32 to {MAX_TILE}"),
        ("--max-megapixels", "nan", "at most 10000"),
        ("--max-megapixels", "inf", "at most 10000"),
        ("--max-megapixels", "1e30", "at most 10000"),
        ("--threads", "many", "expected a number"),
    ],
)
def test_the_cli_gives_one_line_and_exit_2(tmp_path, capsys, flag, value, allowed):
    src = _png(tmp_path / "scan.png")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["denoise", str(src), "-o", str(tmp_path / "o.png"), flag, value])
    assert exit_info.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: argument {flag}: ") and err.count("\n") == 1
    assert allowed in err and value in err
    assert not (tmp_path / "o.png").exists()


def test_a_tiny_pixel_limit_means_one_pixel_not_a_traceback(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "o.png"
    code = cli.main(["denoise", str(src), "-o", str(out), "--max-megapixels", "1e-9", "--quiet"])
    assert code == cli.EXIT_SOME_FAILED
    assert "more than the limit of 1 pixels" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("threads", ["100000", "20000"])
def test_absurd_threads_end_cleanly_in_a_real_process(tmp_path, tiny_resources, threads):
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "o.png"
    argv = ["denoise", str(src), "-o", str(out), "--threads", threads]
    result = run_cli(argv, {RESOURCES_ENV: str(tiny_resources)})
    assert result.returncode == cli.EXIT_USAGE, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "libgomp" not in result.stderr and not out.exists()


def test_a_valid_thread_count_still_runs(tmp_path, tiny_resources):
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "o.png"
    argv = ["denoise", str(src), "-o", str(out), "--threads", "1", "--tile", "64", "--quiet"]
    result = run_cli(argv, {RESOURCES_ENV: str(tiny_resources)})
    assert result.returncode == cli.EXIT_OK, result.stderr
    assert out.is_file()
