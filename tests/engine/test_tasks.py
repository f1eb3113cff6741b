"""Each task's large-image strategy, with tiny networks on the CPU."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.archs import build_arch
from engine.color import luminance, rgb_to_lab
from engine.errors import ModelUnavailable
from engine.options import ColorizeRequest, DenoiseRequest, InpaintRequest
from engine.pixels import from_unit, to_unit
from engine.tasks.base import pad_to_multiple
from engine.tasks.colorize import Colorizer
from engine.tasks.denoise import (
    _IMPULSE_SHARE,
    Denoiser,
    NoiseKind,
    impulse_share,
    remove_impulses,
)
from engine.tasks.inpaint import Inpainter, feathered_alpha, find_regions
from engine.tiling import TilePlan

CPU = torch.device("cpu")

ROOT = Path(__file__).resolve().parents[2]


def _finish(gen):
    steps = []
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            return stop.value, steps


def _settled(net):
    """Give BatchNorm layers non-trivial running statistics, as training would."""
    torch.manual_seed(0)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(2, net.in_channels, 256, 256) * 2 - 1)
    return net.eval()


def test_bfloat16_autocast_is_for_marked_networks_on_native_cpus_and_keeps_the_input_exact(
    monkeypatch,
):
    import engine.tasks.base as task_base

    monkeypatch.setattr(task_base, "cpu_has_native_bfloat16", lambda: True)
    torch.manual_seed(0)
    net = build_arch("denoise_resunet", base_channels=4)
    image = np.random.default_rng(0).random((48, 64, 3), dtype=np.float32) * 2 - 1
    fast, full = Denoiser(net, CPU), Denoiser(copy.deepcopy(net), CPU, full_precision=True)
    assert fast.autocast_bfloat16 and not full.autocast_bfloat16
    difference = np.abs(fast.predict(image) - full.predict(image))
    assert 0 < difference.max() < 0.02  # bfloat16 really ran, and changed little
    with torch.no_grad():  # a silent noise estimate: the float32 input comes back bit for bit
        fast.net.tail.weight.zero_()
        fast.net.tail.bias.zero_()
    assert np.array_equal(fast.predict(image), image)
    # Only networks measured to be unaffected opt in: not the seed U-Net, not the others yet.
    seed = Denoiser(build_arch("denoise_unet", base_channels=4, max_channels=8), CPU)
    inpaint = Inpainter(build_arch("inpaint_gated", base_channels=4), CPU)
    colorize = Colorizer(build_arch("colorize_unet", base_channels=4, max_channels=8), CPU)
    assert not any(m.autocast_bfloat16 for m in (seed, inpaint, colorize))
    monkeypatch.setattr(task_base, "cpu_has_native_bfloat16", lambda: False)
    assert not Denoiser(net, CPU).autocast_bfloat16


def test_unit_conversion_round_trips_both_bit_depths():
    for dtype in (np.uint8, np.uint16):
        pixels = np.arange(0, np.iinfo(dtype).max, 97, dtype=dtype)
        assert np.array_equal(from_unit(to_unit(pixels), dtype), pixels)


def test_unit_conversion_in_place_gives_the_same_pixels_and_leaves_input_alone_otherwise():
    values = np.linspace(-0.1, 1.1, 3001, dtype=np.float32)  # out of range both ways
    kept = values.copy()
    for dtype in (np.uint8, np.uint16):
        expected = from_unit(values, dtype)
        assert np.array_equal(values, kept)  # not overwritten unless allowed
        assert expected[0] == 0 and expected[-1] == np.iinfo(dtype).max
        assert np.array_equal(from_unit(values.copy(), dtype, overwrite=True), expected)
    read_only = values.copy()
    read_only.flags.writeable = False
    assert np.array_equal(from_unit(read_only, np.uint8, overwrite=True), from_unit(kept, np.uint8))


def test_padding_reaches_the_multiple_even_for_tiny_inputs():
    assert pad_to_multiple(torch.zeros(1, 3, 100, 130), 128).shape[-2:] == (128, 256)
    assert pad_to_multiple(torch.zeros(1, 3, 5, 7), 128).shape[-2:] == (128, 128)


def test_tiled_unet_matches_whole_image_within_a_level_at_seams():
    net = _settled(build_arch("denoise_unet", base_channels=8, max_channels=16))
    model = Denoiser(net, CPU)
    image = (np.random.default_rng(0).random((384, 640, 3)) * 255).astype(np.uint8)

    def run(tile):
        plan = TilePlan(tile, 64, multiple=128)
        request = DenoiseRequest(1.0, NoiseKind.AUTO)
        return _finish(model.run(image, request, plan=plan, cancel=None))

    whole, whole_steps = run(1024)
    tiled, tiled_steps = run(256)
    assert len(whole_steps) == 1 and len(tiled_steps) > 4
    diff = np.abs(whole.astype(int) - tiled.astype(int))
    assert diff.max() <= 2 and diff.mean() < 0.01


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_denoise_keeps_shape_dtype_and_strength_zero_is_identity(dtype):
    net = build_arch("denoise_unet", base_channels=4, max_channels=8)
    model = Denoiser(net, CPU)
    image = (np.random.default_rng(1).random((150, 170, 3)) * np.iinfo(dtype).max).astype(dtype)
    plan = TilePlan(128, 32, multiple=128)
    out, _ = _finish(model.run(image, DenoiseRequest(0.0, NoiseKind.AUTO), plan=plan, cancel=None))
    assert out.dtype == dtype and out.shape == image.shape
    assert np.array_equal(out, image)
    full, _ = _finish(model.run(image, DenoiseRequest(1.0, NoiseKind.AUTO), plan=plan, cancel=None))
    assert not np.array_equal(full, image)


def test_impulses_are_removed_but_real_blacks_survive():
    image = np.full((40, 40, 3), 0.5, np.float32)
    image[5:15, 5:15] = 0.0  # a genuinely black patch
    noisy = image.copy()
    noisy[30, 30] = 1.0  # salt
    noisy[25, 20, 1] = 0.0  # pepper in one channel
    cleaned = remove_impulses(noisy)
    assert cleaned[30, 30].tolist() == [0.5, 0.5, 0.5]
    assert cleaned[25, 20, 1] == 0.5
    assert np.all(cleaned[7:13, 7:13] == 0.0)


def _smooth_photo(h=256, w=320) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    image = np.stack([0.5 + 0.3 * np.sin(x / 17), 0.5 + 0.3 * np.cos(y / 23), x / w], -1)
    image[40:90, 60:140] = 0.0  # a black border-like area and a blown highlight
    image[150:200, 200:300] = 1.0
    return (image * 255).round().astype(np.uint8)


def _salt_and_pepper(image: np.ndarray, share: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = image.copy()
    hit = rng.random(image.shape[:2]) < share
    white = rng.random(image.shape[:2]) < 0.5
    noisy[hit & white], noisy[hit & ~white] = 255, 0
    return noisy


def test_impulse_share_tells_salt_and_pepper_from_grain_and_clipped_areas():
    clean = _smooth_photo()
    grain = np.clip(clean + np.random.default_rng(1).normal(0, 55, clean.shape), 0, 255)
    assert impulse_share(clean) < _IMPULSE_SHARE / 10
    assert impulse_share(grain.round().astype(np.uint8)) < _IMPULSE_SHARE
    assert impulse_share(_salt_and_pepper(clean, 0.05)) > _IMPULSE_SHARE


def test_dense_impulses_are_filled_from_clean_neighbours_and_areas_survive():
    clean = _smooth_photo()
    noisy = _salt_and_pepper(clean, 0.3)
    cleaned = remove_impulses(noisy.astype(np.float32) / 255) * 255
    error = np.abs(cleaned - clean)
    assert np.median(error) == 0  # untouched pixels stay exact
    assert error.mean() < np.abs(noisy.astype(np.float32) - clean).mean() / 8
    assert np.all(cleaned[45:85, 65:135] == 0) and np.all(cleaned[155:195, 205:295] == 255)


def test_auto_removes_impulses_first_only_when_there_are_many():
    torch.manual_seed(0)
    model = Denoiser(build_arch("denoise_resunet", base_channels=4), torch.device("cpu"))
    plan = TilePlan(128, 32, multiple=8)

    def run(image, noise):
        gen = model.run(image, DenoiseRequest(1.0, noise), plan=plan, cancel=None)
        return _finish(gen)[0]

    dusty = _salt_and_pepper(_smooth_photo(), 0.1)
    assert np.array_equal(run(dusty, NoiseKind.AUTO), run(dusty, NoiseKind.SALT_AND_PEPPER))
    clean = _smooth_photo()
    assert np.array_equal(run(clean, NoiseKind.AUTO), run(clean, NoiseKind.GAUSSIAN))


def test_regions_merge_near_holes_and_separate_far_ones():
    mask = np.zeros((2000, 3000), bool)
    mask[100:110, 100:120] = True
    mask[100:110, 160:170] = True  # within the context margin of the first
    mask[1800:1820, 2800:2810] = True
    regions, _ = find_regions(mask)
    assert len(regions) == 2
    first = regions[0]
    assert first.y0 <= 100 and first.y1 >= 110 and first.x0 <= 100 and first.x1 >= 170
    assert (first.y1 - first.y0) < 200  # a small crop, not the whole photo


def test_context_grows_with_a_blob_but_not_along_a_thin_scratch():
    mask = np.zeros((2000, 2000), bool)
    mask[200:260, 200:260] = True  # a 60 px stain: context as wide as the stain
    mask[1000:1003, 300:1500] = True  # a 1200 px long, 3 px wide scratch
    stain, scratch = find_regions(mask, max_side=4000)[0]
    assert (stain.y0, stain.y1, stain.x0, stain.x1) == (140, 320, 140, 320)
    assert scratch.y1 - scratch.y0 == 3 + 2 * 32  # only the minimum margin across it
    assert scratch.x1 - scratch.x0 == 1200 + 2 * 32


def test_feathered_alpha_is_one_in_the_hole_and_fades_outside():
    hole = np.zeros((50, 50), bool)
    hole[20:30, 20:30] = True
    alpha = feathered_alpha(hole)
    assert np.all(alpha[hole] == 1.0)
    assert 0 < alpha[25, 31] < 1 and alpha[25, 45] == 0


def _inpainter(resolution=128):
    torch.manual_seed(0)
    return Inpainter(build_arch("inpaint_gated", base_channels=4), CPU, resolution=resolution)


def test_inpaint_changes_only_the_hole_and_its_feathered_edge():
    rng = np.random.default_rng(2)
    image = (rng.random((300, 400, 3)) * 255).astype(np.uint8)
    mask = np.zeros((300, 400), bool)
    mask[100:130, 200:260] = True
    out, steps = _finish(_inpainter().run(image, InpaintRequest(mask), cancel=None))
    touched = feathered_alpha(mask) > 0
    assert np.array_equal(out[~touched], image[~touched])
    assert not np.array_equal(out[mask], image[mask])
    assert len(steps) == 1 and out.dtype == np.uint8


def test_what_the_network_outputs_outside_the_hole_never_reaches_the_photo():
    # The network is trained on the hole alone; at full resolution the feathered ring blends
    # the known pixels with themselves, so everything outside the hole is kept exactly.
    rng = np.random.default_rng(5)
    image = (rng.random((200, 240, 3)) * 255).astype(np.uint8)
    mask = np.zeros((200, 240), bool)
    mask[60:90, 100:150] = True
    out, _ = _finish(_inpainter(resolution=512).run(image, InpaintRequest(mask), cancel=None))
    assert np.array_equal(out[~mask], image[~mask])
    assert not np.array_equal(out[mask], image[mask])


def test_inpaint_runs_large_crops_at_the_model_resolution():
    model = _inpainter(resolution=128)
    seen = []
    predict = model.predict
    model.predict = lambda x: (seen.append(x.shape), predict(x))[1]
    image = np.full((1200, 1600, 3), 40000, np.uint16)
    mask = np.zeros((1200, 1600), bool)
    mask[200:1000, 300:1300] = True  # a big hole: its crop is larger than 128 px
    mask[600, 100:1500] = True  # and a one-pixel scratch that must survive the shrink
    out, _ = _finish(model.run(image, InpaintRequest(mask), cancel=None))
    assert out.dtype == np.uint16 and out.shape == image.shape
    assert max(seen[0][:2]) == 128
    assert not np.array_equal(out[600, 150], image[600, 150])


def test_colorize_keeps_full_resolution_luminance():
    torch.manual_seed(0)
    model = Colorizer(
        build_arch("colorize_unet", base_channels=4, max_channels=8), CPU, resolution=256
    )
    rng = np.random.default_rng(3)
    grey = (rng.random((900, 1200)) * 255).astype(np.uint8)  # detail far finer than 256 px
    image = np.repeat(grey[..., None], 3, axis=2)
    out, steps = _finish(model.run(image, ColorizeRequest(1.0), cancel=None))
    assert out.shape == image.shape and steps[-1].done == steps[-1].total
    l_in = luminance(to_unit(image))
    l_out = luminance(to_unit(out))
    assert np.abs(l_in - l_out).mean() < 1.0  # L is 0..100; every fine detail is kept
    assert np.corrcoef(l_in.ravel(), l_out.ravel())[0, 1] > 0.99


def test_colorize_strength_zero_gives_grey_and_keeps_16_bit():
    torch.manual_seed(0)
    model = Colorizer(build_arch("colorize_unet", base_channels=4, max_channels=8), CPU)
    image = (np.random.default_rng(4).random((100, 140, 3)) * 65535).astype(np.uint16)
    out, _ = _finish(model.run(image, ColorizeRequest(0.0), cancel=None))
    assert out.dtype == np.uint16
    spread = out.astype(int).max(axis=2) - out.astype(int).min(axis=2)
    assert spread.max() <= 300  # ~0.5 % of the 16-bit range: neutral grey


def test_colorize_chroma_gain_from_the_weight_file_scales_ab_and_strength_undoes_it():
    torch.manual_seed(0)
    net = build_arch("colorize_unet", base_channels=4, max_channels=8)
    with torch.no_grad():  # a mild, non-zero colour everywhere (a random net is near grey)
        net.final[0].bias.copy_(torch.tensor([0.08, 0.12]))
    image = np.repeat(np.linspace(60, 200, 96 * 128).reshape(96, 128, 1), 3, axis=2)
    image = image.round().astype(np.uint8)
    plain = Colorizer(copy.deepcopy(net), CPU)
    vivid = Colorizer(copy.deepcopy(net), CPU)
    vivid.use_meta({"chroma_gain": 1.5}, "vivid.pt")
    assert plain.chroma_gain == 1.0 and vivid.chroma_gain == 1.5

    def ab(model, strength):
        out, _ = _finish(model.run(image, ColorizeRequest(strength), cancel=None))
        return rgb_to_lab(out.astype(np.float32) / 255)[..., 1:]

    base = ab(plain, 1.0)
    assert np.abs(base).mean() > 2.0
    np.testing.assert_allclose(ab(vivid, 1.0), 1.5 * base, atol=1.5)
    np.testing.assert_allclose(ab(vivid, 1 / 1.5), base, atol=1.0)


@pytest.mark.parametrize("gain", [0, -1.0, 3.5, "2", True, None])
def test_colorize_refuses_a_bad_chroma_gain_naming_the_file(gain):
    model = Colorizer(build_arch("colorize_unet", base_channels=4, max_channels=8), CPU)
    with pytest.raises(ModelUnavailable, match=r"odd\.pt.*chroma_gain"):
        model.use_meta({"chroma_gain": gain}, "odd.pt")
    assert model.chroma_gain == 1.0


def test_scattered_dust_is_filled_in_crops_the_model_sees_at_full_resolution():
    rng = np.random.default_rng(6)
    mask = np.zeros((3000, 4000), bool)
    for y, x in zip(rng.integers(0, 2990, 800), rng.integers(0, 3990, 800), strict=True):
        mask[y : y + 3, x : x + 3] = True
    regions, labels = find_regions(mask, max_side=512)
    assert len(regions) > 20
    assert all(max(r.y1 - r.y0, r.x1 - r.x0) <= 512 for r in regions)
    owned = np.zeros_like(mask)
    for r in regions:
        owned[r.y0 : r.y1, r.x0 : r.x1] |= np.isin(labels[r.y0 : r.y1, r.x0 : r.x1], r.labels)
    assert np.array_equal(owned, mask)  # every hole belongs to exactly the crops listed


def test_colorize_keeps_16_bit_luminance_exactly_at_strength_zero():
    torch.manual_seed(0)
    model = Colorizer(build_arch("colorize_unet", base_channels=4, max_channels=8), CPU)
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    image = np.repeat(ramp[..., None], 3, axis=2)
    out, _ = _finish(model.run(image, ColorizeRequest(0.0), cancel=None))
    assert np.array_equal(out, image)  # all 65536 grey levels survive the LAB round trip


def test_shipped_denoiser_tiles_without_seams_on_a_real_scan():
    """The shipped weights' effective field fits the overlap their margin asks for: a scan
    cut into 256 px tiles denoises like the whole scan at once."""
    from engine import api

    scan = api.read_image(ROOT / "resources" / "samples" / "old_photo_b.png").pixels[:512, :640]
    whole = api.denoise(scan, options=api.RunOptions(device="cpu", tile=1024))
    tiled = api.denoise(scan, options=api.RunOptions(device="cpu", tile=256))
    diff = np.abs(whole.astype(int) - tiled.astype(int))
    # Measured with the shipped denoise_cond over a scan this finely tiled (about half its
    # pixels lie in overlaps): at most 4 levels, 0.06 on average (0.04 in float32), the
    # U-Net's field reaching past the tile's edge, spread over the 64 px overlap by the
    # cross-fade (no step at a tile edge, which the row/column check below would catch).
    # Tiles that started off the network's 8 px grid (here 148 px down) were computed
    # differently all over: 12 levels, 37 values over 8, 0.21 on average. The plain U-Net
    # before it: 3 and 0.07.
    assert diff.max() <= 5 and diff.mean() < 0.1
    # No seam: the jump between neighbouring rows/columns is no larger in the tiled result.
    for axis in (0, 1):
        steps_whole = np.abs(np.diff(whole.astype(int), axis=axis)).mean()
        steps_tiled = np.abs(np.diff(tiled.astype(int), axis=axis)).mean()
        assert steps_tiled <= steps_whole * 1.02
