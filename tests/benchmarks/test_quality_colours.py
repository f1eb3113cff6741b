"""The faded-print benchmark's own pieces: the fading model, CIEDE2000, the classical
corrections and the scoring rows."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from benchmarks import fading
from benchmarks import quality_colours as q
from benchmarks.ciede2000 import delta_e_2000, mean_delta_e
from engine.color import rgb_to_lab


def _photo(height: int = 40, width: int = 56) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([128 + 120 * np.sin(x / 9), 120 + 110 * np.cos(y / 7), 10 + 4.4 * x], -1)
    return rgb.clip(0, 255).round().astype(np.uint8)


def test_the_fading_model_is_deterministic_per_seed():
    photo = _photo()
    first = fading.fade(photo, np.random.default_rng([1, 2]))
    assert np.array_equal(first, fading.fade(photo, np.random.default_rng([1, 2])))
    assert not np.array_equal(first, fading.fade(photo, np.random.default_rng([1, 3])))
    toned = fading.tone(fading.grey_version(photo), np.random.default_rng(5))
    assert np.array_equal(toned, fading.tone(fading.grey_version(photo), np.random.default_rng(5)))
    pairs = [q.aged(photo, kind, q.FADE_SEED, 0, 3) for kind in q.KINDS]
    again = [q.aged(photo, kind, q.FADE_SEED, 0, 3) for kind in q.KINDS]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(pairs, again, strict=True))
    assert np.array_equal(pairs[2][0], photo)  # the unfaded photo is the photo


def test_fades_are_drawn_from_the_documented_ranges():
    rng = np.random.default_rng(0)
    for _ in range(200):
        f = fading.draw_fade(rng)
        assert all(np.exp(-0.3) <= g <= np.exp(0.3) for g in f.gamma)
        assert all(0.85 <= s <= 1.0 for s in f.scale)
        assert all(0.0 <= o <= 0.08 for o in f.offset)
        assert f.cast in fading.CASTS.values() and 0.05 <= f.cast_amount <= 0.20
        assert 0.70 <= f.contrast <= 0.95
        t = fading.draw_tone(rng)
        assert len(set(t.offset)) == 1 and 0.0 <= t.offset[0] <= 0.06 and t.cast_amount == 0
        assert t.gamma[0] < t.gamma[1] < t.gamma[2]  # sepia: red lightest, blue darkest


def test_a_fade_applies_the_documented_steps():
    f = fading.Fade((0.8, 1.0, 1.25), (0.9, 0.95, 1.0), (0.05, 0.0, 0.02), (1.0, 0.6, 0.5),
                    0.1, 0.8)  # fmt: skip
    x = np.linspace(0, 1, 11)[:, None].repeat(3, 1)
    v = np.array(f.offset) + np.array(f.scale) * x ** np.array(f.gamma)
    v = 0.5 + 0.8 * (0.9 * v + 0.1 * np.array(f.cast) - 0.5)
    np.testing.assert_allclose(f.apply(x), v)
    out = f.apply(x)
    assert (np.diff(out, axis=0) > 0).all()  # each channel stays monotone
    assert (out[0] > 0.05).all() and (out[-1] < 0.95).all()  # blacks lifted, whites dimmed
    assert np.ptp(out[5]) > 0.02  # a grey mid-tone is no longer grey: a cast


def test_a_toned_print_is_a_warm_tint_of_its_grey_version():
    photo = _photo()
    grey = fading.grey_version(photo)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    lab, lab_grey = rgb_to_lab(photo / 255.0), rgb_to_lab(grey / 255.0)
    np.testing.assert_allclose(lab_grey[..., 0], lab[..., 0], atol=0.6)
    toned = fading.tone(grey, np.random.default_rng(0)).astype(int)
    mid = (grey[..., 0] > 60) & (grey[..., 0] < 200)
    assert (toned[..., 0][mid] > toned[..., 2][mid]).all()  # sepia: warmer than grey
    order = np.argsort(grey[..., 0].ravel(), kind="stable")
    assert (np.diff(toned[..., 2].ravel()[order]) >= 0).all()  # a curve of the grey


def test_ciede2000_matches_the_published_test_pairs():
    # Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17, 21, 25 and 34.
    lab1 = [(50, 2.6772, -79.7751), (50, 0, 0), (50, 2.5, 0), (50, 2.5, 0),
            (60.2574, -34.0099, 36.2677), (90.8027, -2.0831, 1.4410)]  # fmt: skip
    lab2 = [(50, 0, -82.7485), (50, -1, 2), (73, 25, -18), (50, 3.1736, 0.5854),
            (60.4626, -34.1751, 39.4387), (91.1528, -1.6435, 0.0447)]  # fmt: skip
    expected = [2.0425, 2.3669, 27.1492, 1.0000, 1.2644, 1.4441]
    np.testing.assert_allclose(delta_e_2000(np.array(lab1), np.array(lab2)), expected, atol=1e-4)
    np.testing.assert_allclose(delta_e_2000(np.array(lab2), np.array(lab1)), expected, atol=1e-4)
    photo = _photo()
    assert mean_delta_e(photo, photo) == 0.0 and mean_delta_e(photo, photo // 2) > 5


def test_the_classical_corrections_do_what_they_say():
    faded = fading.fade(_photo(), np.random.default_rng(0))
    balanced = q.grey_world(faded).reshape(-1, 3).mean(0)
    assert np.ptp(balanced) < 1.0  # three equal means
    stretched = q.auto_levels(faded).reshape(-1, 3)
    assert (stretched.min(0) == 0).all() and (stretched.max(0) == 255).all()


def test_scores_of_the_truth_and_of_a_change():
    photo = _photo()
    same = q.score(lambda image: image, [(photo, photo)] * 2)
    assert same["psnr"] == math.inf and same["pooled_psnr"] == math.inf
    assert same["unchanged"] == 2 and same["delta_e"] == 0.0 and same["images"] == 2
    darker = q.score(lambda image: image // 2, [(photo, photo), (photo, photo)])
    assert math.isfinite(darker["psnr"]) and darker["unchanged"] == 0
    assert darker["pooled_psnr"] == pytest.approx(darker["psnr"])


def test_a_run_emits_every_method_for_every_kind_and_the_bar_is_read(monkeypatch):
    photos = [_photo(), _photo(32, 48)]
    monkeypatch.setattr(q, "photos_of", lambda name, limit: photos)
    rows: list[dict] = []
    q.run(argparse.Namespace(sets=["kodak24"], limit=None), rows.append)
    kinds = [r["kind"] for r in rows]
    assert kinds.count(q.KINDS[0]) == kinds.count(q.KINDS[1]) == len(q.METHODS)
    assert kinds.count(q.KINDS[2]) == len(q.METHODS) - 1  # the unfaded photo needs no row
    assert all(r["images"] == 2 and r["set"] == "kodak24" for r in rows)
    ours = {r["kind"]: r for r in rows if r["method"] == q.OURS}
    assert ours[q.KINDS[0]]["psnr"] > next(
        r["psnr"] for r in rows if r["method"] == "aged input" and r["kind"] == q.KINDS[0]
    )
    text = q.table(rows)
    assert text.count("| kodak24 (2) |") == len(rows)
    assert "kodak24, faded colour print: ours" in text and "kodak24, unfaded" in text


def test_the_bar_lines_say_meets_or_misses():
    def row(kind, method, psnr):
        return {"set": "s", "kind": kind, "method": method, "psnr": psnr, "images": 1,
                "pooled_psnr": psnr, "worst_psnr": psnr, "unchanged": 0}  # fmt: skip

    rows = [row(q.KINDS[0], "grey-world", 20.0), row(q.KINDS[0], q.CLASSICAL[1], 25.0),
            row(q.KINDS[0], q.OURS, 26.5), row(q.KINDS[1], q.CLASSICAL[1], 25.0),
            row(q.KINDS[1], q.OURS, 25.5), row(q.KINDS[2], q.OURS, 45.0)]  # fmt: skip
    lines = q.bar_lines(rows)
    assert "+1.50 dB (meets" in lines[0] and "auto-levels" in lines[0]
    assert "+0.50 dB (misses" in lines[1]
    assert "PSNR 45.00 dB" in lines[2]


def test_the_colourful_crop_is_the_most_saturated_square():
    photo = np.full((300, 400, 3), 128, np.uint8)
    photo[100:260, 200:360] = (220, 40, 30)  # a red patch in a grey photo
    crop = q.colourful_crop(photo, side=128)
    assert crop.shape == (128, 128, 3) and (crop == (220, 40, 30)).all()
    assert q.colourful_crop(photo[:64, :90]).shape == (64, 64, 3)  # smaller photos: their side
