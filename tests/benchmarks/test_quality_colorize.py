"""The colorization benchmark's own pieces: the grey input, the chroma-gain trade, the speed
benchmark's scan."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import quality_colorize as q
from benchmarks import speed_colorize
from engine.color import rgb_to_lab
from training.metrics import colourfulness


def _photo(height: int = 40, width: int = 56) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([128 + 60 * np.sin(x / 9), 100 + 50 * np.cos(y / 7), 40 + 2 * x], -1)
    return rgb.round().astype(np.uint8)


def test_greyscale_keeps_lightness_and_drops_colour():
    photo = _photo()
    grey = q.greyscale(photo)
    lab, lab_grey = rgb_to_lab(photo / 255.0), rgb_to_lab(grey / 255.0)
    np.testing.assert_allclose(lab_grey[..., 0], lab[..., 0], atol=0.5)
    assert np.abs(lab_grey[..., 1:]).max() < 1.0
    assert colourfulness(grey.astype(np.float64)) < 1.0 < colourfulness(photo.astype(np.float64))


@pytest.mark.parametrize("gain", [0.0, 0.5, 1.5])
def test_chroma_gain_scales_colour_and_keeps_lightness(gain):
    # Muted colours, so that even 1.5x stays inside the sRGB gamut (no clipping).
    photo = (128 + (_photo().astype(np.float64) - 128) * 0.3).round().astype(np.uint8)
    gained = q.with_chroma_gain(lambda grey: photo, gain)(q.greyscale(photo))
    lab, lab_gained = rgb_to_lab(photo / 255.0), rgb_to_lab(gained / 255.0)
    np.testing.assert_allclose(lab_gained[..., 0], lab[..., 0], atol=1.0)
    np.testing.assert_allclose(lab_gained[..., 1:], gain * lab[..., 1:], atol=1.5)
    truth = colourfulness(photo.astype(np.float64))
    assert colourfulness(gained.astype(np.float64)) == pytest.approx(gain * truth, rel=0.1, abs=1)


def test_score_of_the_truth_itself_is_perfect_and_the_baseline_is_not():
    photo = _photo()
    perfect = q.score(lambda grey: photo, [photo])
    baseline = q.score(None, [photo])
    assert perfect["psnr"] == float("inf") and perfect["ssim"] == pytest.approx(1.0)
    assert np.isfinite(baseline["psnr"]) and baseline["colourfulness"] < 1.0
    # The share of photos a method beats grey on: all for the truth, none for grey itself.
    assert perfect["beats_grey"] == 1.0 and baseline["beats_grey"] == 0.0


def test_speed_benchmark_scan_is_grey_in_its_own_depth():
    rgb = _photo()
    grey = speed_colorize.grey(rgb)
    assert grey.dtype == np.uint8 and grey.shape == rgb.shape
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()


def test_random_hints_are_fixed_per_photo_and_carry_the_truths_patch_colour() -> None:
    from benchmarks.quality_colorize import random_hints

    truth = np.zeros((40, 50, 3), np.uint8)
    truth[:, 25:] = (200, 40, 10)  # right half red
    hints = random_hints(truth, 5, index=3)
    assert hints == random_hints(truth, 5, index=3) and hints != random_hints(truth, 5, 4)
    assert len(hints) == 5 and random_hints(truth, 0, 3) == []
    for hint in hints:
        x, y = int(hint.x), int(hint.y)
        assert 0 <= x < 50 and 0 <= y < 40
        if x >= 27:  # the whole 3x3 patch is red
            assert hint.rgb == (200, 40, 10)
        elif x <= 23:
            assert hint.rgb == (0, 0, 0)


def test_hinted_rows_get_their_hints_and_a_gain_over_grey(monkeypatch) -> None:
    from benchmarks import quality_colorize as qc

    seen = []

    def fake(grey, hints):
        seen.append(len(hints))
        return grey

    monkeypatch.setattr(qc, "engine_hinted", lambda file: fake)
    monkeypatch.setattr(qc, "engine_method", lambda file: lambda grey: grey)
    monkeypatch.setattr(qc, "takes_hints", lambda file: True)
    colourful = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)
    monkeypatch.setattr(qc, "load_set", lambda name, limit: [colourful])
    args = qc.argparse.Namespace(
        sets=["kodak24"], model=[], no_shipped=False, limit=1, chroma_gain=[], hints=[0, 5]
    )
    rows = []
    qc.run(args, rows.append)
    assert [r["hints"] for r in rows] == [0, 0, 5] and seen == [5]
    assert rows[2]["zhang_2017_gain"] == 3.0 and rows[2]["over_grey"] == 0.0


def test_hint_rows_only_for_a_model_that_takes_hints(monkeypatch, tiny_weights) -> None:
    from benchmarks import quality_colorize as qc

    assert qc.takes_hints(None)  # the shipped colorizer takes hints (colorize_hint)
    plain = tiny_weights["colorize"]  # a colorize_unet: no hint input
    assert not qc.takes_hints(plain)
    monkeypatch.setattr(qc, "engine_method", lambda file: lambda grey: grey)
    colourful = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)
    monkeypatch.setattr(qc, "load_set", lambda name, limit: [colourful])
    args = qc.argparse.Namespace(
        sets=["kodak24"], model=[f"plain={plain}"], no_shipped=True, limit=1, chroma_gain=[],
        hints=[5],
    )  # fmt: skip
    rows = []
    qc.run(args, rows.append)
    assert [r["hints"] for r in rows] == [0, 0]
