"""The hint-conditioned colorizer (`engine.archs.colorize_hint`), at tiny widths."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.archs import Generator, build_arch
from engine.archs.colorize_hint import HINT_CHANNELS, ColorizeHint
from engine.archs.colorize_unet import ColorizeUNet
from engine.hints import encode_input, place_hints

TINY = {"base_channels": 4, "max_channels": 8}


def _trained_plain(seed: int = 0) -> ColorizeUNet:
    """A `colorize_unet` with non-default weights and BatchNorm statistics, as if trained."""
    torch.manual_seed(seed)
    net = build_arch("colorize_unet", **TINY)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    assert isinstance(net, ColorizeUNet)
    return net.eval()


def _grown(plain: ColorizeUNet) -> ColorizeHint:
    net = build_arch("colorize_hint", **TINY)
    assert isinstance(net, ColorizeHint)
    net.grow_from(plain.state_dict(), plain.arch_kwargs)
    return net.eval()


def _lightness(height: int = 256, width: int = 256, batch: int = 2) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    return torch.rand(batch, 1, height, width, generator=g) * 2 - 1


def _with_hints(lightness: torch.Tensor, count: int) -> torch.Tensor:
    """The 4-channel input of `lightness` with `count` hints placed by `engine.hints`."""
    rng = np.random.default_rng(count)
    rows = []
    for l_plane in lightness[:, 0].numpy():
        height, width = l_plane.shape
        points = np.stack([rng.integers(0, width, count), rng.integers(0, height, count)], 1)
        ab_map, mask = place_hints((height, width), points, rng.uniform(-60, 60, (count, 2)), 5)
        rows.append(encode_input(l_plane, ab_map, mask).transpose(2, 0, 1))
    return torch.from_numpy(np.stack(rows))


def test_contract_matches_the_shipped_unet() -> None:
    net = build_arch("colorize_hint", base_channels=16, max_channels=128)
    plain = build_arch("colorize_unet", base_channels=16, max_channels=128)
    assert isinstance(net, Generator) and net.task == "colorize" and net.takes_hints
    assert net.in_channels == 1 + HINT_CHANNELS == 4 and net.out_channels == 2
    assert net.grows_from == ("colorize_unet",)
    assert net.size_multiple == plain.size_multiple == 256
    assert net.receptive_margin() == plain.receptive_margin()
    # The same activations, plus the 3 extra input floats (12 bytes) per pixel.
    assert net.bytes_per_pixel() == plain.bytes_per_pixel() + 12
    # Every shipped weight keeps its name and shape; the only new one is the hint conv's.
    ours, theirs = net.state_dict(), plain.state_dict()
    assert set(ours) - set(theirs) == {"encoder.0.hint.weight"}
    assert all(ours[k].shape == v.shape for k, v in theirs.items())
    assert ours["encoder.0.hint.weight"].shape == (16, HINT_CHANNELS, 4, 4)
    assert not ours["encoder.0.hint.weight"].any()  # a fresh network starts hint-blind too


@pytest.mark.parametrize("size", [(256, 256), (256, 512), (512, 256)])
def test_shapes_and_range(size: tuple[int, int]) -> None:
    net = _grown(_trained_plain())
    with torch.no_grad():
        net.encoder[0].hint.weight.normal_(0.0, 0.5)
    x = _with_hints(_lightness(*size), 10)
    with torch.inference_mode():
        y = net(x)
        assert net(x[:, :1]).shape == y.shape
    assert x.shape == (2, 4, *size) and y.shape == (2, 2, *size)
    assert y.min() >= -1.0 and y.max() <= 1.0


def test_grown_network_is_the_shipped_one_with_empty_hints() -> None:
    plain = _trained_plain()
    net = _grown(plain)
    lightness = _lightness()
    empty = torch.cat([lightness, torch.zeros(2, HINT_CHANNELS, 256, 256)], dim=1)
    with torch.inference_mode():
        expected = plain(lightness)
        assert torch.equal(net(lightness), expected)  # L alone: the shipped computation
        torch.testing.assert_close(net(empty), expected, atol=1e-6, rtol=0)
        # At step 0 the hint convolution is zero: hints have no say yet either.
        torch.testing.assert_close(net(_with_hints(lightness, 5)), expected, atol=1e-6, rtol=0)


def test_hints_change_the_output_once_trained() -> None:
    net = _grown(_trained_plain())
    with torch.no_grad():  # as if trained: the hint convolution has learnt something
        net.encoder[0].hint.weight.normal_(0.0, 0.5)
    lightness = _lightness()
    with torch.inference_mode():
        automatic = net(lightness)
        torch.testing.assert_close(
            net(torch.cat([lightness, torch.zeros(2, 3, 256, 256)], 1)), automatic, atol=1e-6,
            rtol=0,
        )  # fmt: skip
        one, many = net(_with_hints(lightness, 1)), net(_with_hints(lightness, 20))
    assert (one - automatic).abs().max() > 1e-3
    assert (many - automatic).abs().mean() > (one - automatic).abs().mean()


def test_grow_from_a_hint_network_keeps_its_hint_weights() -> None:
    source = _grown(_trained_plain())
    with torch.no_grad():
        source.encoder[0].hint.weight.normal_(0.0, 0.5)
    net = build_arch("colorize_hint", **TINY, use_dropout=True)
    assert isinstance(net, ColorizeHint)
    net.grow_from(source.state_dict(), source.arch_kwargs)
    for key, value in source.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key


def test_grow_from_refuses_other_widths_and_other_networks() -> None:
    net = build_arch("colorize_hint", **TINY)
    wider = build_arch("colorize_unet", base_channels=8, max_channels=8)
    with pytest.raises(ValueError, match="widths"):
        net.grow_from(wider.state_dict(), wider.arch_kwargs)
    denoiser = build_arch("denoise_unet", base_channels=4)
    with pytest.raises(ValueError):
        net.grow_from(denoiser.state_dict(), denoiser.arch_kwargs)


def test_other_channel_counts_are_refused() -> None:
    net = build_arch("colorize_hint", **TINY).eval()
    with torch.inference_mode(), pytest.raises(ValueError, match="input channels"):
        net(torch.zeros(1, 3, 256, 256))
