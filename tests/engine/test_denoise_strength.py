"""Denoise strength goes both ways with a noise-level model, and only down without one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import api
from engine.archs import build_arch
from engine.weights import save_weights


def _noisy(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 210, 64, dtype=np.float32)[None, :, None]
    clean = np.repeat(np.repeat(ramp, 48, axis=0), 3, axis=2)
    return np.clip(clean + rng.normal(0, 12, clean.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def conditioned(tmp_path) -> api.RunOptions:
    torch.manual_seed(0)
    net = build_arch("denoise_cond", base_channels=4)
    with torch.no_grad():  # a level input that matters, as a trained network's does
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    save_weights(tmp_path / "cond.pt", net, task="denoise")
    return api.RunOptions(weights=tmp_path / "cond.pt", device="cpu", precision="full")


def _change(out: np.ndarray, noisy: np.ndarray) -> float:
    return float(np.abs(out.astype(np.float32) - noisy).mean())


def test_a_noise_level_model_turns_both_ways_and_zero_is_the_input(conditioned):
    noisy = _noisy()
    results = {s: api.denoise(noisy, strength=s, options=conditioned) for s in (0.0, 0.5, 1, 2)}
    assert np.array_equal(results[0.0], noisy)
    # Each strength is its own network call (not a blend): 2 differs from 1 as 0.5 does.
    assert not np.array_equal(results[2], results[1])
    assert not np.array_equal(results[0.5], results[1])
    blend = np.round(noisy + 0.5 * (results[1].astype(np.float32) - noisy)).astype(np.uint8)
    assert not np.array_equal(results[0.5], blend)
    assert _change(results[0.5], noisy) > 0


def test_a_model_without_a_level_input_blends_below_one_and_stays_full_above(tmp_path):
    net = build_arch("denoise_resunet", base_channels=4)
    save_weights(tmp_path / "plain.pt", net, task="denoise")
    options = api.RunOptions(weights=tmp_path / "plain.pt", device="cpu", precision="full")
    noisy = _noisy(1)
    full = api.denoise(noisy, strength=1.0, options=options)
    assert np.array_equal(api.denoise(noisy, strength=2.0, options=options), full)
    assert np.array_equal(api.denoise(noisy, strength=0.0, options=options), noisy)


@pytest.mark.parametrize("strength", [-0.1, 2.01, float("nan"), "strong"])
def test_strength_outside_zero_to_two_is_refused_naming_the_range(strength):
    with pytest.raises(api.InvalidRequest, match="strength must be .*between 0 and 2"):
        api.DenoiseRequest(strength=strength)
