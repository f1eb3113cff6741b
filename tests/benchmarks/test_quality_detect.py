"""The damage-detection benchmark: held-out damage, pooled tolerant scores, clean photos."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import quality_detect
from benchmarks.quality_detect import damaged_copy, score, table
from training.data.damage import KINDS


def _photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(40, 220, 96, dtype=np.float32)[None, :, None]
    return np.clip(base + rng.normal(0, 6, (80, 96, 3)), 0, 255).astype(np.uint8)


def test_the_held_out_damage_is_fixed_per_photo_and_always_present() -> None:
    first, label = damaged_copy(_photo(0), 0, 3)
    again, label_again = damaged_copy(_photo(0), 0, 3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(label, label_again)
    assert first.dtype == np.uint8 and label.dtype == bool and label.any()
    other, _ = damaged_copy(_photo(0), 1, 3)  # another set: another draw
    assert not np.array_equal(first, other)


def test_a_detector_that_returns_the_truth_scores_one_and_flags_no_clean_pixel() -> None:
    clean = [_photo(i) for i in range(3)]
    cases = [damaged_copy(image, 0, i) for i, image in enumerate(clean)]
    truth = {image.tobytes(): label for image, label in cases}

    def oracle(image: np.ndarray, sensitivity: float) -> np.ndarray:
        return truth.get(image.tobytes(), np.zeros(image.shape[:2], bool))

    row = score(oracle, cases, clean, 0.5)
    assert row["f1"] == pytest.approx(1.0) and row["iou"] == pytest.approx(1.0)
    assert row["clean_flagged"] == 0.0 and row["images"] == 3


def test_a_detector_that_flags_everything_is_punished_on_both_parts() -> None:
    clean = [_photo(i) for i in range(2)]
    cases = [damaged_copy(image, 0, i) for i, image in enumerate(clean)]
    row = score(lambda image, s: np.ones(image.shape[:2], bool), cases, clean, 0.5)
    assert row["recall"] == 1.0 and row["precision"] < 0.5
    assert row["clean_flagged"] == 1.0
    assert "100.00%" in table([{**row, "set": "kodak24", "method": "all", "sensitivity": 0.5}])


def test_the_shipped_name_is_never_given_to_the_classical_fallback(monkeypatch) -> None:
    monkeypatch.setattr(quality_detect.api, "has_model", lambda task, *a: False)
    monkeypatch.setattr(quality_detect, "load_set", lambda name, limit: [_photo(0)])
    args = quality_detect.argparse.Namespace(
        sets=["kodak24"],
        model=[],
        no_shipped=False,
        limit=1,
        sensitivity=[0.5],
        no_classical=False,
        no_kinds=True,
    )
    rows = []
    quality_detect.run(args, rows.append)
    assert [r["method"] for r in rows] == [quality_detect.CLASSICAL]


def test_recall_by_kind_damages_each_photo_with_that_kind_alone() -> None:
    clean = [_photo(i) for i in range(2)]
    by_kind = {
        kind: [damaged_copy(image, 0, i, kind) for i, image in enumerate(clean)] for kind in KINDS
    }
    mixed = [damaged_copy(image, 0, i) for i, image in enumerate(clean)]
    assert all(label.any() for cases in by_kind.values() for _, label in cases)
    assert not np.array_equal(by_kind["dust"][0][1], mixed[0][1])
    np.testing.assert_array_equal(damaged_copy(clean[0], 0, 0, "dust")[0], by_kind["dust"][0][0])
    # a detector that finds only the thin kinds: dust is found, torn corners are not
    dust = {image.tobytes(): label for image, label in by_kind["dust"]}

    def finds_dust(image: np.ndarray, sensitivity: float) -> np.ndarray:
        return dust.get(image.tobytes(), np.zeros(image.shape[:2], bool))

    row = score(finds_dust, mixed, clean, 0.5, by_kind)
    assert row["recall_by_kind"]["dust"] == pytest.approx(1.0)
    assert row["recall_by_kind"]["torn"] == 0.0
    text = table([{**row, "set": "kodak24", "method": "dust only", "sensitivity": 0.5}])
    assert "Recall by kind" in text and "| kodak24 | dust only | 0.5 | " in text
