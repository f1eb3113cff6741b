"""`python -m engine restore` (issue 23): one summary line per file, options checked first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.weights import RESOURCES_ENV


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))


def _png(path: Path, grey: bool = False, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    pixels = (rng.random((64, 80, 1 if grey else 3)) * 200 + 20).astype(np.uint8)
    Image.fromarray(pixels[..., 0] if grey else pixels).save(path)
    return path


def test_a_folder_is_restored_with_a_summary_line_per_file(tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    _png(folder / "colour.png")
    _png(folder / "grey.png", grey=True, seed=1)
    out = tmp_path / "out"
    code = cli.main(["restore", str(folder), "-o", str(out), "--steps", "denoise,colorize"])
    assert code == cli.EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    colour = next(line for line in lines if "colour.png" in line)
    grey = next(line for line in lines if "grey.png" in line)
    assert f"-> {out / 'colour.png'}: noise level " in colour and "colour added" not in colour
    assert grey.endswith(", colour added (100 %)")  # auto: black-and-white photos only
    assert lines[-1].startswith("restore: 2 restored, 0 skipped")
    with Image.open(out / "grey.png") as written:
        assert written.size == (80, 64)


def test_colorize_no_keeps_a_grey_photo_grey(tmp_path, capsys):
    src = _png(tmp_path / "grey.png", grey=True)
    target = tmp_path / "r.png"
    code = cli.main(["restore", str(src), "-o", str(target), "--colorize", "no", "--quiet"])
    assert code == cli.EXIT_OK and "colour added" not in capsys.readouterr().out
    with Image.open(target) as written:
        pixels = np.asarray(written.convert("RGB")).astype(int)
    assert np.array_equal(pixels[..., 0], pixels[..., 1])


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--steps", "denoise,polish"], "unknown step 'polish'"),
        (["--strength", "0.5"], "drop --auto-mask, --noise and --strength"),
        (["--weights", "x.pt"], "--weights is for the single tasks, not restore"),
    ],
)
def test_options_restore_cannot_use_are_refused_in_one_line(tmp_path, capsys, extra, said):
    src = _png(tmp_path / "a.png")
    assert cli.main(["restore", str(src), *extra]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err == f"error: {err.removeprefix('error: ')}" and said in err and "\n" not in err
    assert not (tmp_path / "a-restored.png").exists()


def test_restore_options_are_refused_for_a_single_task(tmp_path, capsys):
    src = _png(tmp_path / "a.png")
    assert cli.main(["denoise", str(src), "--steps", "denoise"]) == cli.EXIT_USAGE
    assert "--steps and --colorize are for restore, not denoise" in capsys.readouterr().err
