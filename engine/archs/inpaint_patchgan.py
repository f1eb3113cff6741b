"""SN-PatchGAN critic for inpainting (DeepFill v2).

Six spectral-normalised 5x5 stride-2 convs (64-128-256-256-256-256) with LeakyReLU 0.2, then a
spectral-normalised 3x3 conv to one logit channel: a map of H/64 x W/64 scores, each seeing a
large patch. Input: RGB (the composited result) + mask, so the critic knows where to look.
Spectral norm, not BatchNorm: DeepFill v2 trains it with a hinge loss, where SN keeps the
critic Lipschitz and training stable.
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from engine.archs.base import Discriminator, check_width
from engine.archs.layers import SpectralConv2d
from engine.archs.registry import register_arch

__all__ = ["InpaintPatchGAN"]


@register_arch("inpaint_patchgan")
class InpaintPatchGAN(Discriminator):
    """7-layer SN-PatchGAN. Outputs logits (no sigmoid): hinge / BCE-with-logits losses apply.

    Args:
        in_channels: 4 (RGB + mask).
        base_channels: width of the first layer; later ones are x2 then x4 (capped there).
    """

    task: ClassVar[str] = "inpaint"

    def __init__(self, in_channels: int = 4, base_channels: int = 64) -> None:
        super().__init__()
        check_width("in_channels", in_channels)
        c = check_width("base_channels", base_channels)
        self.in_channels = in_channels
        widths = [c, 2 * c, 4 * c, 4 * c, 4 * c, 4 * c]
        layers: list[nn.Module] = []
        previous = in_channels
        for width in widths:
            layers += [SpectralConv2d(previous, width, 5, 2, 2), nn.LeakyReLU(0.2, inplace=True)]
            previous = width
        layers.append(SpectralConv2d(previous, 1, 3, 1, 1))
        self.layers = nn.Sequential(*layers)
