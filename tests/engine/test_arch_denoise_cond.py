"""The noise-level-conditioned denoiser (`engine.archs.denoise_cond`), at tiny widths."""

from __future__ import annotations

import json

import pytest
import torch

from engine.archs import Generator, build_arch
from engine.archs.denoise_cond import GRID, DenoiseCond, rms_pool

TINY = {"base_channels": 4, "blocks": 1, "outer_blocks": 1, "estimator_channels": 4}


def _tiny(**changes: int) -> DenoiseCond:
    net = build_arch("denoise_cond", **{**TINY, **changes})
    assert isinstance(net, DenoiseCond)
    return net.eval()


def _image(height: int = 64, width: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, height, width, generator=g) * 1.6 - 0.8


def test_contract_matches_the_shipped_unet() -> None:
    net = build_arch("denoise_cond")
    assert isinstance(net, Generator) and net.task == "denoise" and net.conditioned
    assert net.size_multiple == 8 and net.bfloat16_safe and net.receptive_margin() == 32
    assert net.grows_from == ("denoise_resunet",)
    plain = build_arch("denoise_resunet", base_channels=24, blocks=3, outer_blocks=2)
    assert plain.bytes_per_pixel() < net.bytes_per_pixel() < 1.2 * plain.bytes_per_pixel()
    assert net.arch_kwargs == {
        "base_channels": 24,
        "blocks": 3,
        "outer_blocks": 2,
        "estimator_channels": 24,
    }


@pytest.mark.parametrize("size", [(64, 64), (40, 56), (8, 16)])
def test_shapes_and_range_on_several_sizes(size: tuple[int, int]) -> None:
    net = _tiny()
    x = _image(*size) * 2  # out-of-range input still gives [-1, 1]
    with torch.inference_mode():
        y, level = net(x, return_level=True)
    assert y.shape == x.shape and level.shape == (2, 1, size[0] // GRID, size[1] // GRID)
    assert y.min() >= -1.0 and y.max() <= 1.0 and bool((level >= 0).all())
    assert net.estimate_level(x).shape == level.shape


def test_strength_zero_returns_the_input_and_strength_turns_both_ways() -> None:
    net = _tiny()
    with torch.no_grad():  # as if trained: the level input starts at zero
        net.level_in.weight.normal_(0.0, 0.5)
    x = _image()
    with torch.inference_mode():
        assert torch.equal(net(x, strength=0.0), x)
        assert torch.equal(net(x, level=0.0), x)
        per_image = net(x, strength=torch.tensor([0.0, 1.0]))
        assert torch.equal(per_image[0], x[0])
        assert torch.equal(per_image[1], net(x)[1])
        # The level the network is told is the estimate times the strength, in any form.
        estimate = net.estimate_level(x)
        torch.testing.assert_close(net(x, strength=2.0), net(x, level=2 * estimate))
        assert not torch.equal(net(x, strength=0.5), net(x, strength=2.0))


def test_level_forms_agree() -> None:
    net = _tiny()
    x = _image(32, 48)
    with torch.inference_mode():
        scalar = net(x, level=10.0)
        torch.testing.assert_close(net(x, level=torch.tensor([10.0, 10.0])), scalar)
        torch.testing.assert_close(net(x, level=torch.full((2, 1, 1, 1), 10.0)), scalar)
        torch.testing.assert_close(net(x, level=torch.full((2, 1, 4, 6), 10.0)), scalar)
        torch.testing.assert_close(net(x, level=torch.full((2, 1, 32, 48), 10.0)), scalar)
        with pytest.raises(ValueError, match="level map"):
            net(x, level=torch.ones(2, 1, 5, 5))


def test_rms_pool_gives_the_rms_of_each_cell() -> None:
    level = torch.full((1, 1, 32, 32), 3.0)
    level[..., ::2, :] = 4.0  # RMS of 3 and 4 = 3.54
    pooled = rms_pool(level)
    assert pooled.shape == (1, 1, 4, 4)
    torch.testing.assert_close(pooled, torch.full_like(pooled, 12.5**0.5))


def _fit_estimator(net: DenoiseCond, steps: int) -> None:
    """A few Adam steps on white noise of known σ: enough to order the levels."""
    opt = torch.optim.Adam(net.estimator.parameters(), 1e-2)
    g = torch.Generator().manual_seed(3)
    for _ in range(steps):
        clean = torch.rand(4, 3, 32, 32, generator=g).mul(0.6).sub(0.3)
        sigma = torch.rand(4, 1, 1, 1, generator=g) * 40
        noisy = clean + torch.randn(clean.shape, generator=g) * sigma / 127.5
        loss = (net.estimate_level(noisy) - sigma).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_the_estimated_level_rises_with_the_noise() -> None:
    torch.manual_seed(0)
    net = _tiny(estimator_channels=8).train()
    _fit_estimator(net, steps=300)
    g = torch.Generator().manual_seed(9)
    clean = _image(64, 64, seed=5) * 0.4
    noise = torch.randn(clean.shape, generator=g)
    with torch.inference_mode():
        levels = [
            float(net.estimate_level(clean + noise * s / 127.5).mean()) for s in (0, 5, 15, 30)
        ]
    assert levels == sorted(levels) and levels[-1] > levels[0] + 10, levels


def test_every_parameter_trains_in_one_blind_forward() -> None:
    net = _tiny().train()
    x = _image(32, 32)
    y, level = net(x, return_level=True)
    (y.square().mean() + level.mean()).backward()
    assert [n for n, p in net.named_parameters() if p.grad is None] == []


def test_build_arch_round_trip() -> None:
    net = _tiny()
    stored = json.loads(json.dumps({"arch": net.arch_name, "kwargs": net.arch_kwargs}))
    clone = build_arch(stored["arch"], **stored["kwargs"]).eval()
    clone.load_state_dict(net.state_dict(), strict=True)
    x = _image()
    with torch.inference_mode():
        assert torch.equal(net(x), clone(x))


def test_starting_from_a_plain_unet_keeps_what_it_computed() -> None:
    plain = build_arch("denoise_resunet", base_channels=4, blocks=1).eval()
    net = _tiny(blocks=2)
    net.grow_from(plain.state_dict(), plain.arch_kwargs)
    x = _image()
    with torch.inference_mode():  # above one level of damage the gate is open: same result
        torch.testing.assert_close(net(x, level=20.0), plain(x))


def test_growing_from_a_smaller_conditioned_network_copies_the_estimator() -> None:
    small = _tiny()
    with torch.no_grad():
        small.level_in.weight.fill_(0.1)
    big = _tiny(blocks=2)
    big.grow_from(small.state_dict(), small.arch_kwargs)
    x = _image()
    with torch.inference_mode():
        torch.testing.assert_close(big(x), small(x))
