"""The command line: single files, folders, bad input, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.weights import RESOURCES_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))


def _png(path: Path, size=(96, 80), mode="RGB", seed=0) -> Path:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4}[mode]
    Image.fromarray((rng.random((size[1], size[0], channels)) * 255).astype(np.uint8), mode).save(
        path
    )
    return path


def test_single_file_is_restored(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    code = cli.main(
        ["denoise", str(src), "-o", str(tmp_path / "out.png"), "--device", "cpu", "--quiet"]
    )
    assert code == cli.EXIT_OK
    assert Image.open(tmp_path / "out.png").size == (96, 80)
    assert "1 restored, 0 skipped" in capsys.readouterr().out


def test_precision_can_be_forced_to_float32_and_nothing_else(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "out.png"
    assert cli.main(["denoise", str(src), "-o", str(out), "--precision", "full", "--quiet"]) == 0
    assert out.is_file()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["denoise", str(src), "-o", str(out), "--precision", "half"])
    assert exit_info.value.code == 2
    assert "--precision" in capsys.readouterr().err


def test_alpha_is_carried_through(tmp_path):
    src = _png(tmp_path / "scan.png", mode="RGBA")
    cli.main(["colorize", str(src), "-o", str(tmp_path / "out.png"), "--quiet"])
    original = np.asarray(Image.open(src))[..., 3]
    restored = Image.open(tmp_path / "out.png")
    assert restored.mode == "RGBA"
    assert np.array_equal(np.asarray(restored)[..., 3], original)


def test_folder_with_a_bad_file_skips_it_and_processes_the_rest(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "a.png")
    _png(folder / "c.png", seed=1)
    (folder / "b.jpg").write_text("this is not a picture")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    code = cli.main(["denoise", str(folder), "-o", str(tmp_path / "out"), "--quiet"])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_SOME_FAILED
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]
    assert "skipped" in err and "b.jpg" in err and err.count("\n") == 1
    assert "2 restored, 1 skipped" in out


def test_inpaint_with_a_mask(tmp_path):
    src = _png(tmp_path / "scan.png")
    mask = np.zeros((80, 96), np.uint8)
    mask[20:40, 30:60] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    code = cli.main(
        [
            "inpaint",
            str(src),
            "--mask",
            str(tmp_path / "mask.png"),
            "-o",
            str(tmp_path / "out.png"),
            "--quiet",
        ]
    )
    assert code == cli.EXIT_OK
    before, after = np.asarray(Image.open(src)), np.asarray(Image.open(tmp_path / "out.png"))
    assert np.array_equal(before[:5], after[:5])
    assert not np.array_equal(before[25:35, 35:55], after[25:35, 35:55])


@pytest.mark.parametrize(
    "argv,message",
    [
        (["denoise", "missing.png", "-o", "x.png"], "no such file"),
        (["inpaint", "{src}", "-o", "{tmp}/o.png"], "needs --mask"),
        (["denoise", "{src}", "-o", "{src}"], "refusing to overwrite"),
        (["denoise", "{src}", "-o", "{tmp}/out.xyz"], "image suffix"),
        (["denoise", "{src}", "-o", "{tmp}/o.png", "--device", "tpu"], "unknown device"),
        (["denoise", "{src}", "-o", "{tmp}/o.png", "--strength", "3"], "strength"),
        (["denoise", "{src}", "{tmp}/b/scan.png", "-o", "{tmp}/out"], "would both be written"),
        (["denoise", "{tmp}/b", "-o", "{tmp}/res.png"], "-o must be a folder"),
    ],
)
def test_usage_problems_give_one_line_and_exit_2(tmp_path, capsys, argv, message):
    src = _png(tmp_path / "scan.png")
    (tmp_path / "b").mkdir()
    _png(tmp_path / "b" / "scan.png")
    argv = [a.format(src=src, tmp=tmp_path) for a in argv]
    assert cli.main(argv + ["--quiet"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1


def test_no_model_installed_is_reported_plainly(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path / "empty"))
    src = _png(tmp_path / "scan.png")
    assert cli.main(["denoise", str(src), "-o", str(tmp_path / "o.png")]) == cli.EXIT_USAGE
    assert "no denoise model is installed" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()


def test_python_dash_m_engine_runs_end_to_end(tmp_path, tiny_resources):
    src = _png(tmp_path / "scan.png")
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(src.read_bytes()[:200])
    result = subprocess.run(
        [sys.executable, "-m", "engine", "denoise", str(corrupt), "-o", str(tmp_path / "o.png")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={RESOURCES_ENV: str(tiny_resources), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == cli.EXIT_SOME_FAILED
    assert "Traceback" not in result.stderr
    assert "broken.png" in result.stderr


def test_images_over_the_pixel_limit_are_skipped_with_a_reason(tmp_path, capsys):
    src = _png(tmp_path / "scan.png", size=(2000, 1000))
    code = cli.main(
        ["denoise", str(src), "-o", str(tmp_path / "o.png"), "--quiet", "--max-megapixels", "1"]
    )
    assert code == cli.EXIT_SOME_FAILED
    err = capsys.readouterr().err
    assert "scan.png" in err and "2000" in err
    assert not (tmp_path / "o.png").exists()


def test_threads_must_be_positive(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["denoise", str(src), "-o", str(tmp_path / "o.png"), "--threads", "0"])
    assert exit_info.value.code == 2
    assert "must be greater than 0" in capsys.readouterr().err


def test_a_missing_mask_in_a_mask_folder_skips_only_that_image(tmp_path, capsys):
    folder, masks = tmp_path / "in", tmp_path / "masks"
    folder.mkdir()
    masks.mkdir()
    _png(folder / "a.png")
    _png(folder / "b.png", seed=1)
    hole = np.zeros((80, 96), np.uint8)
    hole[10:20, 10:20] = 255
    Image.fromarray(hole).save(masks / "a.png")
    (masks / "b.json").write_text("{}")  # same stem, not an image: not a mask
    code = cli.main(
        ["inpaint", str(folder), "--mask", str(masks), "-o", str(tmp_path / "out"), "--quiet"]
    )
    assert code == cli.EXIT_SOME_FAILED
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]
    assert "no mask named b" in capsys.readouterr().err


def test_one_file_without_output_is_written_beside_it_and_never_over_anything(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    before = src.read_bytes()
    assert cli.main(["denoise", str(src), "--quiet"]) == cli.EXIT_OK
    assert (tmp_path / "scan-restored.png").is_file()
    assert cli.main(["denoise", str(src), "--quiet"]) == cli.EXIT_OK
    assert (tmp_path / "scan-restored-2.png").is_file()  # the first result is kept
    assert src.read_bytes() == before
    assert "scan-restored-2.png" in capsys.readouterr().out


def test_a_folder_still_needs_an_output_folder(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "a.png")
    assert cli.main(["denoise", str(folder), "--quiet"]) == cli.EXIT_USAGE
    assert "-o must name an output folder" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["a.png"]


def test_a_skipped_file_is_named_once(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    _png(folder / "a.png")
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    cli.main(["denoise", str(folder), "-o", str(tmp_path / "out"), "--quiet"])
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"skipped {folder / 'b.jpg'}: ")
    assert line.count("b.jpg") == 1, line


def test_a_grey_scan_stays_grey_from_the_command_line(tmp_path):
    grey = (np.random.default_rng(3).random((80, 96)) * 255).astype(np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    assert cli.main(["denoise", str(tmp_path / "grey.png"), "-o", str(tmp_path / "o.png")]) == 0
    written = Image.open(tmp_path / "o.png")
    assert written.mode == "L"  # a grey file, as the scan was
    assert not np.array_equal(np.asarray(written), grey)  # it was denoised
