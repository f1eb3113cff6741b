"""training.data.damage: each damage kind has its intended geometry and colour, the label is
exactly the visibly damaged pixels, and the sampler honours its probabilities (issue 21)."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest
from damage_support import KERNEL as _KERNEL
from damage_support import luma as _luma
from damage_support import photo as _photo
from damage_support import plain as _plain

from training.data.damage import KINDS, DamageConfig, age, damage
from training.data.folders import TrainingDataError


def _draw(cfg: DamageConfig, seed: int, size: int = 96):
    clean = _photo(size, seed)
    aged, _ = age(clean, np.random.default_rng(seed), cfg)
    image, label, info = damage(clean, np.random.default_rng(seed), cfg)
    return aged, image, label.astype(bool), info


def _components(label: np.ndarray, connectivity: int = 8) -> tuple[int, np.ndarray]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        label.astype(np.uint8), connectivity=connectivity
    )
    return count - 1, stats[1:]


def _widths(label: np.ndarray) -> np.ndarray:
    """Local full widths: twice the distance to the background at the label's ridge pixels
    (local maxima of the distance transform), measured as in the module doc."""
    distance = cv2.distanceTransform(label.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ridge = (distance >= cv2.dilate(distance, _KERNEL)) & label
    return 2 * distance[ridge] - 1  # a one-pixel line has distance 1 on its ridge


def _ring(label: np.ndarray, pixels: int = 3) -> np.ndarray:
    grown = cv2.dilate(label.astype(np.uint8), _KERNEL, iterations=pixels).astype(bool)
    return grown & ~cv2.dilate(label.astype(np.uint8), _KERNEL).astype(bool)


# --- contract ---------------------------------------------------------------------------------


def test_shapes_dtypes_range_and_determinism():
    clean = _photo(64)
    first = damage(clean, np.random.default_rng(3))
    again = damage(clean, np.random.default_rng(3))
    image, label, info = first
    assert image.shape == clean.shape and image.dtype == np.float32
    assert label.shape == clean.shape[:2] and label.dtype == np.uint8
    assert set(np.unique(label)) <= {0, 1}
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert np.array_equal(np.round(image * 255), image * 255)  # an 8-bit file, as scanned
    assert np.array_equal(image, again[0]) and np.array_equal(label, again[1])
    assert info == again[2] and info.coverage == pytest.approx(label.mean())
    other = damage(clean, np.random.default_rng(4))
    assert not np.array_equal(image, other[0])


def test_label_is_exactly_the_visibly_damaged_pixels():
    cfg = _plain(*KINDS)
    for seed in range(6):
        aged, image, label, _ = _draw(cfg, seed)
        change = np.abs(image - aged).max(axis=2)
        # Every labelled pixel changed by more than min_change (less 8-bit rounding) ...
        assert change[label].min() > cfg.min_change - 1 / 255
        # ... and every strong change is labelled or touches the label (soft edges < 0.5).
        strong = change > 0.25
        near = cv2.dilate(label.astype(np.uint8), _KERNEL).astype(bool)
        assert np.mean(near[strong]) > 0.98
        assert label.any()


def test_damage_colour_matching_the_photo_is_not_labelled():
    # A white crack over white paper barely changes it: below min_change it is not marked.
    white = {"tones": (1.0, 0.0, 0.0), "black": (0, 0), "white": (1, 1), "contrast": (1, 1)}
    cfg = _plain("crack", crack_colours=(1.0, 0.0, 0.0), **white)
    paper = np.ones((64, 64, 3), np.float32)
    assert damage(paper, np.random.default_rng(1), cfg)[1].any()  # cream on white: visible
    faint = dataclasses.replace(cfg, min_change=0.35)  # the crack changes ≤ 1 − 0.8·0.9
    assert not damage(paper, np.random.default_rng(1), faint)[1].any()


def test_scan_effects_reach_the_damage():
    """Scan noise and blur come after the damage: a paper-white crack gets grain too."""
    wide = {"crack_width": (12.0, 15.0), "crack_colours": (1.0, 0.0, 0.0)}
    crisp = _draw(_plain("crack", crack_network_prob=0.0, **wide), 5)
    noisy = _draw(_plain("crack", crack_network_prob=0.0, scan_grain_prob=1.0, **wide), 5)
    blurred = _draw(
        _plain("crack", crack_network_prob=0.0, scan_blur_prob=1.0, scan_blur=(0.8, 0.9), **wide),
        5,
    )
    label = crisp[2]
    inner = cv2.erode(label.astype(np.uint8), _KERNEL, iterations=2).astype(bool)
    assert inner.sum() > 50
    assert np.std((noisy[1] - crisp[1])[inner]) > 1 / 255  # grain on the paper-white too
    outside = _ring(label, 1) | (cv2.dilate(label.astype(np.uint8), _KERNEL).astype(bool) & ~label)
    spread = [
        np.abs(image - aged).max(axis=2)[outside].mean() for aged, image, *_ in (crisp, blurred)
    ]
    assert spread[1] > spread[0] + 0.02  # the scan blur softens its edges


def test_config_validation():
    with pytest.raises(TrainingDataError):
        DamageConfig(crack_prob=1.5)
    with pytest.raises(TrainingDataError):
        DamageConfig(crack_width=(5.0, 2.0))
    with pytest.raises(TrainingDataError):
        DamageConfig(tones=(0.5, 0.5, 0.5))
    with pytest.raises(TrainingDataError):
        DamageConfig(**{f"{kind}_prob": 0.0 for kind in KINDS})
    refused = {
        "fresh_prob": 1.01,
        "crack_count": (1.5, 3.0),  # a count range holds whole numbers
        "scratch_width": (1.0,),
        "cast": (0.0, math.inf),
        "contrast": ("low", 0.9),
        "spot_colours": (0.5, 0.5),
        "spot_radius": (0.0, 8.0),  # drawn log-uniformly
        "jpeg_quality": (0, 90),
    }
    for name, value in refused.items():
        with pytest.raises(TrainingDataError, match=f"^damage\\.{name} "):
            DamageConfig(**{name: value})
    loaded = DamageConfig(crack_count=(2.0, 6.0), jpeg_quality=[40, 90], crack_width=[2, 9])
    assert loaded.crack_count == (2, 6) and all(type(n) is int for n in loaded.crack_count)
    assert loaded.jpeg_quality == (40, 90) and loaded.crack_width == (2.0, 9.0)
    assert DamageConfig.held_out() != DamageConfig()  # both valid
    with pytest.raises(ValueError):
        damage(np.zeros((8, 8), np.float32), np.random.default_rng(0))


# --- sampling ---------------------------------------------------------------------------------


def _binomial_ok(hits: int, draws: int, p: float) -> bool:
    return abs(hits - draws * p) <= 4 * math.sqrt(draws * p * (1 - p)) + 1


def test_undamaged_share_gives_empty_masks():
    cfg = DamageConfig(clean_prob=0.3)
    draws, empty = 300, 0
    clean = _photo(48)
    for seed in range(draws):
        _, label, info = damage(clean, np.random.default_rng([11, seed]), cfg)
        assert bool(label.any()) == bool(info.kinds)  # mid-grey: all damage is visible
        empty += not label.any()
    assert _binomial_ok(empty, draws, 0.3)


def test_kind_probabilities_are_respected():
    cfg = DamageConfig()
    draws = 400
    counts = dict.fromkeys(KINDS, 0)
    clean = _photo(16)
    for seed in range(draws):
        for kind in damage(clean, np.random.default_rng([12, seed]), cfg)[2].kinds:
            counts[kind] += 1
    for kind in KINDS:
        assert _binomial_ok(counts[kind], draws, cfg.kind_probability(kind)), kind
    assert cfg.kind_probability("crack") > cfg.crack_prob * (1 - cfg.clean_prob)


# --- geometry and colour of each kind ---------------------------------------------------------


def test_cracks_have_widths_in_range_and_are_paper_white():
    for bounds in ((1.0, 2.0), (6.0, 8.0), (13.0, 15.0)):
        cfg = _plain("crack", crack_width=bounds, crack_colours=(1.0, 0.0, 0.0))
        widths, contrast = [], []
        for seed in range(4):
            _, image, label, info = _draw(cfg, seed, 128)
            widths.append(_widths(label))
            luma = _luma(image)
            contrast.append(luma[label].mean() - luma[_ring(label)].mean())
        widths = np.concatenate(widths)
        widest = min(bounds[1], 128)
        assert np.percentile(widths, 95) <= widest + 3.5, bounds  # frayed ±1 px, junctions
        assert np.percentile(widths, 90) >= min(bounds[0], 16) * 0.6, bounds
        assert min(contrast) > 0.25  # white inside a mid-grey photo


def test_crack_networks_enclose_cells_and_walks_branch():
    network = _plain(
        "crack", crack_network_prob=1.0, crack_keep=(1.0, 1.0), crack_cell=(16.0, 32.0)
    )
    for seed in range(3):
        label = _draw(network, seed, 128)[2]
        cells, _ = _components(~label, 4)  # an 8-connected wall parts 4-connected cells
        assert cells >= 4  # the cracks wall off pieces of the print
    labels = {}
    for branches in (0, 4):  # the same main cracks (same draws), without and with branches
        walks = _plain(
            "crack",
            crack_network_prob=0.0,
            crack_width=(1.0, 1.0),
            crack_count=(1, 1),
            crack_branches=(branches, branches),
        )
        labels[branches] = [_draw(walks, seed, 128)[2] for seed in range(6)]
    for bare, branched in zip(labels[0], labels[4], strict=True):
        assert np.mean(branched[bare]) > 0.95  # the main crack is still there ...
        assert branched.sum() > 1.2 * bare.sum()  # ... with branches off it ...
        assert _components(branched)[0] <= _components(bare)[0] + 2  # ... attached to it


def test_dark_and_yellowed_cracks():
    dark = _plain("crack", crack_colours=(0.0, 0.0, 1.0))
    _, image, label, _ = _draw(dark, 2)
    assert _luma(image)[label].mean() < _luma(image)[_ring(label)].mean() - 0.2
    yellow = _plain("crack", crack_colours=(0.0, 1.0, 0.0), tones=(1.0, 0.0, 0.0))
    _, image, label, _ = _draw(yellow, 2)
    red, blue = image[label][:, 0].mean(), image[label][:, 2].mean()
    assert red - blue > 0.2


@pytest.mark.parametrize("bright", [True, False])
def test_scratches_are_long_thin_and_bright_or_dark(bright):
    cfg = _plain("scratch", scratch_count=(1, 1), scratch_bright_prob=float(bright))
    for seed in range(4):
        _, image, label, _ = _draw(cfg, seed, 128)
        points = np.argwhere(label).astype(np.float32)
        (_, _), (side_a, side_b), _ = cv2.minAreaRect(points)
        long, short = max(side_a, side_b), max(1.0, min(side_a, side_b))
        assert long >= 0.15 * 128 and long / short > 6  # long, at most slightly curved
        assert label.sum() / long <= 4.0  # 1-3 px wide (a diagonal raster line is denser)
        difference = _luma(image)[label].mean() - _luma(image)[_ring(label)].mean()
        assert difference > 0.15 if bright else difference < -0.15


def test_creases_have_a_bright_and_a_dark_side():
    cfg = _plain("crease", crease_count=(1, 1), crease_opacity=(0.6, 0.8))
    for seed in range(4):
        aged, image, label, _ = _draw(cfg, seed, 128)
        change = (_luma(image) - _luma(aged))[label]
        assert np.mean(change > 0.05) > 0.15 and np.mean(change < -0.05) > 0.15
        assert np.all(np.abs(change) > 0.05)  # no seam between the two sides
        brighter = ((_luma(image) - _luma(aged)) > 0.05).astype(np.uint8)
        darker = ((_luma(image) - _luma(aged)) < -0.05) & label
        near = cv2.dilate(brighter, _KERNEL, iterations=4).astype(bool)
        assert np.mean(near[darker]) > 0.95  # side by side


def test_dust_is_small_specks_scaled_by_area():
    cfg = _plain("dust")
    counts = {}
    for size in (64, 128):
        areas, numbers = [], []
        for seed in range(4):
            _, _, label, info = _draw(cfg, seed, size)
            count, stats = _components(label)
            areas.extend(stats[:, cv2.CC_STAT_AREA])
            numbers.append(info.damage[0][1]["count"])
        assert np.median(areas) <= 15 and np.max(areas) <= 2 * math.pi * 3.5**2
        counts[size] = np.mean(numbers)
    assert counts[128] > 2.5 * counts[64]


def test_hairs_are_thin_short_curves():
    cfg = _plain("hair", hair_count=(1, 1))
    for seed in range(6):
        _, _, label, _ = _draw(cfg, seed, 128)
        assert np.percentile(_widths(label), 95) <= 3.0
        assert label.sum() <= 3 * cfg.hair_length[1]
        points = np.argwhere(label)
        extent = np.hypot(*(points.max(axis=0) - points.min(axis=0)))
        assert extent <= cfg.hair_length[1] + 2


def test_foxing_spots_are_brown_and_round():
    cfg = _plain("spot", spot_colours=(1.0, 0.0, 0.0), spot_radius=(3.0, 5.0))
    for seed in range(4):
        _, image, label, _ = _draw(cfg, seed, 128)
        _, stats = _components(label)
        assert stats[:, cv2.CC_STAT_AREA].max() <= 6 * math.pi * 5.5**2  # a few merged at most
        red, green, blue = image[label].mean(axis=0)
        assert red > green + 0.03 and green > blue + 0.03


@pytest.mark.parametrize("corner_prob", [1.0, 0.0])
def test_torn_corners_and_edges_touch_the_border(corner_prob):
    cfg = _plain("torn", torn_corner_prob=corner_prob, torn_colours=(0.0, 0.0, 1.0, 0.0))
    for seed in range(4):
        _, image, label, info = _draw(cfg, seed, 96)
        count, _ = _components(label)
        assert count >= 1 and label.sum() >= 0.5 * (cfg.torn_depth[0] * 96) ** 2
        border = np.concatenate([label[0], label[-1], label[:, 0], label[:, -1]])
        assert border.any()
        if corner_prob:
            corners = label[[0, 0, -1, -1], [0, -1, -1, 0]]
            assert corners[info.damage[0][1]["corner"]]
        assert np.median(image[label]) <= 0.1  # black background shows through


def test_held_out_config_differs_from_training():
    train, held = DamageConfig(), DamageConfig.held_out()
    assert held.crack_width[1] > train.crack_width[1]
    assert held.scratch_sag[0] > 0.0 and held.scratch_sag[1] > train.scratch_sag[1]
    widths = {}
    for name, cfg in (("train", train), ("held", held)):
        only = cfg.only("crack")
        widths[name] = np.median(
            [
                damage(_photo(32), np.random.default_rng(s), only)[2].damage[0][1]["widest"]
                for s in range(40)
            ]
        )
    assert widths["held"] > widths["train"]


def test_a_share_of_photos_keeps_its_own_colour_and_contrast() -> None:
    rng = np.random.default_rng(0)
    photo = rng.random((32, 32, 3)).astype(np.float32)
    kept, steps = age(photo, np.random.default_rng(1), DamageConfig(fresh_prob=1.0))
    np.testing.assert_array_equal(kept, photo)
    assert steps == ()
    draws = [age(photo, np.random.default_rng(i), DamageConfig())[1] for i in range(400)]
    fresh = sum(steps == () for steps in draws) / len(draws)
    assert abs(fresh - DamageConfig().fresh_prob) < 0.07
    assert DamageConfig.held_out().fresh_prob == DamageConfig().fresh_prob
