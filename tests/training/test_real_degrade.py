"""training.data.real_degrade: each step's noise has its intended statistics, and the pipeline
is deterministic, unbiased, and honours its step probabilities and random order."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from training.data import real_noise as ops
from training.data.degrade import NoiseConfig, add_gaussian, degrade
from training.data.folders import TrainingDataError
from training.data.real_degrade import STEPS, RealNoiseConfig, degrade_real


def _flat(value, size: int = 96) -> np.ndarray:
    colour = np.broadcast_to(np.asarray(value, np.float32), (3,))
    return np.ones((size, size, 3), np.float32) * colour


def _photo(seed: int = 0, size: int = 48, texture: float = 0.1) -> np.ndarray:
    """Smooth shapes plus fine random texture of amplitude `texture`, in [0.05, 0.95]."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([x, y, 0.5 + 0.3 * np.sin(6 * x * y)], axis=-1)
    fine = rng.random((size, size, 3)) * texture
    return (0.05 + 0.8 * base + fine).astype(np.float32)


def _only(*steps: str, **overrides) -> RealNoiseConfig:
    """A config that runs exactly `steps` (no legacy sample, no JPEG unless named)."""
    probs = {f"{step}_prob": float(step in steps) for step in (*STEPS, "jpeg")}
    return RealNoiseConfig(legacy_prob=0.0, **{**probs, **overrides})


def _channel_corr(noise: np.ndarray) -> np.ndarray:
    """The three off-diagonal inter-channel correlations (R-G, R-B, G-B)."""
    corr = np.corrcoef(noise[4:-4, 4:-4].reshape(-1, 3).T)
    return corr[np.triu_indices(3, 1)]


def _lag1(noise: np.ndarray) -> float:
    """Horizontal lag-1 autocorrelation of channel 1, away from the borders."""
    field = noise[4:-4, 4:-4, 1]
    return float(np.corrcoef(field[:, :-1].ravel(), field[:, 1:].ravel())[0, 1])


# --- sensor noise ---------------------------------------------------------------------------


def test_shot_read_noise_variance_is_a_x_plus_b_in_linear_light():
    rng = np.random.default_rng(0)
    shot, read = 0.004, 2e-5
    levels = np.array([0.15, 0.35, 0.55, 0.75, 0.9])
    linear = ops.srgb_to_linear(levels.astype(np.float32))
    variances = []
    for value in levels:
        image = _flat(value, 128)
        noisy = ops.camera_noise(image, rng, shot, read)
        variances.append(np.var(ops.srgb_to_linear(noisy) - ops.srgb_to_linear(image)))
    assert np.all(np.diff(variances) > 0)  # heteroscedastic: grows with brightness
    slope, intercept = np.polyfit(linear, variances, 1)
    assert slope == pytest.approx(shot, rel=0.1)
    assert intercept == pytest.approx(read, abs=1e-4)


def test_shot_noise_level_in_srgb_follows_the_curve_slope():
    rng = np.random.default_rng(1)
    image, shot, read = _flat(0.5, 128), 0.002, 1e-5
    noise = ops.camera_noise(image, rng, shot, read) - image
    x = float(ops.srgb_to_linear(np.float32(0.5)))
    slope = 1.055 / 2.4 * x ** (1 / 2.4 - 1)  # d sRGB / d linear
    expected = slope * np.sqrt(shot * x + read)
    assert np.std(noise) == pytest.approx(expected, rel=0.05)


def test_white_balance_gain_makes_red_and_blue_noisier():
    noise = ops.camera_noise(_flat(0.5, 128), np.random.default_rng(2), 0.003, 1e-5, (2.2, 1, 1.7))
    red, green, blue = noise.reshape(-1, 3).std(axis=0)
    assert red > blue > green


def test_demosaicked_noise_is_channel_correlated_and_per_channel_noise_is_not():
    rng, image = np.random.default_rng(3), _flat(0.5, 128)
    mosaic = ops.camera_noise(image, rng, 0.003, 1e-5, pattern="GRBG") - image
    separate = ops.camera_noise(image, rng, 0.003, 1e-5) - image
    assert np.all(_channel_corr(mosaic) > 0.2)
    assert np.all(np.abs(_channel_corr(separate)) < 0.05)
    assert _lag1(mosaic) > 0.2 and abs(_lag1(separate)) < 0.05


@pytest.mark.parametrize("pattern", sorted(ops.BAYER_PATTERNS))
def test_demosaic_reproduces_a_uniform_colour_exactly(pattern):
    colour = np.array([0.7, 0.4, 0.2], np.float32)
    sites = ops.bayer_sites(10, 12, pattern)
    restored = ops.demosaic(colour[sites], pattern)
    np.testing.assert_allclose(restored, np.broadcast_to(colour, (10, 12, 3)), atol=1e-6)


def test_colour_noise_has_the_configured_level_and_correlation():
    image = _flat(0.5, 128)
    noise = ops.colour_noise(image, np.random.default_rng(4), 8.0, 0.6) - image
    assert np.std(noise) * 255 == pytest.approx(8.0, rel=0.05)
    np.testing.assert_allclose(_channel_corr(noise), 0.6, atol=0.05)
    white = add_gaussian(image, np.random.default_rng(4), 8.0, clip=False) - image
    assert np.all(np.abs(_channel_corr(white)) < 0.05)
    assert abs(_lag1(white)) < 0.05


# --- spatially correlated noise -------------------------------------------------------------


def test_film_grain_level_and_grain_size():
    image = _flat(0.5, 128)
    lags = []
    for strength in (0.5, 0.8, 0.95):
        rng = np.random.default_rng(5)
        grain = ops.film_grain(image, rng, 10.0, 0.7, strength, 0.3, (1.0, 1.0)) - image
        assert np.std(grain) * 255 == pytest.approx(10.0, rel=0.1)
        lags.append(_lag1(grain))
    assert lags[0] > 0.15 and lags[-1] > 0.6
    assert np.all(np.diff(lags) > 0.1)  # a stronger AR filter makes larger grain


def test_film_grain_chroma_share_sets_the_channel_correlation():
    image = _flat(0.5, 128)
    luma_only = ops.film_grain(image, np.random.default_rng(6), 8, 0.7, 0.8, 0.0, (1, 1))
    mixed = ops.film_grain(image, np.random.default_rng(6), 8, 0.7, 0.8, 0.6, (1, 1))
    np.testing.assert_allclose(_channel_corr(luma_only - image), 1.0, atol=1e-4)
    np.testing.assert_allclose(_channel_corr(mixed - image), 1 - 0.6**2, atol=0.08)


def test_film_grain_strength_follows_the_luma_scaling():
    dark_light = np.concatenate([_flat(0.1, 64), _flat(0.9, 64)], axis=1)
    grain = ops.film_grain(dark_light, np.random.default_rng(7), 10, 0.7, 0.8, 0.2, (1.0, 0.2))
    noise = grain - dark_light
    dark, light = noise[:, 4:60].std(), noise[:, 68:124].std()
    expected_ratio = np.interp(0.1, [0, 1], [1.0, 0.2]) / np.interp(0.9, [0, 1], [1.0, 0.2])
    assert dark / light == pytest.approx(expected_ratio, rel=0.15)


@pytest.mark.parametrize("shared", [True, False])
def test_blurred_noise_level_and_spatial_correlation(shared):
    image = _flat(0.5, 128)
    for scale, min_lag in ((0.5, 0.2), (1.2, 0.8)):
        noise = ops.blurred_noise(image, np.random.default_rng(8), 6.0, scale, shared) - image
        assert np.std(noise) * 255 == pytest.approx(6.0, rel=0.1)
        assert _lag1(noise) > min_lag
    corr = _channel_corr(noise)
    assert np.all(corr > 0.99) if shared else np.all(np.abs(corr) < 0.1)


# --- scan effects and JPEG ------------------------------------------------------------------


def _blockiness(image: np.ndarray) -> float:
    """Mean step across 8×8 block boundaries over the mean step inside blocks."""
    steps = np.abs(np.diff(image.mean(axis=2), axis=1))
    boundary = steps[:, 7::8]
    inside = np.delete(steps, np.s_[7::8], axis=1)
    return float(boundary.mean() / inside.mean())


def test_lower_jpeg_quality_means_larger_error_and_more_blockiness():
    image = _photo(size=64, texture=0.04)  # JPEG keeps the texture at high quality only
    errors, blocks = [], []
    for quality in (95, 60, 30):
        out = ops.jpeg(image, quality)
        assert out.dtype == np.float32 and out.shape == image.shape
        errors.append(np.sqrt(np.mean((out - image) ** 2)))
        blocks.append(_blockiness(out))
    assert errors[0] < errors[1] < errors[2]
    assert blocks[0] < blocks[1] < blocks[2] and blocks[2] > 1.2
    assert _blockiness(image) == pytest.approx(1.0, abs=0.1)
    shifted = ops.jpeg(image, 30, (3, 5))
    assert shifted.shape == image.shape and _blockiness(shifted) < blocks[2]


def test_blur_and_resize_soften_without_shifting_the_image():
    image = _photo(size=48)
    for out in (
        ops.gaussian_blur(image, 1.0),
        ops.defocus_blur(image, 1.3),
        ops.rescale(image, 0.6, 3, 1),
    ):
        assert out.shape == image.shape
        assert np.abs(np.diff(out, axis=1)).mean() < np.abs(np.diff(image, axis=1)).mean()
        assert np.abs(out.mean() - image.mean()) < 0.005


# --- the pipeline ---------------------------------------------------------------------------


def test_output_is_a_clipped_8_bit_float_image_of_the_same_shape():
    image = _photo(size=40)[:, :36]
    rng = np.random.default_rng(9)
    for _ in range(40):
        out, info = degrade_real(image, rng, RealNoiseConfig(legacy_prob=0.0))
        assert out.dtype == np.float32 and out.shape == image.shape
        assert out.min() >= 0.0 and out.max() <= 1.0
        np.testing.assert_array_equal(np.rint(out * 255) / np.float32(255), out)
        assert info.noise_sigma >= 0 and info.rmse >= 0


def test_same_seed_same_output():
    image = _photo()
    for seed in range(8):
        first = degrade_real(image, np.random.default_rng(seed))
        second = degrade_real(image, np.random.default_rng(seed))
        np.testing.assert_array_equal(first[0], second[0])
        assert first[1] == second[1]
    other = degrade_real(image, np.random.default_rng(100))[0]
    assert not np.array_equal(other, degrade_real(image, np.random.default_rng(101))[0])


def test_legacy_share_is_exactly_todays_degradation():
    image = _photo()
    out, info = degrade_real(image, np.random.default_rng(10), RealNoiseConfig(legacy_prob=1.0))
    rng = np.random.default_rng(10)
    rng.random()  # the draw that chose the legacy path
    expected, kind = degrade(image, rng, NoiseConfig())
    np.testing.assert_array_equal(out, expected)
    assert info.legacy and info.steps[0][1]["kind"] == kind


def test_noise_sigma_measures_the_noise_steps_only():
    image = _flat(0.5, 64)
    _, white = degrade_real(image, np.random.default_rng(11), _only("white", white_sigma=(9, 9)))
    assert white.noise_sigma == pytest.approx(9.0, rel=0.05)
    _, blurred = degrade_real(image, np.random.default_rng(11), _only("blur", "resize", "jpeg"))
    assert blurred.noise_sigma == 0.0


def test_step_probabilities_and_random_order_are_respected():
    cfg = RealNoiseConfig(
        legacy_prob=0.1, camera_prob=0.5, grain_prob=0.3, blur_prob=0.5, white_prob=0.5
    )
    rng, image, draws = np.random.default_rng(12), _photo(size=16), 800
    counts = dict.fromkeys((*STEPS, "jpeg", "legacy"), 0)
    before = {pair: [0, 0] for pair in itertools.permutations(("camera", "blur", "white"), 2)}
    for _ in range(draws):
        names = degrade_real(image, rng, cfg)[1].names
        for name in names:
            counts[name] += 1
        assert "jpeg" not in names or names[-1] == "jpeg"
        for (a, b), tally in before.items():
            if a in names and b in names:
                tally[names.index(a) < names.index(b)] += 1
    assert abs(counts["legacy"] / draws - 0.1) < 0.035
    modern = draws - counts["legacy"]
    for step in (*STEPS, "jpeg"):
        p = cfg.probability(step)
        tolerance = 4 * np.sqrt(p * (1 - p) / modern) + 1e-9
        assert abs(counts[step] / modern - p) <= tolerance, step
    for pair, (after, first) in before.items():
        assert abs(first / (first + after) - 0.5) < 0.12, pair


@pytest.mark.parametrize("colour", [0.5, 0.25, 0.75, (0.6, 0.45, 0.3)])
def test_flat_image_mean_is_unbiased(colour):
    image, rng = _flat(colour, 32), np.random.default_rng(13)
    shift = np.mean([(degrade_real(image, rng)[0] - image).mean((0, 1)) for _ in range(200)], 0)
    shift_levels = shift * 255
    assert np.all(np.abs(shift_levels) < 1.0)  # brightness
    assert np.ptp(shift_levels) < 0.75  # colour cast


def test_config_rejects_bad_values():
    with pytest.raises(TrainingDataError):
        RealNoiseConfig(camera_prob=1.5)
    with pytest.raises(TrainingDataError):
        RealNoiseConfig(grain_sigma=(5.0, 2.0))
    with pytest.raises(TrainingDataError):
        RealNoiseConfig(grain_strength=(0.5, 1.0))
    with pytest.raises(TrainingDataError):
        RealNoiseConfig(jpeg_quality=(0, 90))


def test_the_reference_is_the_clean_picture_blurred_as_the_noisy_one_was():
    image = _photo(seed=3, size=64, texture=0.3)
    out, info = degrade_real(image, np.random.default_rng(13), _only("blur", "resize"))
    assert info.reference.shape == image.shape and info.reference.dtype == np.float32
    # Only blur / resize ran: the result is the reference on the 8-bit grid, not the original.
    np.testing.assert_allclose(out, info.reference, atol=0.5 / 255 + 1e-6)
    assert np.abs(info.reference - image).mean() > 0.01
    assert info.rmse < 0.3
    _, plain = degrade_real(image, np.random.default_rng(13), _only("white"))
    np.testing.assert_array_equal(plain.reference, np.clip(image, 0, 1))  # no blur: clean
