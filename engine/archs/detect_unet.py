"""Damage segmentation U-Net (issue 21): old-photo RGB in [-1, 1] -> damage logits, 1 channel.

A detector must tell a crack from an eyelid, which takes context (a face around the eye),
yet mark 1-pixel scratches, which takes full resolution; and it must run at ~10 MP/s on a
2-core CPU (6 MP in a second). So, like the shipped denoiser, most of the work happens at
reduced resolution, while nothing is thrown away on the way:

* 4x4 pixel blocks are folded into channels first (pixel-unshuffle): the network works at
  1/4 of the side (1/16 of the pixels) but still sees every pixel exactly, so a 1-px line
  is a clear pattern in the folded channels, not a blur;
* residual 3x3 blocks at 1/4, 1/8, 1/16 and 1/32 of the side, joined by additive skips
  (cheaper than concatenation); the deepest level's 3x3 convolutions see ~±200 px of the
  photo, enough to know a face is there;
* the full-resolution path: the 1/4-side features are joined with the folded input itself
  (every pixel's exact value, no pooling on the way) and two 3x3 convolutions predict the
  16 logits of each 4x4 block, unfolded back to full resolution (pixel-shuffle). That is a
  full-resolution refinement with the input, computed where a CPU computes it fast: a
  full-resolution 3x3 convolution with one or a few output channels ran 3-5x slower per
  multiply-add than the folded one (it is memory-bound), and took 2/3 of the time.

Speed, measured with one thread while a training run kept both cores of this 2-core EPYC
busy (two threads were slower then; rerun on an idle machine): the network alone on
1024x1024, channels_last, 14.6 MP/s in float32 and 21.7 with bfloat16 autocast; through
`api.detect_damage` (tiles, blending, thresholding) 6 MP in 0.62 s (float32) / 0.49 s
(bfloat16) and 24 MP in 2.34 s / 1.57 s at 630 MB peak RSS (issue 21's bar: 1 s and 5 s).
base_channels 12 would be ~15 % faster. 346k parameters (0.7 MB as float16).

No normalisation layers (as the denoiser): a tile then computes what the whole image
computes away from its border. The output is logits (no sigmoid): the loss takes logits,
and the engine turns them into probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import nn

from engine.archs.base import FLOAT32_BYTES, Generator, check_width
from engine.archs.denoise_resunet import ResBlock, grow_stages
from engine.archs.registry import register_arch

__all__ = ["DetectUNet"]

_FOLD = 4  # pixel-unshuffle factor: the network works at 1/4 of the side
_LEVELS = 4  # feature scales: 1/4, 1/8, 1/16, 1/32 of the side
_WIDTH = (1, 2, 3, 4)  # multiples of base_channels per level


def _conv_relu(cin: int, cout: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.ReLU(inplace=True))


@register_arch("detect_unet")
class DetectUNet(Generator):
    """(B, 3, H, W) in [-1, 1] -> (B, 1, H, W) damage logits; H, W multiples of 32.

    Args:
        base_channels: width at 1/4 of the side; the deeper levels have 2x, 3x and 4x of it.
        deep_blocks: residual blocks at 1/16 and 1/32 of the side (one at 1/4 and 1/8):
            context is cheap there (1/256 and 1/1024 of the pixels).
        fine_channels: width of the refinement that joins the features with the input.
    """

    task: ClassVar[str] = "detect"
    size_multiple: ClassVar[int] = _FOLD * 2 ** (_LEVELS - 1)
    # Not yet: a mask is a threshold on the logits, so bfloat16 must be measured on the trained
    # network (share of mask pixels that flip) before it may run there; it is 1.6x faster.
    bfloat16_safe: ClassVar[bool] = False

    def __init__(self, base_channels: int = 16, deep_blocks: int = 2, fine_channels: int = 16):
        super().__init__()
        base = check_width("base_channels", base_channels)
        deep = check_width("deep_blocks", deep_blocks)
        fine = check_width("fine_channels", fine_channels)
        self.in_channels, self.out_channels = 3, 1
        self.widths = [base * k for k in _WIDTH]
        w = self.widths
        counts = [1, 1, deep, deep]
        self.unshuffle = nn.PixelUnshuffle(_FOLD)
        self.head = _conv_relu(3 * _FOLD * _FOLD, w[0])
        self.stages = nn.ModuleList(
            [nn.Sequential(*[ResBlock(w[i]) for _ in range(counts[i])]) for i in range(_LEVELS)]
        )
        self.down = nn.ModuleList(
            [nn.Conv2d(w[i], w[i + 1], 2, stride=2) for i in range(_LEVELS - 1)]
        )
        self.up = nn.ModuleList(
            [nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in range(_LEVELS - 1)]
        )
        self.merge = nn.ModuleList([_conv_relu(w[i], w[i]) for i in range(_LEVELS - 1)])
        folded = 3 * _FOLD * _FOLD
        self.refine = nn.Sequential(
            _conv_relu(w[0] + folded, fine), nn.Conv2d(fine, _FOLD * _FOLD, 3, padding=1)
        )
        self.shuffle = nn.PixelShuffle(_FOLD)

    def trunk(self, h: torch.Tensor) -> torch.Tensor:
        """The U-Net at 1/4 of the side and below: down, bottom, up with additive skips."""
        skips = []
        for i in range(_LEVELS - 1):
            h = self.stages[i](h)
            skips.append(h)
            h = self.down[i](h)
        h = self.stages[-1](h)
        for i in reversed(range(_LEVELS - 1)):
            h = self.merge[i](self.up[i](h) + skips[i])
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Damage logits for ``x`` (B, 3, H, W), H and W multiples of 32."""
        folded = self.unshuffle(x)
        features = self.trunk(self.head(folded))
        return self.shuffle(self.refine(torch.cat([features, folded], dim=1)))

    def grow_from(self, state_dict: Mapping[str, torch.Tensor], kwargs: Mapping) -> None:
        """Load a trained detector of the same widths and another ``deep_blocks``: the
        blocks both have are copied, a new one starts as the identity (`grow_stages`), so
        a detector grown deeper marks exactly what the trained one did before it trains on.
        """
        source = DetectUNet(**kwargs)
        fine = self.refine[1].in_channels
        if source.widths != self.widths or source.refine[1].in_channels != fine:
            raise ValueError(
                f"can grow only in deep_blocks, at the same base_channels={self.widths[0]} "
                f"and fine_channels={fine}, not from {dict(kwargs)}"
            )
        source.load_state_dict(dict(state_dict))  # raises on anything that does not fit
        self.load_state_dict(
            {k: v for k, v in source.state_dict().items() if not k.startswith("stages.")},
            strict=False,
        )
        grow_stages(self.stages, source.stages)

    def receptive_margin(self) -> int:
        """The theoretical field is several hundred pixels (3x3 convolutions at 1/32 of the
        side), but what decides a pixel is its neighbourhood; tiles overlap by 64 px and
        are cross-faded, and the tiled mask is checked against the whole-image one
        (tests/engine/test_detect_task.py)."""
        return 32

    def bytes_per_pixel(self) -> int:
        """Per input pixel: the input and the output logits at full resolution; at 1/4 of
        the side the folded input, its concatenation with the features, the refinement's
        hidden map and its 16 logits, and up to four maps of each level's width (a block's
        input, hidden map, output and the skip); all doubled for oneDNN's layout copies."""
        full = 3 + 1
        fine, channels = self.refine[0][0].out_channels, 3 * _FOLD * _FOLD
        folded = (channels + (self.widths[0] + channels) + fine + _FOLD * _FOLD) / _FOLD**2
        levels = sum(4 * w / (_FOLD * 2**i) ** 2 for i, w in enumerate(self.widths))
        return math.ceil(FLOAT32_BYTES * 2 * (full + folded + levels))
