"""U-Net denoiser: noisy RGB in [-1, 1] -> clean RGB in [-1, 1].

Seven stride-2 ConvBlocks (Conv 4x4 s2 + BatchNorm + ReLU) take the input to 1/128, a
transposed-conv bottleneck brings it back to 1/64, six decoder ConvBlocks (ConvTranspose 4x4 s2
+ BatchNorm + ReLU) climb to full resolution, each consuming the encoder map of its input's
resolution. The head concatenates the *input image* with the last decoder output and ends in a
3x3 conv + tanh: the full-resolution input gives the head pixel-exact detail that the stride-2
path blurs, so the network mostly has to learn what to remove.

This is the network tiled over 24 MP photos on CPU, so the full-resolution part is kept thin
(``base_channels`` maps at full res, nothing wider).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from engine.archs.base import FLOAT32_BYTES, Generator, check_width
from engine.archs.registry import register_arch

__all__ = ["DenoiseUNet"]

_DEPTH = 7
_MULTIPLIERS = (1, 2, 4, 8, 8, 8, 8)


def _down(cin: int, cout: int) -> nn.Sequential:
    """Conv 4x4 s2 + BN + ReLU (no conv bias: BatchNorm's shift replaces it)."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _up(cin: int, cout: int) -> nn.Sequential:
    """ConvTranspose 4x4 s2 + BN + ReLU."""
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


@register_arch("denoise_unet")
class DenoiseUNet(Generator):
    """U-Net denoiser, (B, 3, H, W) -> (B, 3, H, W); H, W multiples of 128.

    Args:
        base_channels: width of the first encoder level; level i has
            ``base * (1, 2, 4, 8, 8, 8, 8)[i]`` channels capped at ``max_channels``. 64 is the
            default; 16 is the CPU-sized variant.
        max_channels: cap on the deep levels' width.
    """

    task: ClassVar[str] = "denoise"
    size_multiple: ClassVar[int] = 2**_DEPTH

    def __init__(self, base_channels: int = 64, max_channels: int = 512) -> None:
        super().__init__()
        base = check_width("base_channels", base_channels)
        cap = check_width("max_channels", max_channels)
        self.in_channels = 3
        self.out_channels = 3
        self.widths = [min(base * m, cap) for m in _MULTIPLIERS]
        w = self.widths

        self.encoder = nn.ModuleList(
            [_down(self.in_channels if i == 0 else w[i - 1], w[i]) for i in range(_DEPTH)]
        )
        # Bottleneck: 1/128 -> 1/64, to the width of the 1/64 encoder map it is joined with.
        self.bottleneck = _up(w[-1], w[-2])
        # Decoder k joins encoder level (5 - k) (at 1/2**(6-k)) and upsamples to that level's
        # input resolution; the last one lands at full resolution with base width.
        self.decoder = nn.ModuleList(
            [_up(2 * w[level], w[level - 1] if level > 0 else w[0]) for level in range(5, -1, -1)]
        )
        self.head = nn.Sequential(
            nn.Conv2d(w[0] + self.in_channels, self.out_channels, 3, padding=1), nn.Tanh()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise ``x`` (B, 3, H, W), H and W multiples of 128."""
        skips: list[torch.Tensor] = []
        h = x
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        h = self.bottleneck(skips.pop())  # the 1/128 map is only the bottleneck's input
        for layer in self.decoder:
            # pop(): each skip is released as soon as it is used, lowering the peak.
            h = layer(torch.cat([h, skips.pop()], dim=1))
        return self.head(torch.cat([h, x], dim=1))

    def receptive_margin(self) -> int:
        """Theoretical field is the whole tile; the effective one of such U-Nets is ~64 px."""
        return 64

    def bytes_per_pixel(self) -> int:
        """Peak at the head: the last decoder's full-res output (w_0), the head's concat
        (w_0 + 3), its 3-channel conv output and tanh, the input, plus the live skips; then
        ~(w_0 + 24) channels of oneDNN blocked-layout copies of full-res maps in NCHW.
        Measured on CPU at 1024x1024, NCHW / channels-last: base 16: 330 / 175 B/px, base 32:
        519 / 346, base 64: 930 / 673; this gives 367, 590, 1035. Errs high rather than low."""
        w = self.widths
        skips = sum(w[i] / 4 ** (i + 1) for i in range(_DEPTH - 1))
        head = w[0] + (w[0] + 3) + 2 * self.out_channels + self.in_channels
        layout_copies = w[0] + 24
        return math.ceil(FLOAT32_BYTES * (skips + head + layout_copies))
