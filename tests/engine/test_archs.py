"""Tests of the architecture registry, every registered network's contract, and the
packaging rules of the arch modules.

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
from arch_support import (
    ALL_ARCHS,
    ARCHS_DIR,
    DISCRIMINATORS,
    GENERATORS,
    _example_input,
    _randomise_buffers,
)
from torch import nn

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
    count_parameters,
)
from engine.errors import ModelUnavailable

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


# --- generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_contract(name: str) -> None:
    small_kwargs, large_kwargs, _ = GENERATORS[name]
    small, large = build_arch(name, **small_kwargs), build_arch(name, **large_kwargs)
    assert isinstance(small, Generator) and small.role == "generator"
    assert small.task in {"denoise", "inpaint", "colorize", "detect"}
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
        if net.task != "detect":  # a detector gives logits (tests/engine/test_arch_detect.py)
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


