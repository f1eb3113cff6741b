"""The command line's `detect` and `inpaint --auto-mask` (issue 21)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import api, cli
from engine.weights import RESOURCES_ENV


@pytest.fixture(autouse=True)
def _tiny_models(tiny_detect_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_detect_resources))


def _png(path: Path, size=(96, 80), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8)).save(path)
    return path


def _mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == "L"  # 8-bit grey
        return np.asarray(image)


def test_detect_writes_a_white_on_black_mask_beside_the_input(tmp_path, capsys):
    src = _png(tmp_path / "scan.png")
    assert cli.main(["detect", str(src), "--quiet"]) == cli.EXIT_OK
    mask = _mask(tmp_path / "scan-mask.png")
    assert mask.shape == (80, 96) and set(np.unique(mask)) == {0, 255}
    expected = api.detect_damage(api.read_image(src).pixels)
    assert np.array_equal(mask == 255, expected)
    out = capsys.readouterr().out
    assert "scan-mask.png" in out and "detect: 1 masks written, 0 skipped" in out
    assert cli.main(["detect", str(src), "--quiet"]) == cli.EXIT_OK  # never over a result
    assert (tmp_path / "scan-mask-2.png").is_file()


def test_the_mask_has_the_size_of_the_displayed_image(tmp_path):
    src = tmp_path / "portrait.jpg"
    pixels = (np.random.default_rng(1).random((40, 64, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated a quarter turn
    Image.fromarray(pixels).save(src, exif=exif.tobytes())
    assert cli.main(["detect", str(src), "-o", str(tmp_path / "m.png"), "--quiet"]) == 0
    assert _mask(tmp_path / "m.png").shape == (64, 40)


def test_sensitivity_reaches_the_detector(tmp_path):
    src = _png(tmp_path / "scan.png")
    counts = []
    for value in ("0.1", "0.9"):
        out = tmp_path / f"m{value}.png"
        assert cli.main(["detect", str(src), "-o", str(out), "--sensitivity", value]) == 0
        counts.append(int((_mask(out) > 0).sum()))
    assert counts[0] < counts[1]


def test_a_folder_gives_one_mask_per_image_named_like_it(tmp_path, capsys):
    folder = tmp_path / "scans"
    folder.mkdir()
    _png(folder / "a.png")
    _png(folder / "b.png", seed=1)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    code = cli.main(["detect", str(folder), "-o", str(tmp_path / "masks"), "--quiet"])
    assert code == cli.EXIT_SOME_FAILED
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["a.png", "b.png"]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skipped") and "broken.png" in err[0]


def test_a_detected_mask_folder_feeds_inpaint(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    _png(folder / "a.png")
    assert cli.main(["detect", str(folder), "-o", str(tmp_path / "masks"), "--quiet"]) == 0
    argv = ["inpaint", str(folder), "-o", str(tmp_path / "out"), "--mask", str(tmp_path / "masks")]
    assert cli.main(argv + ["--quiet"]) == cli.EXIT_OK
    assert (tmp_path / "out" / "a.png").is_file()


def test_inpaint_auto_mask_fills_what_detect_finds(tmp_path):
    # The tiny test detector marks a few specks of this noise at 0.45, grown by the margin.
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "out.png"
    argv = ["inpaint", str(src), "-o", str(out), "--auto-mask", "--sensitivity", "0.45"]
    assert cli.main(argv + ["--quiet"]) == cli.EXIT_OK
    before, after = np.asarray(Image.open(src)), np.asarray(Image.open(out))
    mask = api.detect_damage(before, sensitivity=0.45)
    assert mask.any() and mask.mean() < 0.1
    assert mask.sum() > api.detect_damage(before, sensitivity=0.45, margin=0).sum()
    assert np.array_equal(before[~mask], after[~mask])  # only the detected pixels change
    assert not np.array_equal(before[mask], after[mask])


@pytest.mark.parametrize(
    "argv,message",
    [
        (["inpaint", "{src}", "-o", "{tmp}/o.png", "--auto-mask", "--mask", "{src}"], "exclude"),
        (["denoise", "{src}", "-o", "{tmp}/o.png", "--auto-mask"], "--auto-mask is for inpaint"),
        (["detect", "{src}", "-o", "{tmp}/o.jpg"], "must end in .png"),
        (["detect", "{src}", "-o", "{tmp}/o.png", "--sensitivity", "2"], "sensitivity"),
    ],
)
def test_usage_problems_give_one_line_and_exit_2(tmp_path, capsys, argv, message):
    src = _png(tmp_path / "scan.png")
    argv = [a.format(src=src, tmp=tmp_path) for a in argv]
    assert cli.main(argv + ["--quiet"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1
    assert not any(p.name.startswith("o.") for p in tmp_path.iterdir())


def test_without_a_detector_the_classical_one_is_used_and_said(
    tmp_path, capsys, monkeypatch, tiny_resources
):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))  # no detect model in it
    src = _png(tmp_path / "scan.png")
    assert cli.main(["detect", str(src), "-o", str(tmp_path / "m.png"), "--quiet"]) == 0
    assert "classical scratch detector" in capsys.readouterr().err
    assert _mask(tmp_path / "m.png").shape == (80, 96)


def test_weights_name_the_detector_for_detect(tmp_path, tiny_detect_weights, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tmp_path / "empty"))  # nothing installed
    src = _png(tmp_path / "scan.png")
    argv = [
        "detect",
        str(src),
        "-o",
        str(tmp_path / "m.png"),
        "--weights",
        str(tiny_detect_weights),
    ]
    assert cli.main(argv + ["--quiet"]) == cli.EXIT_OK
    options = api.RunOptions(weights=tiny_detect_weights)
    expected = api.detect_damage(api.read_image(src).pixels, options=options)
    assert np.array_equal(_mask(tmp_path / "m.png") == 255, expected)
