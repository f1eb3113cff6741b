"""Placing colour hints (`engine.hints`): shared by training and the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from engine import hints as hints_module
from engine.color import AB_SCALE
from engine.hints import DEFAULT_PATCH, encode_input, patch_box, patch_mean_ab, place_hints


def test_a_hint_fills_its_patch_and_the_mask_marks_exactly_it() -> None:
    ab_map, mask = place_hints((20, 30), [(10, 5)], [(40.0, -20.0)], patch=3)
    assert ab_map.shape == (20, 30, 2) and mask.shape == (20, 30)
    assert ab_map.dtype == mask.dtype == np.float32
    inside = np.zeros((20, 30), bool)
    inside[4:7, 9:12] = True  # 3x3 centred on x=10, y=5
    assert (mask[inside] == 1).all() and (mask[~inside] == 0).all()
    assert (ab_map[inside] == (40.0, -20.0)).all() and (ab_map[~inside] == 0).all()


def test_patches_are_clipped_at_the_border_and_sides_may_differ() -> None:
    ab_map, mask = place_hints((10, 10), [(0, 0), (9, 9)], [(1, 2), (3, 4)], patch=[5, 1])
    assert mask.sum() == 9 + 1  # a 3x3 corner of the 5x5, and one pixel
    assert (ab_map[:3, :3] == (1, 2)).all() and (ab_map[9, 9] == (3, 4)).all()
    assert patch_box((10, 10), 0, 0, 5) == (slice(0, 3), slice(0, 3))


def test_the_later_hint_wins_where_patches_overlap() -> None:
    ab_map, mask = place_hints((9, 9), [(4, 4), (5, 4)], [(10, 10), (-10, -10)], patch=3)
    assert (ab_map[3:6, 4:7] == (-10, -10)).all() and (ab_map[3:6, 3] == (10, 10)).all()
    assert mask.sum() == 12


def test_no_hints_give_zeros() -> None:
    ab_map, mask = place_hints((4, 6), np.zeros((0, 2), int), np.zeros((0, 2)))
    assert not ab_map.any() and not mask.any()


@pytest.mark.parametrize(
    ("points", "values", "patch", "message"),
    [
        ([(10, 0)], [(0, 0)], 3, "outside"),
        ([(0, -1)], [(0, 0)], 3, "outside"),
        ([(1, 1)], [(0, 0)], 2, "odd"),
        ([(1, 1)], [(0, 0)], 0, "odd"),
        ([(1, 1)], [(0, 0), (1, 1)], 3, "colours"),
        ([(1, 1)], [(0, 0)], [3, 3], "patch sides"),
    ],
)
def test_bad_hints_are_refused(points, values, patch, message) -> None:
    with pytest.raises(ValueError, match=message):
        place_hints((8, 10), points, values, patch)


def test_patch_mean_is_the_mean_over_the_clipped_patch() -> None:
    rng = np.random.default_rng(0)
    ab = rng.uniform(-80, 80, (12, 16, 2)).astype(np.float32)
    means = patch_mean_ab(ab, [(5, 6), (0, 11)], [3, 5])
    np.testing.assert_allclose(means[0], ab[5:8, 4:7].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(means[1], ab[9:12, 0:3].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_array_equal(patch_mean_ab(ab, [(3, 2)], 1)[0], ab[2, 3])


def test_the_network_input_is_l_normalised_hints_and_mask() -> None:
    l_norm = np.linspace(-1, 1, 48, dtype=np.float32).reshape(6, 8)
    ab_map, mask = place_hints((6, 8), [(2, 2)], [(55.0, -330.0)], patch=DEFAULT_PATCH)
    x = encode_input(l_norm, ab_map, mask)
    assert x.shape == (6, 8, 4) and x.dtype == np.float32 and x.flags.c_contiguous
    np.testing.assert_array_equal(x[..., 0], l_norm)
    np.testing.assert_array_equal(x[..., 3], mask)
    np.testing.assert_allclose(x[2, 2, 1:3], (55.0 / AB_SCALE, -1.0))  # clipped as targets are
    assert not x[..., 1:3][mask == 0].any()


def test_the_module_is_numpy_only() -> None:
    tree = ast.parse(Path(hints_module.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "collections", "numpy", "engine"}
    assert "torch" not in imported
