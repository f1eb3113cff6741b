"""Hints drawn from the truth (`training.data.hints`), checked by their statistics."""

from __future__ import annotations

import numpy as np
import pytest

from engine.hints import patch_box
from training.data.hints import HintConfig, draw_count, draw_hints, hint_maps

DRAWS = 8000


def _ab(height: int = 64, width: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-60, 60, (height, width, 2)).astype(np.float32)


def test_the_count_is_geometric_from_zero_capped_at_twenty() -> None:
    config = HintConfig()
    rng = np.random.default_rng(1)
    counts = np.array([draw_count(rng, config) for _ in range(DRAWS)])
    assert counts.min() == 0 and counts.max() == 20
    # P(0) = 1/8 (Zhang 2017); the cap gathers the tail P(N >= 20) = (7/8)^20 = 6.9 %.
    assert abs(np.mean(counts == 0) - 1 / 8) < 0.015
    assert abs(np.mean(counts == 1) - 1 / 8 * 7 / 8) < 0.015
    assert abs(np.mean(counts == 20) - (7 / 8) ** 20) < 0.012
    expected_mean = sum((7 / 8) ** k for k in range(1, 21))  # E[min(N, 20)] = 6.52
    assert abs(counts.mean() - expected_mean) < 0.2


def test_each_value_is_the_truths_mean_over_its_patch() -> None:
    ab = _ab()
    rng = np.random.default_rng(2)
    seen = 0
    for _ in range(50):
        hints = draw_hints(ab, rng, HintConfig())
        assert hints.points.shape == (len(hints), 2) and hints.values.shape == (len(hints), 2)
        for (x, y), value, side in zip(hints.points, hints.values, hints.sides, strict=True):
            assert 0 <= x < ab.shape[1] and 0 <= y < ab.shape[0]
            rows, cols = patch_box(ab.shape[:2], int(x), int(y), int(side))
            np.testing.assert_allclose(value, ab[rows, cols].mean(axis=(0, 1)), atol=1e-4)
            seen += 1
    assert seen > 200


def test_patch_sides_are_the_odd_sides_drawn_evenly() -> None:
    rng = np.random.default_rng(3)
    sides = np.concatenate([draw_hints(_ab(), rng, HintConfig()).sides for _ in range(300)])
    assert set(sides.tolist()) == {1, 3, 5, 7, 9}
    shares = np.bincount(sides, minlength=10)[1::2] / len(sides)
    assert np.abs(shares - 0.2).max() < 0.03


def test_mask_and_hint_map_agree() -> None:
    ab = _ab()
    for seed in range(40):
        config = HintConfig()
        hints = draw_hints(ab, np.random.default_rng(seed), config)
        ab_map, mask = hint_maps(ab, np.random.default_rng(seed), config)
        assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
        assert not ab_map[mask == 0].any()  # no colour where no hint
        covered = np.zeros(mask.shape, bool)
        for (x, y), side in zip(hints.points, hints.sides, strict=True):
            covered[patch_box(mask.shape, int(x), int(y), int(side))] = True
        np.testing.assert_array_equal(mask > 0, covered)
        if len(hints):  # the last hint is on top of its own patch
            (x, y), value = hints.points[-1], hints.values[-1]
            np.testing.assert_array_equal(ab_map[y, x], value)


def test_draws_are_deterministic_per_generator() -> None:
    ab = _ab()
    first = hint_maps(ab, np.random.default_rng([0, 1, 2]), HintConfig())
    again = hint_maps(ab, np.random.default_rng([0, 1, 2]), HintConfig())
    other = hint_maps(ab, np.random.default_rng([0, 1, 3]), HintConfig())
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def _share_in_colour(salient_share: float) -> float:
    """The share of points that land on a colourful square covering 1/16 of a grey crop."""
    ab = np.zeros((64, 64, 2), np.float32)
    ab[:16, :16] = (50.0, 30.0)
    rng = np.random.default_rng(4)
    config = HintConfig(salient_share=salient_share)
    points = np.concatenate([draw_hints(ab, rng, config).points for _ in range(400)])
    return float(np.mean((points[:, 0] < 16) & (points[:, 1] < 16)))


def test_a_share_of_points_goes_to_colourful_regions() -> None:
    assert abs(_share_in_colour(0.0) - 1 / 16) < 0.02  # uniform
    assert _share_in_colour(1.0) == 1.0  # all by chroma
    # The default quarter by chroma, the rest uniform: 1/4 + 3/4 * 1/16.
    assert abs(_share_in_colour(0.25) - (0.25 + 0.75 / 16)) < 0.03


def test_a_grey_crop_still_gets_uniform_grey_hints() -> None:
    ab = np.zeros((32, 32, 2), np.float32)
    rng = np.random.default_rng(5)
    hints = [draw_hints(ab, rng, HintConfig(salient_share=1.0)) for _ in range(30)]
    assert sum(len(h) for h in hints) > 50
    assert all(not h.values.any() for h in hints)


@pytest.mark.parametrize(
    "changes",
    [{"stop_prob": 0.0}, {"max_points": -1}, {"salient_share": 1.5}, {"patch_sides": (2,)},
     {"patch_sides": (11,)}, {"patch_sides": ()}],
)  # fmt: skip
def test_bad_settings_are_refused(changes: dict) -> None:
    with pytest.raises(ValueError):
        HintConfig(**changes)
