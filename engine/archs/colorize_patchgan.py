"""70x70 PatchGAN critic for colorization (pix2pix ``NLayerDiscriminator``, ``n_layers=3``).

C64-C128-C256-C512 (4x4 convs, strides 2-2-2-1, BatchNorm except the first, LeakyReLU 0.2),
then a 4x4 1-channel logit conv. Each logit judges a 70x70 patch: colour plausibility is a
texture-scale question, and the L1 term of the generator takes care of low frequencies.
Input: L and ab concatenated (3 channels), the conditional-GAN pairing of pix2pix.
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from engine.archs.base import Discriminator, check_width
from engine.archs.layers import patchgan_layers
from engine.archs.registry import register_arch

__all__ = ["ColorizePatchGAN"]


@register_arch("colorize_patchgan")
class ColorizePatchGAN(Discriminator):
    """pix2pix 70x70 PatchGAN; outputs logits (no sigmoid).

    Args:
        in_channels: 3 (L + ab).
        base_channels: width of the first conv (64); later ones double, capped at
            ``max_channels``.
        max_channels: width cap (512).
    """

    task: ClassVar[str] = "colorize"

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
