"""The denoise contact sheet: its crop criterion, its difference panel, its layout."""

from __future__ import annotations

import numpy as np

from benchmarks import contact_denoise as cd
from engine import api


def _flat_with_texture(top: int, left: int, side: int = 40) -> np.ndarray:
    """A mid-grey 120×160 photo with mild white noise everywhere (grain in flat areas) and
    a side×side checkerboard patch (real structure) at (top, left)."""
    rng = np.random.default_rng(0)
    image = 128 + rng.normal(0, 6, (120, 160, 3))
    y, x = np.mgrid[0:side, 0:side]
    image[top : top + side, left : left + side] = np.where((x // 3 + y // 3) % 2, 40, 215)[
        ..., None
    ]
    return np.clip(image, 0, 255).round().astype(np.uint8)


def test_the_busiest_crop_is_the_textured_region_not_the_flat_noisy_one():
    image = _flat_with_texture(top=70, left=100)
    y, x, side = cd.busiest_window(image, size=40)
    assert side == 40
    assert abs(y - 70) <= 4 and abs(x - 100) <= 4


def test_the_crop_shrinks_to_a_small_photo():
    assert cd.busiest_window(np.zeros((30, 50, 3), np.uint8), size=160)[2] == 30


def test_the_difference_panel_is_zero_for_identical_inputs_and_amplified_otherwise():
    image = _flat_with_texture(0, 0)
    assert not cd.difference(image, image.copy()).any()
    brighter = np.clip(image.astype(np.int16) + 3, 0, 255).astype(np.uint8)
    diff = cd.difference(brighter, image, gain=4)
    assert diff.max() == 12 and diff.dtype == np.uint8


def test_a_sheet_of_two_tiny_photos_has_the_expected_layout(monkeypatch):
    calls = []

    def fake_denoise(image, *, strength=1.0, options=None, **_):
        calls.append(strength)
        return image // 2  # any change, no model loaded

    monkeypatch.setattr(api, "denoise", fake_denoise)
    photos = [
        cd.Photo("a", _flat_with_texture(10, 10)),
        cd.Photo("b", _flat_with_texture(60, 90)[:48, :64].copy()),
    ]
    sheet = cd.build_sheet(photos, [1.0, 2.0], api.RunOptions(device="cpu"), "test")
    assert calls == [1.0, 2.0, 1.0, 2.0]
    # Per row: 3 thumbnails (before, after 1, after 2), 3 crops (same) and 2 |diff| panels,
    # 7 gaps between the 8 cells; 2 rows of label strip + cell with a gap between, a header.
    width = 3 * cd.ROW + 5 * cd.ZOOM * cd.CROP + 7 * cd.GAP
    height = cd.HEADER + 2 * (cd.STRIP + max(cd.ROW, cd.ZOOM * cd.CROP)) + cd.GAP
    assert sheet.shape == (height, width, 3) and sheet.dtype == np.uint8
    assert (width, height) == (2736, 816)  # the defaults, spelt out


def test_a_reference_adds_a_column_to_every_row(monkeypatch):
    monkeypatch.setattr(api, "denoise", lambda image, **_: image)
    clean = _flat_with_texture(10, 10)
    photos = [cd.Photo("noisy", clean, reference=clean), cd.Photo("scan", clean)]
    sheet = cd.build_sheet(photos, [1.0], api.RunOptions(device="cpu"))
    # before, clean, after: thumbnails and crops; |clean - before| and |after - before|.
    assert sheet.shape[1] == 3 * cd.ROW + 5 * cd.ZOOM * cd.CROP + 7 * cd.GAP
    # The scan without a reference keeps that column, blank, so the columns line up.
    second = cd.HEADER + cd.STRIP + max(cd.ROW, cd.ZOOM * cd.CROP) + cd.GAP + cd.STRIP
    blank = sheet[second:, cd.ROW + cd.GAP : 2 * cd.ROW + cd.GAP]
    assert (blank == 255).all()
