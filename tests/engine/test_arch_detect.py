"""The damage-segmentation network (`engine.archs.detect_unet`), at tiny widths."""

from __future__ import annotations

import pytest
import torch

from engine.archs import Generator, build_arch
from engine.archs.detect_unet import DetectUNet

TINY = {"base_channels": 4, "fine_channels": 4}


def _tiny() -> DetectUNet:
    net = build_arch("detect_unet", **TINY)
    assert isinstance(net, DetectUNet)
    return net.eval()


def test_contract_of_the_shipped_size() -> None:
    net = build_arch("detect_unet")
    assert isinstance(net, Generator) and net.role == "generator" and net.task == "detect"
    assert net.size_multiple == 32 and net.receptive_margin() == 32
    assert not net.bfloat16_safe  # a threshold on logits: not until measured on trained weights
    assert net.arch_kwargs == {"base_channels": 16, "deep_blocks": 2, "fine_channels": 16}
    assert net.in_channels == 3 and net.out_channels == 1
    # ≤ 10 MB shipped (issue 21): float32 parameters of the default network
    assert sum(p.numel() for p in net.parameters()) * 4 < 10e6


@pytest.mark.parametrize("size", [(32, 32), (64, 96), (160, 64)])
def test_logits_at_full_resolution(size: tuple[int, int]) -> None:
    net = _tiny()
    x = torch.rand(2, 3, *size) * 2 - 1
    with torch.inference_mode():
        y = net(x)
    assert y.shape == (2, 1, *size) and y.dtype == torch.float32
    # Not a per-block prediction: pixels of one 4×4 block get their own values.
    blocks = y.reshape(2, 1, size[0] // 4, 4, size[1] // 4, 4)
    assert bool((blocks.std(dim=(3, 5)) > 0).all())


def test_every_pixel_reaches_its_own_output_directly() -> None:
    """A 1-px scratch must be visible: each output pixel depends on its own input pixel,
    and differently from its neighbours in the same 4×4 block (the folded input feeds the
    last layers directly)."""
    net = _tiny()
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    net(x)[0, 0, 13, 10].backward()
    grad = x.grad[0].abs().sum(dim=0)
    assert grad[13, 10] > 0
    block = grad[12:16, 8:12]
    assert len(torch.unique(block)) == 16  # no two pixels of the block weigh the same


def test_context_reaches_far_beyond_the_tile_overlap() -> None:
    """To tell a crack from an eyelid the network sees the face around it: the centre
    output depends on input pixels more than 100 px away."""
    net = _tiny()
    x = (torch.rand(1, 3, 256, 256) * 2 - 1).requires_grad_(True)
    net(x)[0, 0, 128, 128].backward()
    cols = torch.nonzero(x.grad[0].abs().sum(dim=(0, 1)))
    assert int(cols.min()) < 28 and int(cols.max()) > 228


def test_rebuilt_from_its_kwargs_it_computes_the_same() -> None:
    net = _tiny()
    clone = build_arch(net.arch_name, **net.arch_kwargs).eval()
    clone.load_state_dict(net.state_dict())
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        assert torch.equal(net(x), clone(x))


def test_memory_estimate_follows_the_width() -> None:
    small, shipped = _tiny(), build_arch("detect_unet")
    assert 0 < small.bytes_per_pixel() < shipped.bytes_per_pixel()
    # Far below the denoiser's: detection tiles can be large.
    denoiser = build_arch("denoise_resunet", base_channels=24, blocks=3, outer_blocks=2)
    assert shipped.bytes_per_pixel() < denoiser.bytes_per_pixel()


def _perturbed(net: DetectUNet) -> DetectUNet:
    """`net` with every weight moved off its initial value (zeroed blocks would not show)."""
    with torch.no_grad():
        for param in net.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return net


def test_grown_deeper_it_marks_what_the_trained_one_did_then_learns_on() -> None:
    trained = _perturbed(_tiny())
    deeper = DetectUNet(**TINY, deep_blocks=4).eval()
    deeper.grow_from(trained.state_dict(), trained.arch_kwargs)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        assert torch.allclose(deeper(x), trained(x), atol=1e-5)
    assert len(deeper.stages[3]) == 4 and not deeper.stages[3][3].body[2].weight.any()
    # The new blocks are not dead: their first convolution is trained, so a gradient
    # reaches the zeroed one.
    deeper.train()
    deeper(x).sum().backward()
    assert deeper.stages[3][3].body[2].weight.grad.abs().sum() > 0


def test_it_grows_only_in_depth() -> None:
    trained = _tiny()
    wider = DetectUNet(base_channels=8, fine_channels=4)
    with pytest.raises(ValueError, match="only in deep_blocks"):
        wider.grow_from(trained.state_dict(), trained.arch_kwargs)
    shallower = DetectUNet(**TINY, deep_blocks=1).eval()
    shallower.grow_from(_perturbed(DetectUNet(**TINY, deep_blocks=2)).state_dict(), {**TINY})
    assert len(shallower.stages[2]) == 1
