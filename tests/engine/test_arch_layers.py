"""Tests of the shared layers and of what particular networks compute (gated convs, fills,
attention, the ResUNet's growth). Tiny widths, small inputs: seconds on 2 CPU cores.
"""

from __future__ import annotations

import pytest
import torch
from arch_support import (
    _example_input,
)
from torch import nn

import engine.archs.layers as layers
from engine.archs import (
    UnknownArchitecture,
    build_arch,
)
from engine.archs.layers import (
    GatedConv2d,
    GatedUpConv2d,
    SelfAttention,
    SpectralConv2d,
    chunked_attention,
    count_parameters,
)

# --- shared layers -------------------------------------------------------------------------


@pytest.mark.parametrize("grad", [True, False])  # training path and in-place inference path
def test_gated_conv_gate_really_gates(grad: bool) -> None:
    torch.manual_seed(0)
    conv = GatedConv2d(3, 5, 3, activation="elu")
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        conv.gate.bias.fill_(-100.0)
    with torch.set_grad_enabled(grad):
        closed = conv(x)
    assert closed.abs().max() < 1e-20

    with torch.no_grad():
        conv.gate.bias.fill_(100.0)
        expected = nn.functional.elu(conv.feature(x))
    with torch.set_grad_enabled(grad):
        opened = conv(x)
    torch.testing.assert_close(opened, expected)


def test_gated_conv_geometry_and_activations() -> None:
    x = torch.randn(1, 2, 16, 16)
    assert GatedConv2d(2, 3, 5)(x).shape == (1, 3, 16, 16)  # 'same' padding
    assert GatedConv2d(2, 3, 3, dilation=8)(x).shape == (1, 3, 16, 16)
    assert GatedConv2d(2, 3, 3, stride=2)(x).shape == (1, 3, 8, 8)
    assert GatedUpConv2d(2, 3)(x).shape == (1, 3, 32, 32)
    spectral = GatedConv2d(2, 3, activation="lrelu", spectral=True)
    assert isinstance(spectral.feature, SpectralConv2d)
    linear = GatedConv2d(2, 3, activation=None)
    with torch.no_grad():
        linear.gate.bias.fill_(100.0)
        torch.testing.assert_close(linear(x), linear.feature(x))  # no activation at all
    with pytest.raises(ValueError):
        GatedConv2d(2, 3, activation="swish")


def test_spectral_conv_normalises_largest_singular_value() -> None:
    torch.manual_seed(0)
    conv = SpectralConv2d(8, 16, 3, padding=1)
    original = conv.conv.parametrizations.weight.original
    raw_sigma = torch.linalg.matrix_norm(original.detach().reshape(16, -1), ord=2)
    assert abs(raw_sigma.item() - 1.0) > 0.1  # the test would be vacuous otherwise
    conv.train()
    x = torch.randn(2, 8, 8, 8)
    for _ in range(50):
        conv(x)  # one power iteration each
    weight = conv.weight.detach()
    sigma = torch.linalg.matrix_norm(weight.reshape(16, -1), ord=2)
    assert sigma.item() == pytest.approx(1.0, abs=1e-2)
    conv.eval()
    u = conv.conv.parametrizations.weight[0]._u.clone()
    before = conv(x)
    assert torch.equal(conv(x), before)  # eval: no power iteration, deterministic
    assert torch.equal(conv.conv.parametrizations.weight[0]._u, u)


def test_self_attention_is_identity_at_init_and_non_local_after() -> None:
    torch.manual_seed(0)
    attention = SelfAttention(16)
    x = torch.randn(2, 16, 9, 7)  # odd sizes: the pooled keys must still cover every pixel
    assert torch.equal(attention(x), x)
    with torch.no_grad():
        attention.gamma.fill_(1.0)
    y = attention(x)
    assert y.shape == x.shape
    far = x.clone()
    far[:, :, -1, -1] += 5.0  # change only the last pixel (the one ceil_mode pooling keeps)
    # ...and the first pixel's output changes: each position attends to the whole map.
    assert not torch.allclose(attention(far)[:, :, 0, 0], y[:, :, 0, 0])


def test_chunked_attention_matches_full_softmax(monkeypatch) -> None:
    torch.manual_seed(0)
    q, k_t, v = torch.randn(2, 50, 4), torch.randn(2, 4, 13), torch.randn(2, 13, 6)
    expected = torch.softmax(q @ k_t, dim=-1) @ v
    torch.testing.assert_close(chunked_attention(q, k_t, v), expected)
    monkeypatch.setattr(layers, "ATTENTION_CHUNK_ELEMENTS", 2 * 13 * 7)  # 7 queries per chunk
    torch.testing.assert_close(chunked_attention(q, k_t, v), expected)


@pytest.mark.parametrize("prefill", ["none", "push_pull", "harmonic", True])
def test_inpaint_forward_ignores_pixels_under_the_hole(prefill: str | bool) -> None:
    net = build_arch("inpaint_gated", base_channels=4, prefill=prefill).eval()
    x = _example_input(net, 32, 32)
    garbage = x.clone()
    hole = garbage[:, 3:4].expand(-1, 3, -1, -1) > 0.5
    garbage[:, :3][hole] = torch.rand(int(hole.sum())) * 50 - 25
    with torch.inference_mode():
        coarse_a, refined_a = net(x, return_coarse=True)
        coarse_b, refined_b = net(garbage, return_coarse=True)
        changed = x.clone()
        changed[:, :3, 0, 0] += 0.5  # outside the hole: this must matter
        refined_c = net(changed)
    assert torch.equal(coarse_a, coarse_b)
    assert torch.equal(refined_a, refined_b)
    assert not torch.equal(refined_a, refined_c)
    assert coarse_a.shape == refined_a.shape == (2, 3, 32, 32)
    assert coarse_a.abs().max() <= 1.0
    with pytest.raises(ValueError):
        net(x[:, :3])  # RGB without its mask


def test_push_pull_fill_keeps_known_pixels_and_fills_holes_from_their_surroundings() -> None:
    # A horizontal ramp with a hole in the middle: the fill follows the ramp's level.
    ramp = torch.linspace(-1, 1, 40).expand(1, 3, 24, 40).clone()
    hole = torch.zeros(1, 1, 24, 40)
    hole[..., 8:16, 15:25] = 1
    filled = layers.push_pull_fill(ramp * (1 - hole), hole)
    known = hole.expand_as(ramp) == 0
    assert torch.equal(filled[known], ramp[known])
    inside = filled[..., 8:16, 15:25]
    assert (inside - ramp[..., 8:16, 15:25]).abs().max() < 0.15
    # A flat colour stays exactly that colour, holes of any shape and odd sizes included.
    flat = torch.full((2, 3, 17, 23), 0.3)
    holes = (torch.rand(2, 1, 17, 23) > 0.6).float()
    assert torch.allclose(layers.push_pull_fill(flat * (1 - holes), holes), flat, atol=1e-5)


def test_harmonic_fill_solves_laplace_inside_the_hole() -> None:
    # A linear ramp is harmonic, so the exact fill of any hole in it is the ramp itself; an
    # iterative solver that stopped early, or a smoother fill (push-pull), would sag.
    rows, cols = torch.meshgrid(torch.linspace(-1, 1, 60), torch.linspace(-1, 1, 90), indexing="ij")
    ramp = (0.6 * cols - 0.3 * rows).expand(2, 3, 60, 90).clone()
    hole = torch.zeros(2, 1, 60, 90)
    hole[0, :, 10:50, 20:70] = 1  # a big block
    hole[1, :, 5:55, 40:44] = 1  # a long scratch
    filled = layers.harmonic_fill(ramp * (1 - hole), hole)
    known = hole.expand_as(ramp) == 0
    assert torch.equal(filled[known], ramp[known])
    assert (filled - ramp).abs().max() < 0.02
    sagging = layers.push_pull_fill(ramp * (1 - hole), hole)
    assert (sagging - ramp).abs().max() > 0.05  # the test can tell a worse fill apart
    # Computed in float32 and handed back in the input's dtype.
    half = layers.harmonic_fill((ramp * (1 - hole)).bfloat16(), hole.bfloat16())
    assert half.dtype == torch.bfloat16
    assert (half.float() - ramp).abs().max() < 0.03


def test_harmonic_fill_handles_odd_sizes_no_holes_and_all_holes() -> None:
    image = torch.rand(1, 3, 37, 21) * 2 - 1
    none = torch.zeros(1, 1, 37, 21)
    assert torch.equal(layers.harmonic_fill(image, none), image)
    spots = (torch.rand(1, 1, 37, 21) > 0.7).float()
    flat = torch.full_like(image, -0.4)
    assert torch.allclose(layers.harmonic_fill(flat * (1 - spots), spots), flat, atol=1e-5)
    assert torch.isfinite(layers.harmonic_fill(image, torch.ones(1, 1, 37, 21))).all()


@pytest.mark.parametrize(
    ("prefill", "fill"),
    [("push_pull", layers.push_pull_fill), ("harmonic", layers.harmonic_fill)],
)
def test_prefilled_inpainter_starts_as_its_fill_and_learns_a_correction(prefill, fill) -> None:
    net = build_arch("inpaint_gated", base_channels=4, prefill=prefill)
    assert net.arch_kwargs["prefill"] == prefill
    x = _example_input(net, 32, 32)
    hole = x[:, 3:4]
    expected = fill(x[:, :3] * (1 - hole), hole).clamp(-1, 1)
    coarse, refined = net(x, return_coarse=True)
    assert torch.allclose(coarse, expected) and torch.allclose(refined, expected)
    (refined - 0.5).square().mean().backward()
    # Zero-initialised heads still receive a gradient, so the correction can be learned.
    assert net.refine_decoder[-2].weight.grad.abs().sum() > 0


def test_inpainter_rejects_an_unknown_prefill() -> None:
    with pytest.raises(UnknownArchitecture, match="prefill must be one of"):
        build_arch("inpaint_gated", base_channels=4, prefill="telea")


def test_stacked_gated_convs_keep_the_signal_alive() -> None:
    # 16 gated layers, as in DeepFill's coarse network: under PyTorch's default init the
    # spatial spread fell ~1000x, leaving the output head nothing to read.
    torch.manual_seed(0)
    net = nn.Sequential(
        GatedConv2d(4, 16, 5), *[GatedConv2d(16, 16, 3, dilation=d) for d in [1, 2, 4] * 5]
    )
    x = torch.randn(2, 4, 48, 48) * 0.5
    with torch.no_grad():
        out = net(x)
    spread = out.std(dim=(2, 3)).mean() / x.std(dim=(2, 3)).mean()
    assert 0.2 < float(spread) < 5.0



def test_resunet_predicts_the_noise_so_a_silent_tail_returns_the_input() -> None:
    net = build_arch("denoise_resunet", base_channels=4).eval()
    with torch.no_grad():
        net.tail.weight.zero_()
        net.tail.bias.zero_()
    x = _example_input(net, 48, 64)
    with torch.inference_mode():
        assert torch.equal(net(x), x)
        assert torch.equal(net(x * 3), (x * 3).clamp(-1, 1))  # a clean image is in range


def test_resunet_is_translation_consistent_so_tiles_agree_with_the_whole() -> None:
    """No normalisation layer: a crop's output equals the whole image's output there,
    away from the crop's border (what seam-free tiling relies on)."""
    torch.manual_seed(0)
    net = build_arch("denoise_resunet", base_channels=4).eval()
    x = _example_input(net, 192, 192)[:1]
    field = 56  # theoretical reach of the 3x3 convolutions at 1/2 .. 1/8 of the side
    with torch.inference_mode():
        whole = net(x)
        crop = net(x[..., :128, :128])  # a multiple of 8 at the same phase
    inner = slice(0, 128 - field)
    torch.testing.assert_close(crop[..., inner, inner], whole[..., inner, inner], atol=1e-5, rtol=0)


def test_resunet_grows_deeper_computing_exactly_what_the_trained_smaller_one_did() -> None:
    torch.manual_seed(0)
    small = build_arch("denoise_resunet", base_channels=4, blocks=1).eval()
    big = build_arch("denoise_resunet", base_channels=4, blocks=3).eval()
    big.grow_from(small.state_dict(), {"base_channels": 4, "blocks": 1})
    x = _example_input(small, 48, 64)
    with torch.inference_mode():
        torch.testing.assert_close(big(x), small(x), atol=1e-6, rtol=0)
    # The added blocks still learn: only their last convolution starts at zero.
    assert big.bottleneck[1].body[0].weight.abs().sum() > 0
    assert not torch.equal(big.down[0][0][0].body[0].weight, big.down[0][0][1].body[0].weight)
    with pytest.raises(ValueError, match="same width"):
        build_arch("denoise_resunet", base_channels=8, blocks=2).grow_from(
            small.state_dict(), {"base_channels": 4, "blocks": 1}
        )
    with pytest.raises(RuntimeError):  # the weights are not what the kwargs say
        big.grow_from(small.state_dict(), {"base_channels": 4, "blocks": 2})
    with pytest.raises(ValueError, match="another size"):
        build_arch("denoise_unet", base_channels=4, max_channels=8).grow_from({}, {})


def test_resunet_outer_level_can_be_kept_shallow_and_trimmed_from_a_deeper_one() -> None:
    torch.manual_seed(0)
    deep = build_arch("denoise_resunet", base_channels=4, blocks=2).eval()
    trimmed = build_arch("denoise_resunet", base_channels=4, blocks=2, outer_blocks=1).eval()
    assert len(trimmed.down[0][0]) == len(trimmed.up[-1][1]) == 1
    assert len(trimmed.down[1][0]) == len(trimmed.bottleneck) == len(trimmed.up[0][1]) == 2
    trimmed.grow_from(deep.state_dict(), {"base_channels": 4, "blocks": 2})
    kept = deep.state_dict()
    for name, value in trimmed.state_dict().items():
        assert torch.equal(value, kept[name])  # everything both have is the trained copy
    assert count_parameters(trimmed) < count_parameters(deep)

