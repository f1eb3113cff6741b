"""pix2pix U-Net for colorization: L channel in, ab channels out.

Eight stride-2 4x4 encoder convs take a 256x256 input down to 1x1 (hence ``size_multiple =
256``); seven transposed-conv decoder layers and a final up-layer come back, each concatenating
the encoder feature map of the same resolution. Layout follows junyanz/pytorch-CycleGAN-and-
pix2pix ``UnetGenerator(num_downs=8)``, written flat instead of recursively. Activations are
applied after each conv (post-activation); pix2pix applies them before the next conv, but
because its LeakyReLU runs in place the skips it concatenates are activated maps too, which is
what happens here.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from engine.archs.base import FLOAT32_BYTES, Generator, check_width
from engine.archs.registry import register_arch

__all__ = ["ColorizeUNet"]

_DEPTH = 8
# pix2pix puts Dropout(0.5) in the three 8x-width decoder blocks after the innermost one.
_DROPOUT_BLOCKS = (1, 2, 3)


@register_arch("colorize_unet")
class ColorizeUNet(Generator):
    """U-Net generator: (B, 1, H, W) L in [-1, 1] -> (B, 2, H, W) ab in [-1, 1] (tanh).

    Args:
        base_channels: width of the first encoder layer; layer i has
            ``base * (1, 2, 4, 8, 8, 8, 8, 8)[i]`` channels (pix2pix's ngf multipliers), capped
            at ``max_channels``. 64 is pix2pix's ngf; 16 is a CPU/test variant.
        max_channels: an extra cap on the width of the deep layers.
        use_dropout: Dropout(0.5) in the three deep decoder blocks, as pix2pix (its only source
            of noise). Inactive in eval mode, so inference stays deterministic.
    """

    task: ClassVar[str] = "colorize"
    size_multiple: ClassVar[int] = 2**_DEPTH

    def __init__(
        self, base_channels: int = 64, max_channels: int = 512, use_dropout: bool = False
    ) -> None:
        super().__init__()
        base = check_width("base_channels", base_channels)
        cap = check_width("max_channels", max_channels)
        self.in_channels = 1
        self.out_channels = 2
        self.widths = [min(base * min(2**i, 8), cap) for i in range(_DEPTH)]
        w = self.widths

        encoder: list[nn.Module] = [
            # Outermost: no norm on the raw input (pix2pix / DCGAN convention).
            nn.Sequential(nn.Conv2d(self.in_channels, w[0], 4, 2, 1), nn.LeakyReLU(0.2))
        ]
        for i in range(1, _DEPTH - 1):
            encoder.append(
                nn.Sequential(
                    nn.Conv2d(w[i - 1], w[i], 4, 2, 1, bias=False),  # BN's shift replaces bias
                    nn.BatchNorm2d(w[i]),
                    nn.LeakyReLU(0.2),
                )
            )
        # Innermost: 1x1 spatial at 256 input, where BatchNorm over a batch of one is undefined.
        # ReLU, not LeakyReLU: in pix2pix the innermost output goes straight into the up-ReLU.
        encoder.append(nn.Sequential(nn.Conv2d(w[-2], w[-1], 4, 2, 1), nn.ReLU()))
        self.encoder = nn.ModuleList(encoder)

        decoder: list[nn.Module] = []
        for k in range(_DEPTH - 1):
            level = _DEPTH - 1 - k  # encoder level this block's input comes from
            cin = w[level] if k == 0 else 2 * w[level]  # the innermost block has no skip yet
            block: list[nn.Module] = [
                nn.ConvTranspose2d(cin, w[level - 1], 4, 2, 1, bias=False),
                nn.BatchNorm2d(w[level - 1]),
                nn.ReLU(),
            ]
            if use_dropout and k in _DROPOUT_BLOCKS:
                block.append(nn.Dropout(0.5))
            decoder.append(nn.Sequential(*block))
        self.decoder = nn.ModuleList(decoder)
        self.final = nn.Sequential(
            nn.ConvTranspose2d(2 * w[0], self.out_channels, 4, 2, 1), nn.Tanh()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Colorize ``x`` (B, 1, H, W), H and W multiples of 256."""
        skips: list[torch.Tensor] = []
        h = x
        for layer in self.encoder:
            h = layer(h)
            skips.append(h)
        h = self.decoder[0](skips.pop())
        for layer in self.decoder[1:]:
            # pop(): each skip is released as soon as it is used, lowering the peak.
            h = layer(torch.cat([h, skips.pop()], dim=1))
        return self.final(torch.cat([h, skips.pop()], dim=1))

    def receptive_margin(self) -> int:
        """Theoretical field is the whole tile; the effective one of such U-Nets is ~64 px."""
        return 64

    def bytes_per_pixel(self) -> int:
        """All encoder skips (level i: w_i / 4**(i+1) per input pixel), plus the last concat at
        1/2 res (2 w_0 / 4), its halves, and the input and full-res output/tanh maps.
        Measured on CPU at 1024x1024, NCHW: base 16: 85 B/px, base 64: 315; this gives 99, 335.
        """
        w = self.widths
        skips = sum(w[i] / 4 ** (i + 1) for i in range(_DEPTH - 1))
        last = 2 * w[0] / 4 + w[0] / 4
        full_res = self.in_channels + 2 * self.out_channels
        return math.ceil(FLOAT32_BYTES * (skips + last + full_res))
