"""Shared tables and helpers of the architecture tests (a plain module, imported by name)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from engine.archs import registry as registry_module
from engine.archs.layers import (
    SelfAttention,
)

ARCHS_DIR = Path(registry_module.__file__).parent

# name -> (tiny kwargs, a larger width for the parameter-count test, spatial sizes (H, W))
GENERATORS: dict[str, tuple[dict, dict, list[tuple[int, int]]]] = {
    "inpaint_gated": ({"base_channels": 4}, {"base_channels": 8}, [(32, 32), (36, 44)]),
    "colorize_unet": ({"base_channels": 4}, {"base_channels": 8}, [(256, 256), (256, 512)]),
    "colorize_hint": ({"base_channels": 4}, {"base_channels": 8}, [(256, 256), (256, 512)]),
    "denoise_unet": ({"base_channels": 4}, {"base_channels": 8}, [(128, 128), (256, 128)]),
    "denoise_resunet": ({"base_channels": 4}, {"base_channels": 8}, [(64, 64), (40, 56)]),
    "denoise_cond": ({"base_channels": 4}, {"base_channels": 8}, [(64, 64), (40, 56)]),
    "detect_unet": ({"base_channels": 4}, {"base_channels": 8}, [(64, 64), (32, 96)]),
}
# name -> (tiny kwargs, input size, expected output side)
DISCRIMINATORS: dict[str, tuple[dict, int, int]] = {
    "inpaint_patchgan": ({"base_channels": 4}, 256, 4),
    "colorize_patchgan": ({"base_channels": 4}, 256, 30),
    "denoise_patchgan": ({"base_channels": 4}, 256, 30),
    "detect_patchgan": ({"base_channels": 4}, 256, 30),
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


