"""The public API: typed calls, validation, progress, cancellation and engine errors."""

from __future__ import annotations

import numpy as np
import pytest

from engine import api
from engine.tasks.base import InferenceModel


@pytest.fixture
def options(tiny_resources):
    return api.RunOptions(device="cpu", resources=tiny_resources)


def _photo(h=200, w=260, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((h, w, 3)) * np.iinfo(dtype).max).astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_each_task_returns_a_new_image_of_the_same_shape_and_depth(options, dtype):
    image = _photo(dtype=dtype)
    before = image.copy()
    mask = np.zeros(image.shape[:2], bool)
    mask[50:80, 60:120] = True
    results = [
        api.denoise(image, options=options),
        api.inpaint(image, mask, options=options),
        api.colorize(image, options=options),
    ]
    for result in results:
        assert result.shape == image.shape and result.dtype == dtype
        assert result is not image
    assert np.array_equal(image, before)  # the caller's pixels are never touched


def test_progress_is_reported_up_to_completion(options):
    seen = []
    api.denoise(
        _photo(300, 400),
        options=api.RunOptions(device="cpu", resources=options.resources, tile=128),
        progress=seen.append,
    )
    assert len(seen) > 1 and all(p.task == "denoise" for p in seen)
    assert seen[-1].fraction == 1.0
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_cancel_token_stops_the_work(options):
    token = api.CancelToken()
    seen = []

    def cancel_after_first(progress):
        seen.append(progress)
        token.cancel()

    with pytest.raises(api.Cancelled):
        api.denoise(
            _photo(300, 400),
            options=api.RunOptions(device="cpu", resources=options.resources, tile=128),
            progress=cancel_after_first,
            cancel=token,
        )
    assert len(seen) == 1


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float64),
        np.full((10, 10, 3), np.nan, np.float32),
        np.zeros((0, 10, 3), np.uint8),
        [[1, 2, 3]],
    ],
)
def test_unsupported_images_are_refused_by_type(options, bad):
    with pytest.raises(api.UnsupportedImage):
        api.denoise(bad, options=options)


def test_float_input_is_denoised_unclipped_and_only_by_denoise(options):
    """float32 serves the papers' benchmark protocol: noise that overshoots [0, 1] stays
    information, and the result is returned as float without rounding."""
    pixels = _photo().astype(np.float32) / 255.0
    noisy = pixels + np.random.default_rng(0).normal(0, 0.1, pixels.shape).astype(np.float32)
    assert noisy.min() < 0 < 1 < noisy.max()
    out = api.denoise(noisy, options=options)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    same = api.denoise(noisy, strength=0.0, options=options)
    np.testing.assert_allclose(same, noisy, atol=1e-6)  # nothing rounded or clipped away
    # In range, float input gives what the same image as 16-bit gives.
    clipped = np.clip(noisy, 0, 1)
    as16 = np.round(clipped * 65535).astype(np.uint16)
    from16 = api.denoise(as16, options=options).astype(np.float32) / 65535
    np.testing.assert_allclose(api.denoise(as16 / np.float32(65535), options=options), from16,
                               atol=2e-4)  # fmt: skip
    with pytest.raises(api.UnsupportedImage, match="uint8 or uint16"):
        api.colorize(noisy, options=options)


def test_out_of_range_settings_are_invalid_requests(options):
    with pytest.raises(api.InvalidRequest, match="strength"):
        api.denoise(_photo(), strength=2.5, options=options)
    with pytest.raises(api.InvalidRequest, match="tile"):
        api.denoise(
            _photo(), options=api.RunOptions(device="cpu", tile=8, resources=options.resources)
        )
    with pytest.raises(api.InvalidRequest, match="mask"):
        api.inpaint(_photo(), np.ones((5, 5), bool), options=options)
    with pytest.raises(api.InvalidRequest, match="noise kind 'bogus'"):
        api.denoise(_photo(), noise="bogus", options=options)
    with pytest.raises(api.InvalidRequest, match="strength"):
        api.colorize(_photo(), strength="x", options=options)
    with pytest.raises(api.InvalidRequest, match="threads"):
        api.denoise(_photo(), options=api.RunOptions(threads=0, resources=options.resources))
    with pytest.raises(api.InvalidRequest, match="precision must be one of auto, full"):
        api.denoise(_photo(), options=api.RunOptions(precision="half", resources=options.resources))


def test_full_precision_is_a_separate_float32_model(options):
    photo = _photo()
    full = api.RunOptions(device="cpu", resources=options.resources, precision=api.Precision.FULL)
    exact = api.denoise(photo, options=full)
    assert np.array_equal(api.denoise(photo, options=full), exact)  # deterministic
    auto = api.denoise(photo, options=options)
    assert np.abs(auto.astype(int) - exact).max() <= 2  # bfloat16 where native: a level or two


def test_a_weight_file_holding_a_critic_or_another_tasks_net_is_refused(tmp_path):
    from engine.archs import build_arch
    from engine.weights import save_weights

    critic = build_arch("denoise_patchgan", base_channels=4, max_channels=8)
    save_weights(tmp_path / "critic.pt", critic, task="denoise")
    with pytest.raises(api.ModelUnavailable, match="discriminator"):
        api.denoise(_photo(), options=api.RunOptions(weights=tmp_path / "critic.pt"))
    unet = build_arch("denoise_unet", base_channels=4, max_channels=8)
    save_weights(tmp_path / "mislabelled.pt", unet, task="colorize")
    with pytest.raises(api.ModelUnavailable, match="not a colorize generator"):
        api.colorize(_photo(), options=api.RunOptions(weights=tmp_path / "mislabelled.pt"))


def test_unexpected_failures_still_arrive_as_engine_errors(options, monkeypatch):
    def broken(self, array, **settings):
        raise ValueError("operands could not be broadcast")

    monkeypatch.setattr(InferenceModel, "predict", broken)
    with pytest.raises(api.EngineError, match="denoise failed: ValueError"):
        api.denoise(_photo(), options=options)


def test_an_empty_mask_returns_the_image_unchanged_without_a_model(tmp_path):
    image = _photo()
    out = api.inpaint(
        image, np.zeros(image.shape[:2], bool), options=api.RunOptions(resources=tmp_path)
    )
    assert np.array_equal(out, image)


def test_missing_model_is_model_unavailable(tmp_path):
    with pytest.raises(api.ModelUnavailable, match="no denoise model is installed"):
        api.denoise(_photo(), options=api.RunOptions(device="cpu", resources=tmp_path))


def test_explicit_weight_file_is_used(tiny_weights, tmp_path):
    out = api.colorize(
        _photo(),
        options=api.RunOptions(device="cpu", resources=tmp_path, weights=tiny_weights["colorize"]),
    )
    assert out.shape == (200, 260, 3)


def test_unavailable_device_is_a_device_error(options, monkeypatch):
    from engine import devices

    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu"])
    with pytest.raises(api.DeviceUnavailable, match="available: cpu"):
        api.denoise(_photo(), options=api.RunOptions(device="cuda", resources=options.resources))


def test_out_of_memory_outside_tiling_becomes_an_engine_error(options, monkeypatch):
    def exhausted(self, array):
        raise RuntimeError("CUDA out of memory. Tried to allocate 8.00 GiB")

    monkeypatch.setattr(InferenceModel, "predict", exhausted)
    with pytest.raises(api.OutOfMemory, match="colorize"):
        api.colorize(_photo(), options=options)


def test_denoise_salt_and_pepper_uses_the_blind_model_and_removes_impulses(options):
    image = np.full((128, 128, 3), 120, np.uint8)
    noisy = image.copy()
    rng = np.random.default_rng(5)
    ys, xs = rng.integers(0, 128, 300), rng.integers(0, 128, 300)
    noisy[ys, xs] = 255
    plain = api.denoise(noisy, noise=api.NoiseKind.AUTO, options=options)
    cleaned = api.denoise(noisy, noise=api.NoiseKind.SALT_AND_PEPPER, options=options)
    assert np.abs(cleaned.astype(int) - 120).mean() < np.abs(plain.astype(int) - 120).mean()
