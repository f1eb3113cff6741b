"""Training hooks of the hint-conditioned colorizer (issue 22), selected by a recipe's
``dataset = "colorize_hint"``.

The generator call and the loss are `ColorizeHooks`' (4-channel input -> ab, squared error
or whatever [losses] says). Two things read the input as L and must take only its first
channel: the critic, which judges L + ab (3 channels, the `colorize_patchgan` default: a
critic shown the hints would judge the pins, not the picture), and the sample pictures,
whose input shows the grey photo with each hint's colour painted over its patch.
"""

from __future__ import annotations

import torch

from training.data import lab_to_rgb_tensor
from training.tasks import HOOKS, Batch, ColorizeHooks, Outputs

__all__ = ["HintColorizeHooks"]


class HintColorizeHooks(ColorizeHooks):
    """`ColorizeHooks` for batches of `training.data.hint_dataset.HintColorizeDataset`."""

    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        lightness = batch["input"][:, :1]
        return torch.cat([lightness, batch["target"] if pred is None else pred], dim=1)

    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        x = batch["input"].detach().float().cpu()
        lightness, hints, mask = x[:, :1], x[:, 1:3], x[:, 3:4]
        shown = lab_to_rgb_tensor(lightness, hints * mask)  # grey, hint colours on their patch
        output = lab_to_rgb_tensor(lightness, out.pred.detach().float().cpu())
        target = lab_to_rgb_tensor(lightness, batch["target"].detach().float().cpu())
        return shown, output, target


HOOKS["colorize_hint"] = HintColorizeHooks
