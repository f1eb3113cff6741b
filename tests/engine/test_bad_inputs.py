"""Issue 24: a generated corpus of bad and awkward inputs (tests/engine/bad_corpus.py),
through the command line — a real process under a 3 GB address-space and a time limit —
and through `engine.api.read_image`.

A bad file (empty, cut short, text named .png, the 843 KB PNG of 17000×17000 zeros) is
refused: exit status 1, exactly one line on stderr, no traceback, nothing written. An
awkward one (CMYK, 16 bits, palette, alpha, EXIF-rotated, one pixel, a 30000×20 strip, a
multi-page TIFF) is restored: upright, its depth and alpha kept.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from bad_corpus import BAD_NAMES, GOOD_NAMES, Case, bad_files, good_files, run_cli

from engine import api, cli
from engine.weights import RESOURCES_ENV

BAD, GOOD = BAD_NAMES, GOOD_NAMES


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Case]:
    return bad_files(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, Case]:
    return good_files(tmp_path_factory.mktemp("good"))


def test_the_corpus_is_what_the_tests_name(bad, good):
    assert sorted(bad) == sorted(BAD) and sorted(good) == sorted(GOOD)
    assert 800_000 < bad["bomb.png"].path.stat().st_size < 900_000  # the 843 KB


@pytest.mark.parametrize("name", BAD)
def test_the_cli_refuses_a_bad_file_in_one_line_and_writes_nothing(
    bad, tmp_path, tiny_resources, name
):
    case = bad[name]
    out = tmp_path / "out.png"
    started = time.monotonic()
    result = run_cli(
        ["denoise", str(case.path), "-o", str(out), "--threads", "1", "--quiet"],
        {RESOURCES_ENV: str(tiny_resources)},
    )
    assert result.returncode == cli.EXIT_SOME_FAILED, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"skipped {case.path}: ")
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file
    if name == "bomb.png":  # refused from its header: seconds, not minutes at 2.9 GB
        assert time.monotonic() - started < 30
        assert "17000x17000" in result.stderr and "--max-megapixels" in result.stderr


def _written(out: Path, name: str) -> Path:
    return out / name  # each keeps its own suffix: .png, .jpg, .tif are all written


def test_the_cli_restores_every_awkward_file_upright_with_depth_and_alpha(
    good, tmp_path, tiny_resources
):
    folder = next(iter(good.values())).path.parent
    out = tmp_path / "out"
    result = run_cli(
        ["denoise", str(folder), "-o", str(out), "--threads", "1", "--quiet"],
        {RESOURCES_ENV: str(tiny_resources)},
    )
    assert result.returncode == cli.EXIT_OK, result.stderr
    assert result.stderr == "" and f"{len(GOOD)} restored, 0 skipped" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(GOOD)  # no temporary files
    for name, case in good.items():
        restored = api.read_image(_written(out, name))
        assert restored.pixels.shape == case.pixels.shape, name  # upright: EXIF said 1
        assert restored.meta.bit_depth == case.depth, name
        if case.alpha is not None:
            np.testing.assert_array_equal(restored.alpha, case.alpha)
        else:
            assert restored.alpha is None, name


@pytest.mark.parametrize("name", BAD)
def test_the_api_refuses_a_bad_file_with_one_engine_error(bad, name):
    case = bad[name]
    started = time.monotonic()
    with pytest.raises(case.refused) as info:
        api.read_image(case.path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{case.path}: ")
    assert time.monotonic() - started < 5  # the bomb too: nothing is decoded


@pytest.mark.parametrize("name", GOOD)
def test_the_api_reads_an_awkward_file_exactly(good, name):
    case = good[name]
    loaded = api.read_image(case.path)
    np.testing.assert_array_equal(loaded.pixels, case.pixels)
    assert loaded.meta.bit_depth == case.depth
    if case.alpha is None:
        assert loaded.alpha is None
    else:
        np.testing.assert_array_equal(loaded.alpha, case.alpha)


def test_a_genuine_large_flat_image_is_read_when_the_limit_allows(tmp_path):
    """The bomb rule is about data no photo has; the caller's limit still decides."""
    from bad_corpus import zero_png

    path = tmp_path / "flat.png"
    path.write_bytes(zero_png(3000, 2000))  # 6 MP from ~18 KB
    with pytest.raises(api.ImageTooLarge, match="1/8 of the limit of 40,000,000"):
        api.read_image(path, max_pixels=40_000_000)
    assert api.read_image(path, max_pixels=48_000_000).pixels.shape == (2000, 3000, 3)
