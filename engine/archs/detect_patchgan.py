"""PatchGAN critic for damage detection: pix2pix's 70x70 ``NLayerDiscriminator(n_layers=3)``
(the colorization critic's layers) on the photo plus a damage-probability channel.

The detector trains without a critic by default (`LossWeights.for_task("detect")`: BCE and
soft Dice); this one exists so a recipe can switch an adversarial term on (it judges whether
a mask follows the damage of its photo, so it is conditional: 3 + 1 channels).
"""

from __future__ import annotations

from typing import ClassVar

from engine.archs.colorize_patchgan import ColorizePatchGAN
from engine.archs.registry import register_arch

__all__ = ["DetectPatchGAN"]


@register_arch("detect_patchgan")
class DetectPatchGAN(ColorizePatchGAN):
    """4-layer PatchGAN on (photo RGB, damage probability); outputs logits.

    Args:
        in_channels: 4 (RGB + probability).
        base_channels: width of the first conv; later ones double, capped at ``max_channels``.
        max_channels: width cap.
    """

    task: ClassVar[str] = "detect"

    def __init__(self, in_channels: int = 4, base_channels: int = 64, max_channels: int = 512):
        super().__init__(in_channels, base_channels, max_channels)
