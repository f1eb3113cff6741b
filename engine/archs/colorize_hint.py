"""Hint-conditioned colorizer (Zhang et al. 2017, "Real-Time User-Guided Image Colorization
with Learned Deep Priors"): L plus sparse user colour hints in, ab out.

The shipped `colorize_unet` (subclassed: every layer, size and memory property is its own)
with 4 input channels instead of 1 (the encoding is `engine.hints.encode_input`):

0. normalised L, ``normalize_l`` as the shipped net;
1-2. hint ab, ``normalize_ab`` of the hint colour where a hint is, 0 elsewhere;
3. hint mask, 1 where a hint is, 0 elsewhere (it tells a grey hint, ab = 0, from no hint).

The three hint channels have their own 4x4 stride-2 convolution weight (``encoder.0.hint``,
no bias), the shipped first convolution's weight beside it: joined, they are one
convolution over the 4 channels (run as one, no sliced copies of the input). Kept apart so
that

* a network grown from the shipped one (`grow_from`) copies every weight unchanged, and the
  hint weight starts at zero: step 0 computes the shipped automatic result, hints or not,
  and training starts from there (the gradient of the hint weight is not zero where hints
  are, so it learns);
* a 1-channel L input is the automatic case exactly, the shipped computation: the hint
  weight is skipped. (The engine's `Colorizer` always sends the 4 channels, with an empty
  hint map when there are no hints; the hint convolution has no bias, so that is the same
  result.)

Speed: forward at 512x512, float32, channels_last, one thread, on the 2-core development
AMD EPYC (busy with a training run, so best of 40 interleaved): 58-67 ms against 60-65 ms
for the shipped `colorize_unet` (16, 128), i.e. the same within the noise; 256 px: 18 ms
for both. Its bytes per pixel are the shipped net's plus the 3 extra input floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from engine.archs.colorize_unet import ColorizeUNet
from engine.archs.registry import register_arch

__all__ = ["HINT_CHANNELS", "ColorizeHint"]

HINT_CHANNELS = 3  # hint a, hint b, mask
_HINT_KEY = "encoder.0.hint.weight"


class _HintEntry(nn.Sequential):
    """The encoder's first layer: the shipped (conv, LeakyReLU) pair, keeping its state-dict
    keys ``0.weight`` and ``0.bias``, plus the hint channels' convolution ``hint``."""

    def __init__(self, entry: nn.Sequential) -> None:
        conv, activation = entry[0], entry[1]
        assert isinstance(conv, nn.Conv2d)
        super().__init__(conv, activation)
        self.hint = nn.Conv2d(
            HINT_CHANNELS,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            bias=False,  # the L convolution's bias already shifts the sum
        )
        nn.init.zeros_(self.hint.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        conv, activation = self[0], self[1]
        if x.shape[1] == 1:  # L alone: the automatic case, the shipped computation
            return activation(conv(x))
        if x.shape[1] != 1 + HINT_CHANNELS:
            raise ValueError(f"expected 1 or {1 + HINT_CHANNELS} input channels, not {x.shape[1]}")
        # One convolution over the 4 channels, its weight the two joined: no sliced copies
        # of the input and one pass over it (two convolutions cost ~10 % at 512 px).
        weight = torch.cat([conv.weight, self.hint.weight], dim=1)
        return activation(F.conv2d(x, weight, conv.bias, conv.stride, conv.padding))


@register_arch("colorize_hint")
class ColorizeHint(ColorizeUNet):
    """U-Net generator: (B, 4, H, W) [L, hint a, hint b, mask] -> (B, 2, H, W) ab in [-1, 1];
    (B, 1, H, W) L alone means no hints. H and W multiples of 256. Arguments as
    `ColorizeUNet`; the defaults are its own, pass the shipped widths (16, 128) to grow
    from `colorize.pt`."""

    # Inherited: task "colorize", size_multiple 256, receptive_margin 64.
    # The engine's cue to build the hint channels (`engine.hints.encode_input`).
    takes_hints: ClassVar[bool] = True
    # Trained networks this one can start from (`grow_from`), besides its own kind.
    grows_from: ClassVar[tuple[str, ...]] = ("colorize_unet",)

    def __init__(
        self, base_channels: int = 64, max_channels: int = 512, use_dropout: bool = False
    ) -> None:
        super().__init__(base_channels, max_channels, use_dropout)
        self.in_channels = 1 + HINT_CHANNELS
        first = self.encoder[0]
        assert isinstance(first, nn.Sequential)
        self.encoder[0] = _HintEntry(first)

    def grow_from(self, state_dict: Mapping[str, torch.Tensor], kwargs: Mapping) -> None:
        """Start from a trained `colorize_unet` of the same widths (``kwargs`` are its
        constructor's): every weight and BatchNorm statistic is copied and the hint
        convolution is zeroed, so this network computes exactly what that one did. A
        `colorize_hint` (e.g. built with other dropout) keeps its hint convolution too."""
        try:
            missing, unexpected = self.load_state_dict(state_dict, strict=False)
        except RuntimeError as exc:  # a weight of another shape: other widths
            widths = {k: kwargs[k] for k in ("base_channels", "max_channels") if k in kwargs}
            raise ValueError(f"its widths {widths} differ from this network's") from exc
        if unexpected or not set(missing) <= {_HINT_KEY}:
            raise ValueError(
                f"it is not a colorize U-Net (missing {sorted(missing)[:3]}, "
                f"unexpected {sorted(unexpected)[:3]})"
            )
        if missing:  # a plain U-Net: the hints start with no say
            nn.init.zeros_(self.encoder[0].hint.weight)
