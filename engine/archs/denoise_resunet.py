"""Residual U-Net denoiser (DRUNet-style, CPU-sized): noisy RGB in [-1, 1] -> clean RGB.

Why not the seed's pix2pix U-Net (`denoise_unet`): its only full-resolution processing is one
3x3 convolution on the input, so fine grain is hard to tell from fine detail (the README's
table measures both). This network instead

* folds 2x2 pixel blocks into channels first (pixel-unshuffle, as FFDNet does), so every
  convolution runs on a quarter of the pixels while still seeing each one exactly;
* runs 3x3 residual blocks at three scales (1/2, 1/4, 1/8 of the side) with widths that keep
  the multiply-adds per pixel about equal per level, joined by additive skips (cheaper than
  concatenation and the DRUNet choice);
* predicts the *noise* and subtracts it from the input (global residual, as DnCNN): a clean
  region maps to zero, which is what a blind denoiser must learn first.

No normalisation layers: BatchNorm statistics from 128 px crops do not describe 24 MP scans,
and without them a tile computes exactly what the whole image computes away from its border.
The CPU sizes were chosen by speed through the engine's tiled path on 24 MP (2 threads; budget
2 MP/s): with one block per stage base 24 ran at 2.6 MP/s, base 28 at 2.2, base 32 at 1.9 in
float32. The shipped network (base 24; three blocks per stage at 1/4 and 1/8 of the side,
two at 1/2) runs at 3.2 MP/s with bfloat16 convolutions on a CPU that has them natively, 1.6
in float32: blocks below the outermost level are cheap on a CPU (the two-block network ran at
3.7 and 1.7). ``outer_blocks=1`` would be ~1.3x faster in float32, at a measured loss in
quality.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import torch
from torch import nn

from engine.archs.base import FLOAT32_BYTES, Generator, check_width
from engine.archs.registry import register_arch

__all__ = ["DenoiseResUNet", "ResBlock"]

_LEVELS = 3  # feature scales below the unshuffled input: 1/2, 1/4, 1/8 of the side


class ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3, added to the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).add_(x)  # in place: the conv output is a fresh tensor


def grow_stages(own: Sequence[nn.Sequential], trained: Sequence[nn.Sequential]) -> None:
    """Copy each trained stage's blocks into the matching stage of `own`; a block only
    `own` has starts as the identity (its last convolution zeroed), one only `trained` has
    is dropped. The policy of every architecture that can grow deeper (`grow_from`)."""
    for stage, source in zip(own, trained, strict=True):
        for i, block in enumerate(stage):
            if i < len(source):
                block.load_state_dict(source[i].state_dict())
            else:
                nn.init.zeros_(block.body[2].weight)
                nn.init.zeros_(block.body[2].bias)


def _stage(channels: int, blocks: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(channels) for _ in range(blocks)])


@register_arch("denoise_resunet")
class DenoiseResUNet(Generator):
    """Residual U-Net denoiser, (B, 3, H, W) -> (B, 3, H, W); H, W multiples of 8.

    Args:
        base_channels: width at 1/2 of the side; the deeper levels have 2x and 4x of it.
        blocks: residual blocks per level on the way down, in the bottleneck (1/8) and again
            per level on the way up.
        outer_blocks: blocks at the outermost level (1/2 of the side, down and up) when it
            should differ from ``blocks``: that level is the slowest per multiply-add on a
            CPU (narrowest, largest maps), so a deeper network can stay within its speed
            budget by keeping it shallow.
    """

    task: ClassVar[str] = "denoise"
    size_multiple: ClassVar[int] = 2**_LEVELS
    # It predicts the noise and subtracts it from the float32 input, so bfloat16 touches only
    # the noise estimate: on CBSD68/Kodak24/McMaster σ25 it moved PSNR by <= 0.02 dB and ran
    # the convolutions 2.5x faster (benchmarks/results/denoise_bfloat16.json).
    bfloat16_safe: ClassVar[bool] = True

    def __init__(
        self, base_channels: int = 32, blocks: int = 1, outer_blocks: int | None = None
    ) -> None:
        super().__init__()
        base = check_width("base_channels", base_channels)
        self.blocks = check_width("blocks", blocks)
        outer = self.blocks if outer_blocks is None else check_width("outer_blocks", outer_blocks)
        self.in_channels = 3
        self.out_channels = 3
        self.widths = [base, 2 * base, 4 * base]
        w = self.widths
        counts = [outer] + [self.blocks] * (_LEVELS - 1)

        self.unshuffle = nn.PixelUnshuffle(2)
        self.head = nn.Conv2d(4 * self.in_channels, w[0], 3, padding=1)
        self.down = nn.ModuleList(
            [
                nn.Sequential(_stage(w[i], counts[i]), nn.Conv2d(w[i], w[i + 1], 2, stride=2))
                for i in range(_LEVELS - 1)
            ]
        )
        self.bottleneck = _stage(w[-1], counts[-1])
        self.up = nn.ModuleList(
            [
                nn.Sequential(
                    nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2), _stage(w[i], counts[i])
                )
                for i in range(_LEVELS - 2, -1, -1)
            ]
        )
        self.tail = nn.Conv2d(w[0], 4 * self.out_channels, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)

    def _stages(self) -> list[nn.Sequential]:
        """Every stage of residual blocks, in a fixed order."""
        return [d[0] for d in self.down] + [self.bottleneck] + [u[1] for u in self.up]

    def trunk(self, h: torch.Tensor) -> torch.Tensor:
        """The U-Net between head and tail: down, bottleneck, up with additive skips."""
        skips = []
        for layer in self.down:
            skips.append(h)
            h = layer(h)
        h = self.bottleneck(h)
        for layer in self.up:
            h = layer(h) + skips.pop()
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Denoise ``x`` (B, 3, H, W), H and W multiples of 8."""
        h = self.trunk(self.head(self.unshuffle(x)))
        # Clean images lie in [-1, 1] whatever the noise did to the input.
        return (x - self.shuffle(self.tail(h))).clamp(-1.0, 1.0)

    def grow_from(self, state_dict: Mapping[str, torch.Tensor], kwargs: Mapping) -> None:
        """Load a trained network of the same width and other block counts (``kwargs``).

        Blocks both have are copied; a block only this one has starts as the identity (its
        last convolution zeroed), so a network grown deeper computes exactly what the
        trained one did. A block only the trained one has is dropped: that changes the
        output, and the trimmed network needs some training to recover.
        """
        if kwargs.get("base_channels", 32) != self.widths[0]:
            raise ValueError(
                f"can start base_channels={self.widths[0]} only from the same width, "
                f"not from {dict(kwargs)}"
            )
        source = DenoiseResUNet(**kwargs)
        source.load_state_dict(dict(state_dict))  # raises on anything that does not fit
        self.load_state_dict(
            {k: v for k, v in source.state_dict().items() if ".body." not in k}, strict=False
        )
        grow_stages(self._stages(), source._stages())

    def receptive_margin(self) -> int:
        """The theoretical field reaches ~±52 px (3x3 convs down to 1/8 of the side); a
        trained denoiser's effective one is far smaller (it looks at the neighbourhood), so
        tiles overlap by 64 px. Measured on a real scan in 256 px tiles against the whole
        (tests/engine/test_tasks.py): at most 3 levels of 255 apart, 0.07 on average."""
        return 32

    def bytes_per_pixel(self) -> int:
        """Per input pixel: the input and output (3 + 3), the 12-channel unshuffled copy and
        the 12-channel tail at 1/4 of the pixels, the live level-0 skip and up to three
        maps of the working level at 1/4 (a block's input, its hidden map, its output),
        plus the same at the deeper levels, doubled for oneDNN layout copies."""
        w = self.widths
        levels = sum(4 * w[i] / 4 ** (i + 1) for i in range(_LEVELS))
        return math.ceil(FLOAT32_BYTES * (6 + 24 / 4 + 2 * levels))
