"""PatchGAN critic for denoising.

Four feature convs 64-128-256-512 (4x4, strides 2-2-2-1, BatchNorm except the first, LeakyReLU
0.2), then a 4x4 1-channel logit conv: pix2pix's ``NLayerDiscriminator(n_layers=3)``, i.e. a
70x70 receptive field, which is about the scale at which noise and over-smoothing show. Unlike
the colorization critic it is unconditional by default (judges RGB alone); set ``in_channels=6``
to feed it (noisy, clean) pairs.
"""

from __future__ import annotations

from typing import ClassVar

from engine.archs.colorize_patchgan import ColorizePatchGAN
from engine.archs.registry import register_arch

__all__ = ["DenoisePatchGAN"]


@register_arch("denoise_patchgan")
class DenoisePatchGAN(ColorizePatchGAN):
    """4-layer PatchGAN; outputs logits (no sigmoid). The same layers as the colorization
    critic (pix2pix n_layers=3); only the default input differs in meaning (RGB).

    Args:
        in_channels: channels of the judged image (3: RGB).
        base_channels: width of the first conv (64); later ones double, capped at
            ``max_channels``.
        max_channels: width cap (512).
    """

    task: ClassVar[str] = "denoise"
