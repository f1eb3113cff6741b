"""PatchGAN critic for denoising.

Four feature convs 64-128-256-512 (4x4, strides 2-2-2-1, BatchNorm except the first, LeakyReLU
0.2), then a 4x4 1-channel logit conv: pix2pix's ``NLayerDiscriminator(n_layers=3)``, i.e. a
70x70 receptive field, which is about the scale at which noise and over-smoothing show. Unlike
the colorization critic it is unconditional by default (judges RGB alone); set ``in_channels=6``
to feed it (noisy, clean) pairs.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from engine.archs.base import Discriminator, check_width
from engine.archs.layers import conv_output_size, conv_receptive_field, patchgan_layers
from engine.archs.registry import register_arch

__all__ = ["DenoisePatchGAN"]


@register_arch("denoise_patchgan")
class DenoisePatchGAN(Discriminator):
    """4-layer PatchGAN; outputs logits (no sigmoid).

    Args:
        in_channels: channels of the judged image (3: RGB).
        base_channels: width of the first conv (64); later ones double, capped at
            ``max_channels``.
        max_channels: width cap (512).
    """

    task: ClassVar[str] = "denoise"

    def __init__(
        self, in_channels: int = 3, base_channels: int = 64, max_channels: int = 512
    ) -> None:
        super().__init__()
        self.in_channels = check_width("in_channels", in_channels)
        check_width("base_channels", base_channels)
        check_width("max_channels", max_channels)
        self.layers = nn.Sequential(
            *patchgan_layers(in_channels, base_channels, n_layers=3, max_channels=max_channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def receptive_field(self) -> int:
        return conv_receptive_field(self)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        return conv_output_size(self, height), conv_output_size(self, width)
