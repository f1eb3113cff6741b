"""Training hooks of the damage detector (issue 21): a segmentation network, trained on
`training.data.damage_dataset` samples by BCE-with-logits plus soft Dice (the config's
``[losses] bce`` and ``dice``, `LossWeights.for_task("detect")`), or with ``balanced_bce``
the BCE weighted by the samples' component-balanced ``weight``.

There is no adversarial term by default (a mask has no texture for a critic to judge), so
the trainer never runs the critic; `critic_input` still gives one a sensible input — the
photo with the true or predicted damage probability as a fourth channel — should a recipe
switch it on (`DEFAULT_MODELS` builds a 4-channel critic).
"""

from __future__ import annotations

import torch
from torch import nn

from training.tasks import HOOKS, Batch, Outputs, TaskHooks, _unit

__all__ = ["DetectHooks"]


def _grey(mask: torch.Tensor) -> torch.Tensor:
    """A B×1×H×W map on [0, 1] as a B×3×H×W grey picture."""
    return mask.detach().float().clamp(0.0, 1.0).expand(-1, 3, -1, -1)


class DetectHooks(TaskHooks):
    """Damaged RGB in, damage logits out, the label as target; the loss is the config's
    (`GeneratorLoss` computes its ``bce`` and ``dice`` terms from logits)."""

    task = "detect"

    def generate(self, generator: nn.Module, batch: Batch) -> Outputs:
        return Outputs(generator(batch["input"]))

    def generator_loss(
        self, batch: Batch, out: Outputs, fake_logits: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        return self.loss(
            out.pred, batch["target"], fake_logits=fake_logits, pixel_weight=batch.get("weight")
        )

    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        mask = batch["target"] if pred is None else torch.sigmoid(pred)
        return torch.cat([batch["input"], mask], dim=1)

    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        """(damaged | predicted probability | true mask) as RGB pictures."""
        predicted = torch.sigmoid(out.pred.detach().float())
        return _unit(batch["input"]), _grey(predicted), _grey(batch["target"])


HOOKS["detect"] = DetectHooks
