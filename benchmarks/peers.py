"""Published denoisers run beside ours in `quality.py denoise`: FFDNet and CDnCNN-B.

Both are KAIR's plain-convolution networks (../shared/peers/README.md): a stack of 3×3
convolutions with ReLU between them and no batch norm (folded into the weights), so they are
defined here in a few lines and the shipped state dicts load with `weights_only=True` and
strict key matching. CDnCNN-B is blind and predicts the noise (clean = input - output).
FFDNet is non-blind: it works at half resolution on the pixel-unshuffled image with a
constant σ/255 map as a 13th channel, and predicts the clean image directly.

Peers are never given random weights: when a file is missing its rows are left out with one
line on stderr.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.quality_common import BENCH

PEERS = BENCH.parents[1] / "peers"
"""../shared/peers: the weight files (never shipped, never trained on)."""

FILES = {"ffdnet": "ffdnet_color.pth", "dncnn": "dncnn_color_blind.pth"}
LABELS = {"ffdnet": "FFDNet (oracle σ)", "dncnn": "CDnCNN-B (blind)"}
ORACLE_SIGMAS = (5.0, 10.0, 15.0, 25.0)
"""FFDNet's σ candidates on real photos, where no true σ exists (the issue's protocol)."""


def conv_stack(channels: Sequence[int]) -> nn.Sequential:
    """Conv3×3 from channels[i] to channels[i + 1], ReLU between (not after the last), so
    the convolutions sit at the even indices `model.0`, `model.2`, ... as in KAIR."""
    layers: list[nn.Module] = []
    for index, (cin, cout) in enumerate(itertools.pairwise(channels)):
        if index:
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=True))
    return nn.Sequential(*layers)


class DnCNN(nn.Module):
    """CDnCNN-B: 20 convolutions, 3 -> 64 (×19) -> 3, residual (predicts the noise)."""

    def __init__(self) -> None:
        super().__init__()
        self.model = conv_stack([3] + [64] * 19 + [3])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.model(x)


class FFDNet(nn.Module):
    """FFDNet colour: 12 convolutions, 12 + 1 (σ map) -> 96 (×11) -> 12, at half size."""

    def __init__(self) -> None:
        super().__init__()
        self.model = conv_stack([3 * 4 + 1] + [96] * 11 + [3 * 4])

    def forward(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        height, width = x.shape[-2:]
        # Odd sizes: replicate the last row/column so the 2×2 unshuffle covers every pixel.
        x = F.pad(x, (0, width % 2, 0, height % 2), mode="replicate")
        x = F.pixel_unshuffle(x, 2)
        level = torch.full_like(x[:, :1], sigma / 255.0)
        x = F.pixel_shuffle(self.model(torch.cat([x, level], dim=1)), 2)
        return x[..., :height, :width]


def load_network(name: str, folder: Path = PEERS) -> nn.Module | None:
    """The peer with its shipped weights, or None (with one line on stderr) if absent."""
    path = folder / FILES[name]
    if not path.is_file():
        print(f"{path} not found: {LABELS[name]} rows left out", file=sys.stderr)
        return None
    network: nn.Module = FFDNet() if name == "ffdnet" else DnCNN()
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return network.eval().requires_grad_(False)


def load_networks(names: Sequence[str], folder: Path = PEERS) -> dict[str, nn.Module]:
    """The requested networks among `FILES` whose weights are present."""
    loaded = {name: load_network(name, folder) for name in FILES if name in names}
    return {name: network for name, network in loaded.items() if network is not None}


def _apply(network: Callable[[torch.Tensor], torch.Tensor], image: np.ndarray) -> np.ndarray:
    """uint8 or float RGB on the 0-255 scale (float may lie outside it: unclipped noise)
    -> float64 RGB on the 0-255 scale, not clipped."""
    unit = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32) / 255.0)
    with torch.inference_mode():
        out = network(unit.permute(2, 0, 1)[None])
    return out[0].permute(1, 2, 0).double().numpy() * 255.0


def dncnn_restorer(network: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    return lambda image: _apply(network, image)


def ffdnet_restorer(network: nn.Module, sigma: float) -> Callable[[np.ndarray], np.ndarray]:
    """FFDNet told the noise level `sigma` (0-255 scale)."""
    return lambda image: _apply(lambda x: network(x, sigma), image)


def gaussian_methods(networks: dict[str, nn.Module]) -> dict[str, Callable]:
    """The peers as synthetic-benchmark methods (noisy, true σ) -> restored: FFDNet gets the
    true σ, as BM3D and NL-means do there; CDnCNN-B ignores it."""
    methods: dict[str, Callable] = {}
    if "ffdnet" in networks:
        ffdnet = networks["ffdnet"]
        methods["FFDNet (true σ)"] = lambda noisy, std: ffdnet_restorer(ffdnet, std)(noisy)
    if "dncnn" in networks:
        dncnn = dncnn_restorer(networks["dncnn"])
        methods[LABELS["dncnn"]] = lambda noisy, _std: dncnn(noisy)
    return methods
