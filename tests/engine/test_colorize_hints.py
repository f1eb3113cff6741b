"""Colour hints in the colorize task (issue 22): the typed hint, what the hint-conditioned
network is fed, what comes back, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from task_support import finish
from torch import nn

from engine import api
from engine.archs import build_arch
from engine.color import lab_to_rgb, luminance, normalize_ab, rgb_to_lab
from engine.errors import InvalidRequest, ModelUnavailable
from engine.hints import DEFAULT_PATCH, hint_ab, working_pixels
from engine.options import ColorizeRequest, ColourHint
from engine.pixels import to_unit
from engine.tasks.colorize import Colorizer

CPU = torch.device("cpu")
TINY = {"base_channels": 4, "max_channels": 8}
SKIN = (200, 150, 120)


def tiny_hint_net(seed: int = 0) -> nn.Module:
    """A tiny `colorize_hint` whose hint weights are not zero (a fresh one ignores hints)."""
    torch.manual_seed(seed)
    net = build_arch("colorize_hint", **TINY)
    with torch.no_grad():
        nn.init.normal_(net.encoder[0].hint.weight, std=0.5)
        net.final[0].bias.copy_(torch.tensor([0.05, 0.1]))  # some colour without hints
    return net.eval()


class _EchoHints(nn.Module):
    """Returns the hint ab channels it is given: the pinned colours, nothing elsewhere."""

    takes_hints = True
    size_multiple = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 1:3] * 1.0


def _grey_of(rgb: tuple[int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """A flat grey uint8 photo with the lightness of `rgb`."""
    lightness = rgb_to_lab(np.array(rgb, np.float32) / 255)[0]
    grey = lab_to_rgb(np.array([lightness, 0.0, 0.0], np.float32))
    return np.broadcast_to((grey * 255).round().astype(np.uint8), (*shape, 3)).copy()


def _photo(height: int = 300, width: int = 400, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 220, width)[None, :] + rng.normal(0, 10, (height, width))
    return np.repeat(ramp.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)


def _spy(model: Colorizer) -> list[np.ndarray]:
    """Record every input the model's network is given."""
    seen: list[np.ndarray] = []
    forward = model.forward

    def spy(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.float().numpy().copy())
        return forward(x)

    model.forward = spy  # type: ignore[method-assign]
    return seen


# -- the typed hint and the request ---------------------------------------------------


def test_a_hint_is_typed_frozen_and_exported() -> None:
    hint = api.ColourHint(120, 80.5, [200, 150, 120])
    assert (hint.x, hint.y, hint.rgb) == (120.0, 80.5, SKIN)
    assert hint == ColourHint(120.0, 80.5, SKIN) and hash(hint) == hash(ColourHint(120, 80.5, SKIN))
    with pytest.raises(AttributeError):
        hint.x = 3  # type: ignore[misc]
    request = api.ColorizeRequest(hints=[hint])
    assert request.hints == (hint,) and ColorizeRequest().hints == ()


@pytest.mark.parametrize(
    ("x", "y", "rgb", "message"),
    [
        (-1, 0, SKIN, "x must be a pixel position"),
        (0, float("nan"), SKIN, "y must be a pixel position"),
        ("3", 0, SKIN, "x must be a number"),
        (True, 0, SKIN, "x must be a number"),
        (0, 0, (256, 0, 0), "rgb must be three whole numbers from 0 to 255"),
        (0, 0, (-1, 0, 0), "rgb must be"),
        (0, 0, (1.5, 0, 0), "rgb must be"),
        (0, 0, (True, 0, 0), "rgb must be"),
        (0, 0, (1, 2), "rgb must be"),
        (0, 0, "#ffffff", "rgb must be"),
    ],
)
def test_a_bad_hint_is_refused_in_one_line(x, y, rgb, message) -> None:
    with pytest.raises(InvalidRequest, match=message) as caught:
        ColourHint(x, y, rgb)
    assert "\n" not in str(caught.value)


def test_hints_must_be_colour_hints() -> None:
    with pytest.raises(InvalidRequest, match="sequence of ColourHint"):
        ColorizeRequest(hints=[{"x": 1, "y": 2, "rgb": SKIN}])  # type: ignore[list-item]
    with pytest.raises(InvalidRequest, match="sequence of ColourHint"):
        ColorizeRequest(hints=ColourHint(1, 2, SKIN))  # type: ignore[arg-type]


def test_hints_off_the_image_are_refused_before_a_model_loads(tmp_path) -> None:
    image = np.zeros((80, 96, 3), np.uint8)
    inside = ColourHint(95.9, 79.9, SKIN)
    off = ColourHint(96, 10, SKIN)  # x = 96 is the pixel after the last
    options = api.RunOptions(weights=tmp_path / "none.pt")  # would fail to load
    with pytest.raises(InvalidRequest, match=r"colour hint 2 at x=96, y=10 .* 96×80 image"):
        api.run_task("colorize", image, ColorizeRequest(hints=(inside, off)), options=options)
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    with pytest.raises(InvalidRequest, match="outside"):
        finish(model.run(image, ColorizeRequest(hints=(off,)), cancel=None))


def test_a_model_without_hints_refuses_them_in_one_line() -> None:
    model = Colorizer(build_arch("colorize_unet", **TINY), CPU, resolution=256)
    request = ColorizeRequest(hints=(ColourHint(5, 5, SKIN),))
    with pytest.raises(InvalidRequest, match="^this colorizer model does not take colour hints"):
        finish(model.run(_photo(), request, cancel=None))
    assert finish(model.run(_photo(), ColorizeRequest(), cancel=None)).shape == (300, 400, 3)


# -- what the network is fed ----------------------------------------------------------


def test_pins_move_to_their_pixel_of_the_working_copy() -> None:
    points = [(0, 0), (399.99, 299.99), (200, 150), (200.9, 150.2)]
    got = working_pixels(points, (400, 300), (256, 192))
    # pixel centre 200.5 * 0.64 = 128.3, 150.5 * 0.64 = 96.3
    assert got.tolist() == [[0, 0], [255, 191], [128, 96], [128, 96]]
    assert working_pixels(points[:1], (4, 3), (4, 3)).tolist() == [[0, 0]]  # no resize
    assert working_pixels([], (4, 3), (4, 3)).shape == (0, 2)


def test_the_network_gets_each_hint_at_its_mapped_point_with_its_ab() -> None:
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    seen = _spy(model)
    hints = (ColourHint(200, 150, SKIN), ColourHint(10.5, 290, (40, 90, 200)))
    finish(model.run(_photo(), ColorizeRequest(hints=hints), cancel=None))
    (x,) = seen
    assert x.shape[:2] == (1, 4)  # L, hint a, hint b, mask (padded to the 256 multiple)
    mask, ab = x[0, 3, :192, :256], x[0, 1:3, :192, :256]
    assert mask.sum() == 2 * DEFAULT_PATCH**2
    expected = normalize_ab(hint_ab([SKIN, (40, 90, 200)]))
    for (col, row), want in zip([(128, 96), (6, 185)], expected, strict=True):
        assert mask[row - 1 : row + 2, col - 1 : col + 2].min() == 1.0
        np.testing.assert_allclose(ab[:, row, col], want, atol=1e-6)
    assert np.abs(ab[:, mask == 0]).max() == 0.0


def test_with_no_hints_the_network_gets_an_empty_hint_map() -> None:
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    seen = _spy(model)
    finish(model.run(_photo(), ColorizeRequest(), cancel=None))
    assert seen[0].shape[1] == 4 and not seen[0][0, 1:].any()


# -- what comes back ------------------------------------------------------------------


def test_the_pinned_colour_comes_back_at_its_place_not_amplified() -> None:
    model = Colorizer(_EchoHints(), CPU, resolution=256)
    model.use_meta({"chroma_gain": 2.0}, "vivid.pt")  # the automatic case's vividness only
    image = _grey_of(SKIN, (600, 800))
    out = finish(
        model.run(image, ColorizeRequest(hints=(ColourHint(400, 300, SKIN),)), cancel=None)
    )
    assert np.abs(out[300, 400].astype(int) - SKIN).max() <= 6  # bicubic overshoot ≤ ~5 %
    assert np.array_equal(out[20, 20], image[20, 20])  # far away: no hint, no colour
    half = finish(
        model.run(image, ColorizeRequest(0.5, hints=(ColourHint(400, 300, SKIN),)), cancel=None)
    )
    ab_full = rgb_to_lab(to_unit(out[300:301, 400:401]))[0, 0, 1:]
    ab_half = rgb_to_lab(to_unit(half[300:301, 400:401]))[0, 0, 1:]
    np.testing.assert_allclose(ab_half, ab_full / 2, atol=1.5)  # strength still fades


def test_hints_change_the_result_near_the_pin() -> None:
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    image = _photo()
    auto = finish(model.run(image, ColorizeRequest(), cancel=None))
    pinned = finish(
        model.run(image, ColorizeRequest(hints=(ColourHint(200, 150, (40, 90, 200)),)), cancel=None)
    )
    change = np.abs(auto.astype(int) - pinned).mean(axis=2)
    near, far = change[140:161, 190:211].mean(), change[:40, :40].mean()
    assert near > 2.0 and far < near / 4


def test_no_hints_is_the_automatic_result_of_the_same_weights() -> None:
    """The hint network with an empty hint map computes what the plain U-Net of its weights
    does, chroma gain and strength included."""
    hinted = tiny_hint_net()
    plain = build_arch("colorize_unet", **TINY)
    state = {k: v for k, v in hinted.state_dict().items() if ".hint." not in k}
    plain.load_state_dict(state)
    results = []
    for net in (hinted, plain.eval()):
        model = Colorizer(net, CPU, resolution=256)
        model.use_meta({"chroma_gain": 1.4}, "auto.pt")
        results.append(finish(model.run(_photo(), ColorizeRequest(0.8), cancel=None)))
    assert np.abs(results[0].astype(int) - results[1]).max() <= 1
    assert np.abs(results[0].astype(int).max(axis=2) - results[0].min(axis=2)).mean() > 1


def test_a_toned_scan_is_colorized_from_its_lightness_only() -> None:
    """A sepia print and a grey print of the same lightness give the same colours: the
    tint never reaches the network, and the result keeps only the photo's L."""
    lightness = np.linspace(25, 85, 200 * 240, dtype=np.float32).reshape(200, 240)
    lab = np.stack([lightness, np.full_like(lightness, 8), np.full_like(lightness, 22)], 2)
    sepia = (lab_to_rgb(lab) * 255).round().astype(np.uint8)
    grey_l = luminance(to_unit(sepia))
    grey = lab_to_rgb(np.stack([grey_l, np.zeros_like(grey_l), np.zeros_like(grey_l)], 2))
    grey = (grey * 255).round().astype(np.uint8)
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    for hints in ((), (ColourHint(100, 100, SKIN),)):
        request = ColorizeRequest(hints=hints)
        toned = finish(model.run(sepia, request, cancel=None))
        neutral = finish(model.run(grey, request, cancel=None))
        assert np.abs(toned.astype(int) - neutral).mean() < 0.6


def test_api_colorize_passes_its_hints_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import run

    seen = []
    monkeypatch.setattr(run, "run_task", lambda name, image, request, **_: seen.append(request))
    hint = api.ColourHint(3, 4, (200, 40, 40))
    api.colorize(np.zeros((8, 8, 3), np.uint8), strength=0.5, hints=[hint])
    assert seen == [api.ColorizeRequest(strength=0.5, hints=(hint,))]


# -- the pin's patch side, from the weight file -----------------------------------------


def _pinned_pixels(model: Colorizer) -> np.ndarray:
    """Where one pin at (100, 80) colours a grey photo at the model's working size (the
    echo net returns the hint map: no resize, so the square comes back as it was written)."""
    image = _grey_of(SKIN, (192, 256))
    request = ColorizeRequest(hints=(ColourHint(100.5, 80.5, SKIN),))
    out = finish(model.run(image, request, cancel=None))
    return np.argwhere((out != image).any(axis=2))


@pytest.mark.parametrize("patch", [1, 7, 9])
def test_a_files_hint_patch_is_the_side_of_each_pins_square(patch: int) -> None:
    model = Colorizer(_EchoHints(), CPU, resolution=256)
    assert model.hint_patch == DEFAULT_PATCH == 3
    assert len(_pinned_pixels(model)) == 9
    model.use_meta({"hint_patch": patch}, "wide.pt")
    assert model.hint_patch == patch
    pinned = _pinned_pixels(model)
    half = patch // 2
    assert len(pinned) == patch**2
    assert pinned.min(axis=0).tolist() == [80 - half, 100 - half]
    assert pinned.max(axis=0).tolist() == [80 + half, 100 + half]


def test_the_hint_patch_is_read_from_the_weight_file_and_3_without(tmp_path) -> None:
    from engine.models import load_model
    from engine.weights import save_weights

    wide, plain = tmp_path / "wide.pt", tmp_path / "plain.pt"
    save_weights(wide, tiny_hint_net(), task="colorize", meta={"resolution": 256, "hint_patch": 7})
    save_weights(plain, tiny_hint_net(), task="colorize", meta={"resolution": 256})
    hints = ColorizeRequest(hints=(ColourHint(200, 150, SKIN),))
    for path, side in ((wide, 7), (plain, DEFAULT_PATCH)):
        model = load_model("colorize", CPU, weights=path, full_precision=True)
        assert model.hint_patch == side
        seen = _spy(model)
        try:
            finish(model.run(_photo(), hints, cancel=None))
        finally:
            del model.forward  # the engine caches the model: leave it as it was loaded
        assert seen[0][0, 3].sum() == side**2


@pytest.mark.parametrize("patch", [0, 2, 4, 11, -1, 7.0, "7", True, None])
def test_a_bad_hint_patch_is_refused_naming_the_file(patch, tmp_path) -> None:
    model = Colorizer(tiny_hint_net(), CPU, resolution=256)
    with pytest.raises(ModelUnavailable, match=r"odd\.pt.*hint_patch") as caught:
        model.use_meta({"hint_patch": patch}, "odd.pt")
    assert "\n" not in str(caught.value)
    assert model.hint_patch == DEFAULT_PATCH and model.chroma_gain == 1.0


def test_a_weight_file_with_a_bad_hint_patch_does_not_load(tmp_path) -> None:
    from engine.models import load_model
    from engine.weights import save_weights

    path = tmp_path / "even.pt"
    save_weights(path, tiny_hint_net(), task="colorize", meta={"hint_patch": 4})
    with pytest.raises(ModelUnavailable, match=r"even\.pt has hint_patch 4: it must be an odd"):
        load_model("colorize", CPU, weights=path)
