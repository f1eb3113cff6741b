"""The `detect` task: tiles, thresholds, the sensitivity policy and `api.detect_damage`."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from engine import api
from engine.archs import build_arch
from engine.errors import ModelUnavailable
from engine.run import _drive
from engine.tasks import get_task
from engine.tasks.detect import DEFAULT_THRESHOLD, Detector, probability_threshold
from engine.tasks.scratches import detect_scratches
from engine.tiling import TilePlan
from engine.weights import save_weights


def make_detect_weights(path, meta: dict) -> object:
    torch.manual_seed(0)  # the same network for every file: only the meta differs
    save_weights(path, build_arch("detect_unet", base_channels=4), task="detect", meta=meta)
    return path


def _photo(height: int = 90, width: int = 130, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((height, width, 3)) * 255).astype(np.uint8)


class _Local(nn.Module):
    """A detector that sees 3×3 neighbourhoods only: tiling must not change its map."""

    size_multiple = 4

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * 4.0


def test_the_task_is_registered_as_a_mask_task():
    spec = get_task("detect")
    assert spec.model is Detector and spec.request is api.DetectRequest
    assert spec.returns_mask and not spec.keeps_grey and spec.tiled
    assert spec.settings == ("sensitivity",)


def test_sensitivity_policy():
    assert probability_threshold(0.5) == pytest.approx(DEFAULT_THRESHOLD)
    assert probability_threshold(0.5, base=0.8) == pytest.approx(0.8)  # the model's own
    cuts = [probability_threshold(s) for s in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in zip(cuts, cuts[1:], strict=False))  # more sensitive: lower
    assert cuts[0] == pytest.approx(0.982, abs=1e-3) and cuts[-1] == pytest.approx(0.018, abs=1e-3)
    # equal slider steps are equal steps in log-odds
    logits = np.log(np.array(cuts) / (1 - np.array(cuts)))
    assert np.allclose(np.diff(logits), logits[1] - logits[0])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "high"])
def test_a_bad_sensitivity_is_refused_before_anything_runs(bad):
    with pytest.raises(api.InvalidRequest, match="sensitivity"):
        api.DetectRequest(sensitivity=bad)
    with pytest.raises(api.InvalidRequest, match="sensitivity"):
        api.detect_damage(_photo(), sensitivity=bad)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_bool_mask_the_size_of_the_image(tiny_detect_weights, dtype):
    image = _photo(75, 101).astype(dtype) * (257 if dtype == np.uint16 else 1)
    options = api.RunOptions(weights=tiny_detect_weights, tile=64)
    steps: list[api.Progress] = []
    mask = api.run_task(
        "detect", image, api.DetectRequest(), options=options, progress=steps.append
    )
    assert mask.shape == (75, 101) and mask.dtype == bool
    assert 0 < mask.mean() < 1  # random weights: probabilities near 0.5 both ways
    assert steps and all(s.task == "detect" for s in steps) and steps[-1].fraction == 1.0


def test_a_grey_photo_gets_a_mask_not_a_grey_picture(tiny_detect_weights):
    grey = np.repeat(_photo()[..., :1], 3, axis=2)
    mask = api.detect_damage(grey, options=api.RunOptions(weights=tiny_detect_weights))
    assert mask.shape == grey.shape[:2] and mask.dtype == bool


def test_higher_sensitivity_marks_a_superset(tiny_detect_weights):
    options = api.RunOptions(weights=tiny_detect_weights)
    image = _photo()
    masks = [api.detect_damage(image, sensitivity=s, options=options) for s in (0.0, 0.5, 1.0)]
    assert (masks[0] <= masks[1]).all() and (masks[1] <= masks[2]).all()
    assert masks[0].sum() < masks[2].sum()


def test_tiles_give_the_whole_image_map():
    torch.manual_seed(0)
    model = Detector(_Local(), torch.device("cpu"), full_precision=True)
    image = _photo(150, 170)

    def probabilities(tile: int) -> np.ndarray:
        plan = TilePlan(tile=tile, overlap=16, min_tile=32, multiple=4)
        return _drive("detect", model.probabilities(image, plan=plan), None)

    whole, tiled = probabilities(256), probabilities(48)
    assert whole.shape == (150, 170) and whole.dtype == np.float32
    # The last row and column differ by padding alone: the whole image is mirror-padded to
    # the network's multiple there, a fitted tile needs no padding.
    assert np.abs(whole - tiled)[:-1, :-1].max() < 1e-5
    plan = TilePlan(tile=48, overlap=16, min_tile=32, multiple=4)
    mask = _drive("detect", model.run(image, api.DetectRequest(0.5), plan=plan, cancel=None), None)
    assert np.array_equal(mask, tiled > 0.5)


def test_a_weight_file_threshold_sets_the_default(tmp_path):
    strict = make_detect_weights(tmp_path / "strict.pt", meta={"threshold": 0.9})
    loose = make_detect_weights(tmp_path / "loose.pt", meta={"threshold": 0.1})
    image = _photo()
    few = api.detect_damage(image, options=api.RunOptions(weights=strict))
    many = api.detect_damage(image, options=api.RunOptions(weights=loose))
    assert few.sum() < many.sum() and (few <= many).all()


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, True, "0.5"])
def test_an_invalid_threshold_in_a_weight_file_is_refused(tmp_path, bad):
    path = make_detect_weights(tmp_path / "bad.pt", meta={"threshold": bad})
    with pytest.raises(ModelUnavailable, match="threshold"):
        api.detect_damage(_photo(), options=api.RunOptions(weights=path))


def test_without_a_detector_the_classical_one_answers(tiny_resources):
    image = _photo()
    options = api.RunOptions(resources=tiny_resources)  # denoise, inpaint, colorize only
    assert not api.has_model("detect", options)
    got = api.detect_damage(image, sensitivity=0.7, options=options)
    assert np.array_equal(got, detect_scratches(image, 0.7))


def test_an_installed_detector_is_used(tiny_detect_resources):
    image = _photo()
    options = api.RunOptions(resources=tiny_detect_resources)
    assert api.has_model("detect", options)
    expected = api.run_task("detect", image, api.DetectRequest(0.5), options=options)
    assert np.array_equal(api.detect_damage(image, margin=0, options=options), expected)
    assert not np.array_equal(expected, detect_scratches(image, 0.5))


def test_the_proposed_mask_grows_by_the_fill_margin(tiny_detect_weights):
    options = api.RunOptions(weights=tiny_detect_weights)
    image = _photo()
    own = api.detect_damage(image, margin=0, options=options)
    assert 0 < own.mean() < 0.9
    proposed = api.detect_damage(image, options=options)  # what the editor and CLI get
    assert api.FILL_MARGIN_PX == 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    assert np.array_equal(proposed, cv2.dilate(own.astype(np.uint8), disc).astype(bool))
    wider = api.detect_damage(image, margin=3, options=options)
    assert (own <= proposed).all() and (proposed <= wider).all() and wider.sum() > proposed.sum()
    for bad in (-1, 17, 1.5, True):
        with pytest.raises(api.InvalidRequest, match="margin"):
            api.detect_damage(image, margin=bad, options=options)


def test_cancel_stops_detection(tiny_detect_weights):
    token = api.CancelToken()
    token.cancel()
    with pytest.raises(api.Cancelled):
        api.detect_damage(
            _photo(), options=api.RunOptions(weights=tiny_detect_weights), cancel=token
        )
