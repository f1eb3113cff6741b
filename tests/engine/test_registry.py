"""The task registry and the one run path every caller takes (engine.run via engine.api)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import api
from engine.errors import InvalidRequest, ModelUnavailable
from engine.tasks import get_task, task_names
from engine.tasks.base import InferenceModel
from engine.weights import RESOURCES_ENV


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))


def test_every_task_is_registered_with_its_model_and_request():
    assert set(task_names()) >= {"denoise", "inpaint", "colorize"}
    for name in task_names():
        spec = get_task(name)
        assert spec.name == name
        assert issubclass(spec.model, InferenceModel)
        assert spec.settings  # a typed request with at least one setting
    assert get_task("inpaint").settings == ("mask",)
    assert not get_task("colorize").keeps_grey


def test_an_unknown_task_names_the_known_ones():
    with pytest.raises(ModelUnavailable, match="known: .*denoise"):
        get_task("sharpen")


def test_run_task_refuses_another_tasks_request_before_loading_anything():
    image = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(InvalidRequest, match="denoise takes a DenoiseRequest"):
        api.run_task("denoise", image, api.ColorizeRequest(0.5))


def test_requests_check_their_settings_when_made():
    with pytest.raises(InvalidRequest, match="strength must be between 0 and 1"):
        api.ColorizeRequest(strength=1.5)
    with pytest.raises(InvalidRequest, match="unknown noise kind"):
        api.DenoiseRequest(noise="pink")
    with pytest.raises(InvalidRequest, match="the mask must be H×W"):
        api.inpaint(np.zeros((8, 8, 3), np.uint8), np.zeros((4, 4), bool))


@pytest.mark.parametrize("task", ["denoise", "inpaint"])
def test_a_grey_photo_comes_back_grey_from_every_task_that_keeps_it(task):
    rng = np.random.default_rng(0)
    grey = np.repeat((rng.random((40, 56, 1)) * 255).astype(np.uint8), 3, axis=2)
    mask = np.zeros(grey.shape[:2], bool)
    mask[10:20, 10:30] = True
    request = api.DenoiseRequest() if task == "denoise" else api.InpaintRequest(mask)
    out = api.run_task(task, grey, request)
    assert api.is_grey(out)
    assert not np.array_equal(out, grey)  # it did run


def test_colorize_is_free_to_add_colour_to_a_grey_photo():
    grey = np.repeat(np.linspace(0, 255, 56, dtype=np.uint8)[None, :, None], 40, axis=0)
    out = api.colorize(np.repeat(grey, 3, axis=2))
    assert out.shape == (40, 56, 3)  # not forced back to grey (the tiny model may be greyish)


def test_progress_comes_as_the_one_progress_type_named_after_the_task():
    seen: list[api.Progress] = []
    api.denoise(np.zeros((32, 32, 3), np.uint8), progress=seen.append)
    assert seen and all(isinstance(p, api.Progress) and p.task == "denoise" for p in seen)
    assert seen[-1].fraction == 1.0
