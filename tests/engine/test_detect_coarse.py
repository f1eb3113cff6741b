"""The detector's coarse second pass at half the side (`engine.tasks.detect`)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_detect_task import _photo, make_detect_weights

from engine import api
from engine.errors import ModelUnavailable
from engine.run import _drive, load_task_model
from engine.tasks import get_task
from engine.tasks.detect import MIN_COARSE_SIDE, add_coarse, upsampled_rows
from engine.tiling import TilePlan


@pytest.mark.parametrize("shape", [(40, 52), (41, 53)])
def test_stripes_of_the_upsampled_map_match_resizing_the_whole_map(shape):
    coarse = np.random.default_rng(0).random(shape).astype(np.float32)
    height, width = shape[0] * 2 + shape[0] % 2, shape[1] * 2 + shape[1] % 2
    whole = cv2.resize(coarse, (shape[1] * 2, shape[0] * 2), interpolation=cv2.INTER_LINEAR)
    whole = np.pad(whole, ((0, height - whole.shape[0]), (0, width - whole.shape[1])), "edge")
    cuts = [0, 1, 7, 8, 30, 31, 55, height]
    stripes = [upsampled_rows(coarse, a, b, width) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert all(s.shape[1] == width for s in stripes)
    assert np.allclose(np.concatenate(stripes), whole, atol=1e-6)


def _files(tmp_path, coarse: float | None, threshold: float = 0.6) -> object:
    meta = {"threshold": threshold} | ({} if coarse is None else {"coarse_threshold": coarse})
    return make_detect_weights(tmp_path / f"detect-{threshold}-{coarse}.pt", meta=meta)


def _maps(weights, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The full pass's probability map and the coarse pass's (at half the side)."""
    model = load_task_model(get_task("detect"), api.RunOptions(weights=weights, precision="full"))
    plan = TilePlan(tile=256, overlap=32, min_tile=64, multiple=model.multiple)
    full = _drive("detect", model.probabilities(image, plan=plan), None)
    return full, _drive("detect", model.probabilities(image, plan=plan, coarse=True), None)


def test_the_coarse_pass_adds_what_it_finds_at_its_own_threshold(tmp_path):
    image = _photo(151, 203)  # odd sides: the last row and column have no 2×2 block
    full, small = _maps(_files(tmp_path, None), image)
    assert full.shape == image.shape[:2] and small.shape == (75, 101)
    # Cuts that each mark about a tenth of the pixels (every file holds the same network).
    cut, coarse_cut = (float(np.quantile(m, 0.9)) for m in (full, small))
    one, two = _files(tmp_path, None, cut), _files(tmp_path, coarse_cut, cut)
    single = api.detect_damage(image, margin=0, options=api.RunOptions(weights=one))
    both = api.detect_damage(image, margin=0, options=api.RunOptions(weights=two))
    assert np.array_equal(single, full > cut)
    expected = single.copy()
    add_coarse(expected, small, coarse_cut)
    assert np.array_equal(both, expected) and both.sum() > single.sum()
    # The slider moves both cuts: more sensitive still marks a superset.
    options = api.RunOptions(weights=two)
    calm, eager = (
        api.detect_damage(image, sensitivity=s, margin=0, options=options) for s in (0.2, 0.8)
    )
    assert (calm <= both).all() and (both <= eager).all() and calm.sum() < eager.sum()


def test_the_coarse_pass_adds_only_pieces_the_full_pass_found_something_in():
    coarse = np.zeros((40, 40), np.float32)
    coarse[4:10, 4:10] = 0.9  # a torn corner: the full pass marked a pixel of it
    coarse[22:34, 22:34] = 0.9  # a plain backdrop: the full pass saw nothing there
    mask = np.zeros((80, 80), bool)
    mask[12, 13] = True
    add_coarse(mask, coarse, 0.5)
    assert mask[10:18, 10:18].all()  # the anchored piece, at full size
    assert not mask[40:70, 40:70].any()  # the other is dropped
    assert mask.sum() == pytest.approx(12 * 12, abs=2 * 12 * 2)  # its edge to ±1 px


def test_a_photo_too_small_for_a_coarse_pass_gets_the_single_pass(tmp_path):
    image = _photo(MIN_COARSE_SIDE - 1, 300)
    one, two = _files(tmp_path, None), _files(tmp_path, 0.01)  # coarse would mark everything
    single = api.detect_damage(image, margin=0, options=api.RunOptions(weights=one))
    assert np.array_equal(
        api.detect_damage(image, margin=0, options=api.RunOptions(weights=two)), single
    )
    assert _maps(two, image)[1] is None


def test_two_passes_fill_one_progress_bar(tmp_path):
    steps: list[api.Progress] = []
    options = api.RunOptions(weights=_files(tmp_path, 0.5), tile=96)
    api.run_task(
        "detect", _photo(260, 300), api.DetectRequest(), options=options, progress=steps.append
    )
    done = [s.done for s in steps]
    assert done == sorted(done) and len(set(s.total for s in steps)) == 1
    assert steps[-1].fraction == 1.0 and steps[-1].total == len(steps)


@pytest.mark.parametrize("bad", [0.0, 1.0, "high", True])
def test_an_invalid_coarse_threshold_is_refused(tmp_path, bad):
    path = make_detect_weights(tmp_path / "bad.pt", meta={"coarse_threshold": bad})
    with pytest.raises(ModelUnavailable, match="threshold"):
        api.detect_damage(_photo(), options=api.RunOptions(weights=path))
