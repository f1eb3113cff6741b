"""Hint files (`engine.hint_file`) and `python -m engine colorize --hints FILE`: a good file
runs end to end, a bad one is one line on stderr naming it, exit status 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from engine import api, cli
from engine.archs import build_arch
from engine.hint_file import MAX_FILE_BYTES, hints_to_json, load_hints, parse_hints, save_hints
from engine.options import ColourHint
from engine.weights import RESOURCES_ENV, save_weights

SKIN = (200, 150, 120)


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))  # its colorizer takes no hints


@pytest.fixture(scope="module")
def hint_weights(tmp_path_factory) -> Path:
    """A tiny hint-conditioned colorizer whose hints have a say (a fresh one's have none)."""
    torch.manual_seed(0)
    net = build_arch("colorize_hint", base_channels=4, max_channels=8)
    with torch.no_grad():
        nn.init.normal_(net.encoder[0].hint.weight, std=0.5)
    path = tmp_path_factory.mktemp("hint_weights") / "colorize_hint.pt"
    save_weights(path, net.eval(), task="colorize", meta={"resolution": 256})
    return path


def _png(path: Path, size=(96, 80)) -> Path:
    grey = np.linspace(30, 220, size[0] * size[1]).reshape(size[1], size[0]).astype(np.uint8)
    Image.fromarray(np.repeat(grey[..., None], 3, axis=2)).save(path)
    return path


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# -- the file -------------------------------------------------------------------------


def test_hints_round_trip_through_a_file_people_can_read(tmp_path) -> None:
    hints = (ColourHint(120, 80, SKIN), ColourHint(3.25, 0, (0, 0, 255)))
    path = tmp_path / "hints.json"
    save_hints(path, hints)
    assert load_hints(path) == hints == api.load_hints(path)
    assert json.loads(path.read_text())[0] == {"x": 120, "y": 80, "rgb": [200, 150, 120]}
    assert path.read_text().count("\n") == 4  # one hint a line
    assert parse_hints(hints_to_json([])) == () == load_hints(_write(tmp_path / "e.json", "[]"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.json", "hints.json"]  # no .part


def test_a_file_with_a_byte_order_mark_is_read(tmp_path) -> None:
    path = _write(tmp_path / "bom.json", b'\xef\xbb\xbf[{"x": 1, "y": 2, "rgb": [3, 4, 5]}]')
    assert load_hints(path) == (ColourHint(1, 2, (3, 4, 5)),)


BAD_FILES = [
    ('[{"x": 1, "y": 2, "rgb": [3, 4, 5]', "not JSON"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "not JSON"),
    ('{"x": 1, "y": 2, "rgb": [3, 4, 5]}', "expected a JSON list like"),
    ("[[1, 2, [3, 4, 5]]]", "hint 1: expected an object"),
    ('[{"x": 1, "y": 2, "rgb": [3, 4, 5]}, {"x": 1, "rgb": [3, 4, 5]}]', "hint 2: missing y"),
    ('[{"x": 1, "y": 2, "rgb": [3, 4, 5], "colour": "red"}]', "unknown key colour"),
    ('[{"x": "1", "y": 2, "rgb": [3, 4, 5]}]', "x must be a number"),
    ('[{"x": -4, "y": 2, "rgb": [3, 4, 5]}]', "x must be a pixel position"),
    ('[{"x": 1, "y": NaN, "rgb": [3, 4, 5]}]', "y must be a pixel position"),
    ('[{"x": 1, "y": 2, "rgb": [3, 400, 5]}]', "rgb must be three whole numbers from 0 to 255"),
    ('[{"x": 1, "y": 2, "rgb": [0.5, 0.2, 0.1]}]', "rgb must be three whole numbers"),
    ('[{"x": 1, "y": 2, "rgb": [3, 4]}]', "rgb must be three whole numbers"),
    ("[" * 100_000, "not"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_file_is_one_line_naming_it(tmp_path, content, message) -> None:
    path = _write(tmp_path / "bad.json", content)
    with pytest.raises(api.InvalidRequest, match=message) as caught:
        load_hints(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and "\n" not in text and len(text) < 300


def test_a_missing_or_huge_file_is_one_line_too(tmp_path) -> None:
    with pytest.raises(api.InvalidRequest, match="no such hint file"):
        load_hints(tmp_path / "none.json")
    huge = _write(tmp_path / "huge.json", b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(api.InvalidRequest, match="too large for a hint file"):
        load_hints(huge)


def test_a_hint_file_that_cannot_be_written_is_an_engine_error(tmp_path) -> None:
    with pytest.raises(api.ImageWriteError, match="cannot write the hint file"):
        save_hints(tmp_path / "no" / "such" / "folder.json", [ColourHint(1, 2, SKIN)])


# -- the command line -----------------------------------------------------------------


def _colorize(tmp_path: Path, hints: Path, *extra: str) -> tuple[int, Path]:
    src = _png(tmp_path / "scan.png")
    out = tmp_path / "out.png"
    code = cli.main(
        ["colorize", str(src), "-o", str(out), "--hints", str(hints), "--quiet", *extra]
    )
    return code, out


@pytest.mark.parametrize(("content", "message"), BAD_FILES[:4] + BAD_FILES[9:10])
def test_a_bad_hint_file_exits_2_with_one_line_and_writes_nothing(
    tmp_path, capsys, hint_weights, content, message
) -> None:
    hints = _write(tmp_path / "bad.json", content)
    code, out = _colorize(tmp_path, hints, "--weights", str(hint_weights))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and not out.exists()
    assert err.startswith(f"error: {hints}: ") and message in err and err.count("\n") == 1


def test_a_missing_hint_file_exits_2(tmp_path, capsys) -> None:
    code, out = _colorize(tmp_path, tmp_path / "none.json")
    assert code == cli.EXIT_USAGE and not out.exists()
    assert capsys.readouterr().err == f"error: {tmp_path / 'none.json'}: no such hint file\n"


def test_hints_off_the_input_image_exit_2_naming_file_and_image(
    tmp_path, capsys, hint_weights
) -> None:
    hints = tmp_path / "hints.json"
    save_hints(hints, [ColourHint(10, 10, SKIN), ColourHint(96, 40, SKIN)])  # 96×80 input
    code, out = _colorize(tmp_path, hints, "--weights", str(hint_weights))
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and not out.exists() and err.count("\n") == 1
    assert err.startswith(f"error: {hints}: colour hint 2 at x=96, y=40 lies outside the 96×80")
    assert "scan.png" in err


def test_a_model_that_takes_no_hints_refuses_them(tmp_path, capsys) -> None:
    hints = tmp_path / "hints.json"
    save_hints(hints, [ColourHint(10, 10, SKIN)])
    code, out = _colorize(tmp_path, hints)  # the installed tiny colorizer: a plain U-Net
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE and not out.exists()
    assert err.startswith("error: this colorizer model does not take colour hints")
    assert err.count("\n") == 1


def test_hints_are_for_colorize_only(tmp_path, capsys) -> None:
    hints = _write(tmp_path / "hints.json", "[]")
    src = _png(tmp_path / "scan.png")
    code = cli.main(["denoise", str(src), "-o", str(tmp_path / "o.png"), "--hints", str(hints)])
    assert code == cli.EXIT_USAGE
    assert capsys.readouterr().err == "error: --hints is for colorize, not denoise\n"


def test_a_good_hint_file_runs_end_to_end(tmp_path, capsys, hint_weights) -> None:
    hints = _write(tmp_path / "hints.json", '[{"x": 48, "y": 40, "rgb": [40, 90, 200]}]')
    code, out = _colorize(tmp_path, hints, "--weights", str(hint_weights))
    assert code == cli.EXIT_OK and "1 restored" in capsys.readouterr().out
    auto = tmp_path / "auto.png"
    src = tmp_path / "scan.png"
    argv = ["colorize", str(src), "-o", str(auto), "--weights", str(hint_weights), "--quiet"]
    assert cli.main(argv) == cli.EXIT_OK
    pinned, plain = (np.asarray(Image.open(p)).astype(int) for p in (out, auto))
    assert pinned.shape == (80, 96, 3)
    assert np.abs(pinned[35:46, 43:54] - plain[35:46, 43:54]).mean() > 1.0
