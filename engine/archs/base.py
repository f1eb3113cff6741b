"""The contract between a network and the inference code (tiling, padding, memory planning).

A generator tells the tiler three things: which multiple the input size must be padded to,
how many pixels of context a tile edge needs (the overlap), and roughly how many bytes of
activations one input pixel costs (the tile size, from free memory). Discriminators are
registered too (training rebuilds them by name) but are never run by the inference code;
``role`` lets a weight loader refuse to use one as a generator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import torch
from torch import nn

from engine.archs.layers import conv_output_size, conv_receptive_field

__all__ = ["Discriminator", "Generator", "check_width"]

FLOAT32_BYTES = 4


def check_width(name: str, value: int, minimum: int = 1) -> int:
    """Validate a channel-width argument. Raises TypeError/ValueError (mapped by ``build_arch``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


class Generator(nn.Module):
    """Base of every image-to-image network the engine runs.

    Subclasses set ``task`` and ``size_multiple`` as class attributes and ``in_channels`` /
    ``out_channels`` in their constructor.
    """

    role: ClassVar[str] = "generator"
    task: ClassVar[str]
    size_multiple: ClassVar[int]
    # True when running the convolutions in bfloat16 was measured to change nothing that
    # matters; the engine then may, on CPUs that compute bfloat16 natively.
    bfloat16_safe: ClassVar[bool] = False
    in_channels: int
    out_channels: int

    def receptive_margin(self) -> int:
        """Rough pixels of context needed at a tile edge (used as the tile overlap)."""
        raise NotImplementedError

    def bytes_per_pixel(self) -> int:
        """Rough peak float32 activation bytes per input pixel during inference."""
        raise NotImplementedError

    def grow_from(self, state_dict: Mapping[str, torch.Tensor], kwargs: Mapping) -> None:
        """Start from the weights of a trained network of the same architecture built with
        other ``kwargs`` (e.g. fewer blocks: this one then computes exactly what that one
        did), so training goes on from there instead of from scratch. Architectures that
        cannot do this say so."""
        raise ValueError(f"{type(self).__name__} cannot start from a network of another size")


class Discriminator(nn.Module):
    """Base of the PatchGAN critics: they map an image to a map of per-patch logits.

    A subclass builds its convolutions as ``self.layers`` (an ``nn.Sequential``); the
    forward pass and the patch geometry follow from that stack.
    """

    role: ClassVar[str] = "discriminator"
    task: ClassVar[str]
    in_channels: int
    layers: nn.Sequential

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def receptive_field(self) -> int:
        """Side in input pixels of the square patch that one output logit sees."""
        return conv_receptive_field(self)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size of the logit map for an ``height`` x ``width`` input."""
        return conv_output_size(self, height), conv_output_size(self, width)
