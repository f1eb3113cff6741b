"""Restore Photo (`engine.restore`, issue 23): the analysis' proposal, the steps' order and
results, missing models, progress, cancel, and the input left alone."""

from __future__ import annotations

import numpy as np
import pytest

from engine import api
from engine.restore import chosen_steps
from engine.restore_options import DAMAGE_AT, NOISE_AT, ORDER
from engine.weights import RESOURCES_ENV
from tests.conftest import make_resources

S = api.RestoreStep


@pytest.fixture(autouse=True)
def _tiny_models(tiny_resources, monkeypatch):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))


def _photo(seed: int = 0, size=(72, 96)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((*size, 3)) * 200 + 20).astype(np.uint8)


def _analysis(**changes) -> api.ScanAnalysis:
    values = dict(
        grey=False,
        toned=0.0,
        faded=0.0,
        noise_level=0.0,
        mask=np.zeros((4, 4), bool),
        sensitivity=0.5,
        detector="model",
        available=frozenset(ORDER),
    )
    return api.ScanAnalysis(**{**values, **changes})


def test_steps_parse_into_running_order_and_unknown_ones_are_named():
    assert api.parse_steps("denoise, detect,colorize") == (S.DETECT, S.DENOISE, S.COLORIZE)
    with pytest.raises(api.InvalidRequest, match="'fade'"):
        api.parse_steps("detect,fade")
    with pytest.raises(api.InvalidRequest, match="no steps"):
        api.parse_steps(" , ")
    with pytest.raises(api.InvalidRequest, match="denoise_strength"):
        api.RestoreRequest(denoise_strength=3)
    with pytest.raises(api.InvalidRequest, match="colorize must be"):
        api.RestoreRequest(colorize="maybe")


def test_the_analysis_proposes_what_it_found_and_only_what_can_run():
    damaged = np.zeros((100, 100), bool)
    damaged.flat[: int(DAMAGE_AT * 100) + 1] = True  # just above the threshold (in %)
    assert _analysis().proposed() == ()
    assert _analysis(mask=damaged).proposed() == (S.DETECT, S.INPAINT)
    assert _analysis(noise_level=NOISE_AT + 0.1).proposed() == (S.DENOISE,)
    assert _analysis(noise_level=NOISE_AT - 0.1).proposed() == ()
    assert _analysis(faded=0.5).proposed() == (S.COLOURS,)
    assert _analysis(grey=True).proposed() == (S.COLORIZE,)
    assert _analysis(toned=0.9).proposed() == (S.COLORIZE,)
    assert _analysis(grey=True).proposed(api.ColorizeChoice.NO) == ()
    assert _analysis().proposed(api.ColorizeChoice.YES) == (S.COLORIZE,)
    without = frozenset({S.DETECT, S.COLOURS})
    assert _analysis(mask=damaged, available=without).proposed() == (S.DETECT,)
    found = _analysis(mask=damaged, noise_level=5.0).findings()
    assert found[S.DETECT] == "0.06 % looks damaged" and found[S.INPAINT] == "0.06 % to fill"
    assert found[S.DENOISE] == "noise level 5.0 (moderate)"
    assert _analysis().findings()[S.DETECT] == "no damage found"
    assert (
        _analysis(grey=True).findings()[S.COLORIZE] == "black-and-white photo: colour can be added"
    )


def test_colorize_follows_the_choice_whatever_the_steps():
    grey, colour = _analysis(grey=True), _analysis()
    every = api.RestoreRequest(steps=ORDER)
    assert chosen_steps(every, grey) == ORDER
    assert S.COLORIZE not in chosen_steps(every, colour)  # AUTO: grey and toned only
    yes = api.RestoreRequest(steps=ORDER, colorize=api.ColorizeChoice.YES)
    assert chosen_steps(yes, colour) == ORDER
    no = api.RestoreRequest(steps=ORDER, colorize=api.ColorizeChoice.NO)
    assert S.COLORIZE not in chosen_steps(no, grey)
    only_denoise = api.RestoreRequest(steps=(S.DENOISE,), colorize=api.ColorizeChoice.YES)
    assert chosen_steps(only_denoise, grey) == (S.DENOISE,)  # not asked for in the steps


def test_every_step_runs_in_order_on_a_copy_with_one_progress_bar():
    image = _photo()
    before = image.copy()
    mask = np.zeros(image.shape[:2], bool)
    mask[30:34, 10:60] = True  # a crack
    seen: list[api.Progress] = []
    request = api.RestoreRequest(steps=(S.DETECT, S.INPAINT, S.DENOISE), mask=mask)
    result = api.restore(image, request, progress=seen.append)
    assert np.array_equal(image, before)  # the input is never modified
    assert [r.step for r in result.steps] == [S.DETECT, S.INPAINT, S.DENOISE]
    assert result.step(S.DETECT).settings["detector"] == "given"
    filled = result.step(S.INPAINT).image
    assert np.array_equal(filled[~mask], image[~mask])  # only the damage is filled
    assert not np.array_equal(filled[mask], image[mask])
    assert np.array_equal(result.image, result.step(S.DENOISE).image)
    assert np.array_equal(result.mask, mask)
    assert result.summary().startswith(f"{100 * mask.mean():.2f} % damage filled, noise level")
    assert result.step(S.INPAINT).label == f"Fill damage: {100 * mask.mean():.2f} % damage filled"
    done = [p.done for p in seen]
    assert done == sorted(done) and done[-1] == 1000 and seen[-1].total == 1000


def test_keeping_only_the_final_picture_gives_the_same_picture():
    image = _photo(1)
    request = api.RestoreRequest(steps=(S.DENOISE, S.COLOURS))
    kept = api.restore(image, request)
    lean = api.restore(image, request, keep_steps=False)
    assert np.array_equal(kept.image, lean.image)
    assert all(r.image is None for r in lean.steps)


def test_a_step_without_its_model_is_skipped_and_the_others_run(
    tmp_path, tiny_weights, monkeypatch
):
    only_denoise = make_resources(tmp_path / "res", {"denoise": tiny_weights["denoise"]})
    monkeypatch.setenv(RESOURCES_ENV, str(only_denoise))
    grey = np.repeat(_photo(2)[..., :1], 3, axis=2)
    mask = np.zeros(grey.shape[:2], bool)
    mask[5:9, 5:9] = True
    result = api.restore(grey, api.RestoreRequest(steps=ORDER, mask=mask))
    assert result.step(S.INPAINT).skipped == "no inpaint model installed"
    assert result.step(S.COLORIZE).skipped == "no colorize model installed"
    assert result.step(S.DENOISE).skipped is None
    assert "inpaint: no inpaint model installed" in result.summary()
    assert api.available_steps() == frozenset({S.DETECT, S.DENOISE, S.COLOURS})


def test_a_grey_photo_is_colorized_by_default_and_a_colour_one_is_not():
    grey = np.repeat(_photo(3)[..., :1], 3, axis=2)
    result = api.restore(grey, api.RestoreRequest(steps=(S.COLORIZE,)))
    assert result.summary() == "colour added (100 %)" and result.step(S.COLORIZE).image is not None
    assert api.restore(_photo(3), api.RestoreRequest(steps=(S.COLORIZE,))).steps == ()


def test_a_faded_print_gets_its_colours_back_and_a_clean_one_is_left_alone():
    across = np.tile(np.linspace(0, 1, 96, dtype=np.float32), (72, 1))
    down = np.tile(np.linspace(0, 1, 72, dtype=np.float32)[:, None], (1, 96))
    unit = np.stack([across, across[:, ::-1], down], -1)  # every channel from black to white
    clean = (unit * 255 + 0.5).astype(np.uint8)
    faded = (0.5 + 0.8 * (np.array([0.12, 0.05, 0.02]) + 0.85 * unit - 0.5)) * 255 + 0.5
    faded = faded.astype(np.uint8)
    request = api.RestoreRequest(steps=(S.COLOURS,))
    fixed = api.restore(faded, request)
    assert fixed.summary() == "faded cast corrected (100 %)"
    error_before = np.abs(faded.astype(float) - clean).mean()
    assert np.abs(fixed.image.astype(float) - clean).mean() < error_before / 2
    left = api.restore(clean, request)
    assert left.step(S.COLOURS).skipped == "not faded" and np.array_equal(left.image, clean)


def test_cancel_stops_the_run_and_leaves_the_input_alone():
    image = _photo(4)
    before = image.copy()
    token = api.CancelToken()
    token.cancel()
    with pytest.raises(api.Cancelled):
        api.restore(image, api.RestoreRequest(steps=(S.DENOISE,)), cancel=token)
    assert np.array_equal(image, before)


def test_a_mask_of_another_size_is_refused_before_anything_runs():
    with pytest.raises(api.InvalidRequest, match="mask must be"):
        api.restore(_photo(), api.RestoreRequest(mask=np.zeros((5, 5), bool)))


def test_pins_reach_the_colorizer_or_the_line_says_they_were_ignored():
    grey = np.repeat(_photo(5)[..., :1], 3, axis=2)
    pins = (api.ColourHint(x=3, y=4, rgb=(200, 40, 40)),)
    request = api.RestoreRequest(steps=(S.COLORIZE,), hints=pins)
    result = api.restore(grey, request)  # the tiny colorizer takes no hints
    assert result.summary() == "colour added (100 %), pins ignored: this colorizer takes none"
    assert result.step(S.COLORIZE).settings["hints"] == 0
    plain = api.restore(grey, api.RestoreRequest(steps=(S.COLORIZE,)))
    assert np.array_equal(result.image, plain.image)
    with pytest.raises(api.InvalidRequest, match="hints must be"):
        api.RestoreRequest(hints=[(3, 4)])


def test_pins_change_a_hint_colorizer_s_result(tmp_path, tiny_weights, monkeypatch):
    from engine.weights import save_weights
    from tests.engine.test_colorize_hints import tiny_hint_net

    hinted = tmp_path / "colorize.pt"
    save_weights(hinted, tiny_hint_net(), task="colorize", meta={"resolution": 256})
    resources = make_resources(tmp_path / "res", {"colorize": hinted})
    monkeypatch.setenv(RESOURCES_ENV, str(resources))
    grey = np.repeat(_photo(6, size=(120, 160))[..., :1], 3, axis=2)
    pins = (api.ColourHint(x=80, y=60, rgb=(40, 90, 200)),)
    pinned = api.restore(grey, api.RestoreRequest(steps=(S.COLORIZE,), hints=pins))
    plain = api.restore(grey, api.RestoreRequest(steps=(S.COLORIZE,)))
    assert pinned.summary() == "colour added (100 %)"
    assert pinned.step(S.COLORIZE).settings["hints"] == 1
    assert not np.array_equal(pinned.image, plain.image)
