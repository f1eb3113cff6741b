"""Tests of the architecture registry, the shared layers and every registered network.

Networks are built at tiny widths on small inputs: the file must run in seconds on 2 CPU cores.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import engine.archs.layers as layers
from engine.archs import (
    Discriminator,
    Generator,
    UnknownArchitecture,
    arch_class,
    build_arch,
    list_archs,
    register_arch,
)
from engine.archs import registry as registry_module
from engine.archs.layers import (
    GatedConv2d,
    GatedUpConv2d,
    SelfAttention,
    SpectralConv2d,
    chunked_attention,
    count_parameters,
)
from engine.errors import ModelUnavailable

ARCHS_DIR = Path(registry_module.__file__).parent

# name -> (tiny kwargs, a larger width for the parameter-count test, spatial sizes (H, W))
GENERATORS: dict[str, tuple[dict, dict, list[tuple[int, int]]]] = {
    "inpaint_gated": ({"base_channels": 4}, {"base_channels": 8}, [(32, 32), (36, 44)]),
    "colorize_unet": ({"base_channels": 4}, {"base_channels": 8}, [(256, 256), (256, 512)]),
    "denoise_unet": ({"base_channels": 4}, {"base_channels": 8}, [(128, 128), (256, 128)]),
    "denoise_resunet": ({"base_channels": 4}, {"base_channels": 8}, [(64, 64), (40, 56)]),
}
# name -> (tiny kwargs, input size, expected output side)
DISCRIMINATORS: dict[str, tuple[dict, int, int]] = {
    "inpaint_patchgan": ({"base_channels": 4}, 256, 4),
    "colorize_patchgan": ({"base_channels": 4}, 256, 30),
    "denoise_patchgan": ({"base_channels": 4}, 256, 30),
}
ALL_ARCHS = {
    **{k: v[0] for k, v in GENERATORS.items()},
    **{k: v[0] for k, v in DISCRIMINATORS.items()},
}


def _example_input(net: nn.Module, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """A random input in [-1, 1] of the right channel count; for inpainting, a real 0/1 mask."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, net.in_channels, height, width, generator=g) * 2 - 1
    if getattr(net, "task", None) == "inpaint":
        mask = torch.zeros(2, 1, height, width)
        mask[..., height // 4 : height // 2, width // 4 : 3 * width // 4] = 1.0
        x[:, 3:4] = mask
    return x


def _randomise_buffers(net: nn.Module) -> None:
    """Give BatchNorm stats and attention gammas non-default values, so state dicts matter."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(torch.rand(module.num_features, generator=g) - 0.5)
                module.running_var.copy_(torch.rand(module.num_features, generator=g) + 0.5)
            if isinstance(module, SelfAttention):
                module.gamma.fill_(0.7)


# --- registry ------------------------------------------------------------------------------


def test_all_baseline_archs_are_registered() -> None:
    assert set(list_archs()) == set(ALL_ARCHS)
    assert list_archs() == sorted(list_archs())


@pytest.mark.parametrize("name", sorted(ALL_ARCHS))
def test_build_records_complete_json_kwargs(name: str) -> None:
    net = build_arch(name, **ALL_ARCHS[name])
    assert net.arch_name == name
    params = inspect.signature(arch_class(name)).parameters
    assert set(net.arch_kwargs) == set(params)  # defaults resolved, not only what was passed
    for key, value in ALL_ARCHS[name].items():
        assert net.arch_kwargs[key] == value
    assert json.loads(json.dumps(net.arch_kwargs)) == net.arch_kwargs


@pytest.mark.parametrize("name", sorted(ALL_ARCHS))
def test_rebuild_from_arch_kwargs_gives_identical_network(name: str) -> None:
    net = build_arch(name, **ALL_ARCHS[name])
    _randomise_buffers(net)
    stored = json.loads(json.dumps({"arch": net.arch_name, "kwargs": net.arch_kwargs}))
    clone = build_arch(stored["arch"], **stored["kwargs"])
    clone.load_state_dict(net.state_dict(), strict=True)
    net.eval()
    clone.eval()
    size = GENERATORS[name][2][0] if name in GENERATORS else (DISCRIMINATORS[name][1],) * 2
    x = _example_input(net, *size)
    with torch.inference_mode():
        assert torch.equal(net(x), clone(x))


def test_unknown_name_raises_unknown_architecture_listing_known_ones() -> None:
    with pytest.raises(UnknownArchitecture) as info:
        build_arch("denoise_transformer")
    assert isinstance(info.value, ModelUnavailable)
    assert "denoise_transformer" in str(info.value)
    for name in list_archs():
        assert name in str(info.value)
    with pytest.raises(UnknownArchitecture):
        arch_class("nope")
    with pytest.raises(UnknownArchitecture):
        arch_class(["unhashable"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"widht": 16},  # unknown keyword
        {"base_channels": "wide"},  # wrong type
        {"base_channels": 0},  # out of range
        {"base_channels": True},  # bool is not a width
        {"max_channels": (1, 2)},  # not JSON round-trippable
    ],
)
def test_bad_kwargs_raise_unknown_architecture(kwargs: dict) -> None:
    with pytest.raises(UnknownArchitecture, match="denoise_unet"):
        build_arch("denoise_unet", **kwargs)


def test_register_arch_rejects_incomplete_signatures_and_duplicates(monkeypatch) -> None:
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))

    class Flexible(nn.Module):
        def __init__(self, **kwargs: int) -> None:
            super().__init__()

    with pytest.raises(TypeError):
        register_arch("flexible")(Flexible)

    class Tupled(nn.Module):
        def __init__(self, sizes: tuple = (1, 2)) -> None:
            super().__init__()

    with pytest.raises(TypeError):
        register_arch("tupled")(Tupled)

    class Other(nn.Module):
        pass

    with pytest.raises(ValueError):
        register_arch("denoise_unet")(Other)
    assert arch_class("denoise_unet").__name__ == "DenoiseUNet"


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


# --- generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_contract(name: str) -> None:
    small_kwargs, large_kwargs, _ = GENERATORS[name]
    small, large = build_arch(name, **small_kwargs), build_arch(name, **large_kwargs)
    assert isinstance(small, Generator) and small.role == "generator"
    assert small.task in {"denoise", "inpaint", "colorize"}
    assert small.size_multiple > 0 and small.size_multiple & (small.size_multiple - 1) == 0
    assert isinstance(small.receptive_margin(), int) and small.receptive_margin() > 0
    assert isinstance(small.bytes_per_pixel(), int)
    assert 0 < small.bytes_per_pixel() < large.bytes_per_pixel()
    assert count_parameters(small) < count_parameters(large)  # width is really configurable


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_shapes_and_range(name: str) -> None:
    kwargs, _, sizes = GENERATORS[name]
    net = build_arch(name, **kwargs).eval()
    for height, width in sizes:
        assert height % net.size_multiple == 0 and width % net.size_multiple == 0
        x = _example_input(net, height, width) * 3  # out-of-range input still gives [-1, 1]
        if net.task == "inpaint":
            x[:, 3:4] /= 3
        with torch.inference_mode():
            y = net(x)
        assert y.shape == (2, net.out_channels, height, width)
        assert y.min() >= -1.0 and y.max() <= 1.0
        assert y.std() > 0  # not a constant map


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_trains_every_parameter(name: str) -> None:
    kwargs, _, sizes = GENERATORS[name]
    net = build_arch(name, **kwargs).train()
    x = _example_input(net, *sizes[0])  # batch of 2: BatchNorm at 1x1 needs > 1 value
    out = net(x, return_coarse=True) if name == "inpaint_gated" else (net(x),)
    sum(o.square().mean() for o in out).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert missing == []


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


def test_colorize_dropout_flag() -> None:
    plain = build_arch("colorize_unet", base_channels=4)
    noisy = build_arch("colorize_unet", base_channels=4, use_dropout=True)
    assert not any(isinstance(m, nn.Dropout) for m in plain.modules())
    assert sum(isinstance(m, nn.Dropout) for m in noisy.modules()) == 3
    noisy.eval()
    x = _example_input(noisy, 256, 256)
    with torch.inference_mode():
        assert torch.equal(noisy(x), noisy(x))  # eval: dropout off, deterministic


def test_default_widths_follow_the_design() -> None:
    assert build_arch("colorize_unet").widths == [64, 128, 256, 512, 512, 512, 512, 512]
    assert build_arch("denoise_unet", base_channels=16).widths == [16, 32, 64, 128, 128, 128, 128]
    assert build_arch("denoise_unet", max_channels=256).widths[-1] == 256
    gated = build_arch("inpaint_gated")
    assert gated.arch_kwargs["base_channels"] == 48
    n_coarse = sum(isinstance(m, GatedConv2d) for m in gated.coarse.modules())
    n_refine = sum(
        isinstance(m, GatedConv2d)
        for part in (gated.refine_encoder, gated.refine_decoder)
        for m in part.modules()
    )
    assert (n_coarse, n_refine) == (16, 9)


# --- discriminators ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DISCRIMINATORS))
def test_discriminator_patch_map(name: str) -> None:
    kwargs, size, side = DISCRIMINATORS[name]
    net = build_arch(name, **kwargs).eval()
    assert isinstance(net, Discriminator) and net.role == "discriminator"
    assert not any(isinstance(m, nn.Sigmoid) for m in net.modules())  # logits
    with torch.inference_mode():
        y = net(_example_input(net, size, size))
        assert y.shape == (2, 1, side, side)
        assert net.output_size(size, size) == (side, side)
        assert net(_example_input(net, 2 * size, size)).shape[-2:] == net.output_size(
            2 * size, size
        )


@pytest.mark.parametrize(
    "name, expected_field, size, index",
    [
        ("colorize_patchgan", 70, 128, 7),
        ("denoise_patchgan", 70, 128, 7),
        ("inpaint_patchgan", 381, 448, 3),
    ],
)
def test_discriminator_receptive_field(
    name: str, expected_field: int, size: int, index: int
) -> None:
    net = build_arch(name, base_channels=4).eval()
    assert net.receptive_field() == expected_field
    # Empirically: the input pixels with a non-zero gradient for one (central) logit.
    x = torch.randn(1, net.in_channels, size, size, requires_grad=True)
    net(x)[0, 0, index, index].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3)))
    cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 2)))
    assert rows.min() > 0 and rows.max() < size - 1  # not clipped by the border
    assert rows.max() - rows.min() + 1 == expected_field
    assert cols.max() - cols.min() + 1 == expected_field


def test_inpaint_patchgan_is_spectral_normalised() -> None:
    net = build_arch("inpaint_patchgan", base_channels=4)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 7
    assert all(hasattr(m, "parametrizations") for m in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())


# --- packaging rules -----------------------------------------------------------------------


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_torchvision_or_qt_imports() -> None:
    forbidden = ("torchvision", "PySide6", "shiboken6", "PyQt5", "PyQt6", "editor", "training")
    for path in ARCHS_DIR.glob("*.py"):
        for name in _imported_modules(path):
            assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
    code = (
        "import sys, engine.archs; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_every_arch_module_is_imported_explicitly() -> None:
    helpers = {"__init__", "registry", "base", "layers"}
    arch_modules = {p.stem for p in ARCHS_DIR.glob("*.py")} - helpers
    imported = {name.rsplit(".", 1)[-1] for name in _imported_modules(ARCHS_DIR / "__init__.py")}
    assert arch_modules <= imported
    assert arch_modules == set(list_archs())  # one architecture per file, named after it


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
