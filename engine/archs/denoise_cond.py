"""Noise-level-conditioned residual U-Net: one blind denoiser whose strength turns both ways.

The shipped `denoise_resunet` learnt one fixed trade between removing noise and keeping
detail, so ``--strength`` could only blend its result back toward the input. This network
is that same U-Net (subclassed: every block, size and speed property comes from
`DenoiseResUNet`) told *how much damage to remove*, as FFDNet and CBDNet are:

* a small **level estimator** reads the noisy input (4x4 pixel blocks folded into channels,
  two 3x3 convolutions at 1/4 of the side, one at 1/8) and gives the local RMS damage in
  8-bit levels for every 8x8 cell: the ``level`` grid, blind by default;
* the U-Net takes that grid, times the user's ``strength`` and bilinearly upsampled to its
  working resolution (1/2 of the side), as one more input of its head (FFDNet's
  noise-level map, here through its own 3x3 convolution added to the head's);
* its noise prediction is multiplied by ``min(1, level / 1 level)`` before it is subtracted,
  so strength 0 returns the input exactly, whatever the weights; above one 8-bit level of
  damage (all real noise) the gate is 1 and changes nothing.

Training conditions the U-Net on the *true* damage map (teacher forcing) and fits the
estimator to it on its own loss (`training.real_denoise_hooks`), so the level channel keeps
its meaning in 8-bit levels: halving it asks the network for the result it learnt for half
as much noise, which keeps fine grain (FFDNet's known behaviour under a low σ), doubling it
smooths more. ``strength`` may be a float, a (B,) tensor, or a map shaped as the grid.

Speed, forward on 1024x1024, channels_last, one thread, on this 2-core AMD EPYC (native
bfloat16), best of 3 interleaved with the shipped network's: 1.08 MP/s in float32 and 2.13
under bfloat16 autocast, against 1.12 and 2.20 for `denoise_resunet` (24, 3, 2): 97 % of
its speed (the estimator alone runs at ~25 MP/s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from engine.archs.base import FLOAT32_BYTES, check_width
from engine.archs.denoise_resunet import DenoiseResUNet
from engine.archs.registry import register_arch

__all__ = ["GRID", "LEVEL_UNIT", "DenoiseCond", "rms_pool"]

# Levels (0-255 scale) per unit of the conditioning channel: keeps it near 0-2 like the
# [-1, 1] image channels (FFDNet divides by 255, which leaves the channel ~0.1 and slow to learn).
LEVEL_UNIT = 25.0
GRID = 8  # one level per 8x8 pixels: the estimator's output cell
_GATE_LEVEL = 1.0  # below this many levels the prediction fades out (strength 0 = identity)
_RGB_IN = 3


def rms_pool(level_map: torch.Tensor, cell: int = GRID) -> torch.Tensor:
    """A per-pixel level map (B, 1, H, W) -> the RMS level of each ``cell``-sized cell,
    averaged over a window twice the cell (overlapping), so the target is as smooth as an
    estimate from a neighbourhood can be. H, W multiples of ``cell``."""
    energy = level_map.float().square()
    pooled = F.avg_pool2d(energy, 2 * cell, cell, padding=cell // 2, count_include_pad=False)
    return pooled.clamp_min(0.0).sqrt()


class _LevelEstimator(nn.Module):
    """Noisy RGB in [-1, 1] (B, 3, H, W) -> damage level per 8x8 cell, in 8-bit levels."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.unshuffle = nn.PixelUnshuffle(4)  # lossless: the first conv sees 12x12 px
        self.body = nn.Sequential(
            nn.Conv2d(16 * _RGB_IN, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(2),  # 1/4 -> 1/8 of the side: one cell per 8x8 pixels
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # softplus: a level is never negative, and its gradient never dies as ReLU's would.
        return F.softplus(self.body(self.unshuffle(x)).float()) * LEVEL_UNIT


@register_arch("denoise_cond")
class DenoiseCond(DenoiseResUNet):
    """Blind denoiser with a noise-level input, (B, 3, H, W) -> (B, 3, H, W); H, W multiples
    of 8. Defaults are the shipped `denoise_resunet` sizes.

    Args:
        base_channels, blocks, outer_blocks: as `DenoiseResUNet`.
        estimator_channels: width of the level estimator.
    """

    # Inherited: task "denoise", size_multiple 8, bfloat16_safe (the bfloat16 part is still
    # only the noise estimate; the level map is computed in float32), receptive_margin 32
    # (the estimator sees ±30 px with its upsampling, within the U-Net's margin).
    # forward takes strength / level: the engine's cue to pass them.
    conditioned: ClassVar[bool] = True
    # Trained networks this one can start from (`grow_from`), besides its own kind.
    grows_from: ClassVar[tuple[str, ...]] = ("denoise_resunet",)

    def __init__(
        self,
        base_channels: int = 24,
        blocks: int = 3,
        outer_blocks: int | None = 2,
        estimator_channels: int = 24,
    ) -> None:
        super().__init__(base_channels, blocks, outer_blocks)
        self.estimator_channels = check_width("estimator_channels", estimator_channels)
        # The level map's own 3x3 convolution, added to the plain head's: the same as one
        # more input channel of the head, without a concatenated copy (which is not
        # channels_last and cost ~10 % of the float32 speed). It starts at zero, so a
        # network started from a plain one computes what that one did.
        self.level_in = nn.Conv2d(1, self.widths[0], 3, padding=1, bias=False)
        nn.init.zeros_(self.level_in.weight)
        self.estimator = _LevelEstimator(self.estimator_channels)

    def estimate_level(self, x: torch.Tensor) -> torch.Tensor:
        """The estimated damage of ``x`` per 8x8 cell, (B, 1, H/8, W/8) in 8-bit levels."""
        return self.estimator(x)

    def level_grid(self, level: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
        """Any level description -> (B, 1, H/8, W/8) float32 for input ``x``: a number or
        (B,) tensor for the whole image, a (B, 1, H/8, W/8) grid, or a per-pixel
        (B, 1, H, W) map (RMS-pooled as training's targets are)."""
        batch, _, height, width = x.shape
        grid = (height // GRID, width // GRID)
        level = torch.as_tensor(level, dtype=torch.float32, device=x.device)
        if level.ndim <= 1 or tuple(level.shape[-2:]) == (1, 1):
            return level.reshape(-1, 1, 1, 1).expand(batch, 1, *grid)
        if tuple(level.shape[-2:]) == (height, width):
            return rms_pool(level)
        if tuple(level.shape[-2:]) != grid:
            raise ValueError(f"a level map must be {grid} or {(height, width)}, not {level.shape}")
        return level.float()

    def forward(
        self,
        x: torch.Tensor,
        strength: float | torch.Tensor = 1.0,
        level: torch.Tensor | float | None = None,
        *,
        return_level: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Denoise ``x`` as if its damage were ``level * strength`` (``level`` defaults to
        the estimate). With ``return_level`` also the estimate (computed even when ``level``
        is given: training fits it while the U-Net sees the true level)."""
        estimate = self.estimate_level(x) if level is None or return_level else None
        grid = estimate if level is None else self.level_grid(level, x)
        if isinstance(strength, torch.Tensor) and strength.ndim == 1:
            strength = strength.reshape(-1, 1, 1, 1)
        # At the U-Net's working resolution (1/2 of the side), for its head and its gate.
        wanted = F.interpolate(
            grid * strength, scale_factor=GRID // 2, mode="bilinear", align_corners=False
        )
        wanted = wanted.to(x.dtype)
        h = self.trunk(self.head(self.unshuffle(x)) + self.level_in(wanted / LEVEL_UNIT))
        gate = (wanted / _GATE_LEVEL).clamp(0.0, 1.0)
        out = (x - self.shuffle(self.tail(h) * gate)).clamp(-1.0, 1.0)
        return (out, estimate) if return_level else out

    def grow_from(self, state_dict: Mapping[str, torch.Tensor], kwargs: Mapping) -> None:
        """Start from a trained `denoise_cond` of other block counts, or from a plain
        `denoise_resunet` (``kwargs`` without ``estimator_channels``): the U-Net part goes
        through `DenoiseResUNet.grow_from`; the level input is copied or stays at zero, the
        estimator is copied when its width matches, else stays fresh."""
        theirs = dict(kwargs)
        their_estimator = theirs.pop("estimator_channels", None)
        own = ("estimator.", "level_in.")
        plain_state = {k: v for k, v in state_dict.items() if not k.startswith(own)}
        plain = DenoiseResUNet(self.widths[0], self.blocks, len(self.down[0][0]))
        plain.grow_from(plain_state, theirs)
        self.load_state_dict(plain.state_dict(), strict=False)
        if their_estimator is None:  # a plain U-Net: no level input, no estimator
            nn.init.zeros_(self.level_in.weight)
            return
        self.level_in.load_state_dict({"weight": state_dict["level_in.weight"]})
        if their_estimator == self.estimator_channels:
            prefix = "estimator."
            self.estimator.load_state_dict(
                {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
            )

    def bytes_per_pixel(self) -> int:
        """The U-Net's (see `DenoiseResUNet`, whose three working maps cover the level
        input's output too), plus the level map and the gate at 1/4 of the pixels, doubled
        like the rest for layout copies. The estimator runs first and its maps (at most 9
        floats a pixel: the input's unshuffled copy and two maps at 1/16) are gone before
        the U-Net's peak, so they add nothing to it."""
        return super().bytes_per_pixel() + math.ceil(FLOAT32_BYTES * 2 * 2 / 4)
