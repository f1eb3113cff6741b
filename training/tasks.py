"""What differs between the three GAN tasks: the generator call, what the critic sees, the
generator's loss terms, and how a batch becomes pictures. The loop in `trainer.py` is
shared; validation scores through the engine (`training.validation`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
from torch import nn

from engine.tasks.base import decode_rgb
from training.data import lab_to_rgb_tensor
from training.losses import GeneratorLoss, hole_l1, hole_mse

Batch = dict[str, torch.Tensor]


@dataclass
class Outputs:
    pred: torch.Tensor  # what the generator predicts (RGB in [-1, 1], or ab for colorize)
    coarse: torch.Tensor | None = None  # inpainting's first stage


def _unit(x: torch.Tensor) -> torch.Tensor:
    return decode_rgb(x.detach().float()).clamp(0.0, 1.0)


class TaskHooks(ABC):
    task: str

    def __init__(self, loss: GeneratorLoss) -> None:
        self.loss = loss

    @abstractmethod
    def generate(self, generator: nn.Module, batch: Batch) -> Outputs: ...

    @abstractmethod
    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        """The critic's input for the real target (pred None) or for a prediction."""

    @abstractmethod
    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        """(input, output, target) as B×3×H×W RGB in [0, 1]."""

    def generator_loss(
        self, batch: Batch, out: Outputs, fake_logits: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        return self.loss(out.pred, batch["target"], fake_logits=fake_logits)


class DenoiseHooks(TaskHooks):
    task = "denoise"

    def generate(self, generator: nn.Module, batch: Batch) -> Outputs:
        return Outputs(generator(batch["input"]))

    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        return batch["target"] if pred is None else pred

    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        return _unit(batch["input"]), _unit(out.pred), _unit(batch["target"])


class InpaintHooks(TaskHooks):
    """Mask convention: 1 = hole. The critic judges the composite (known pixels kept)."""

    task = "inpaint"

    def generate(self, generator: nn.Module, batch: Batch) -> Outputs:
        coarse, refined = generator(batch["input"], return_coarse=True)
        return Outputs(refined, coarse)

    @staticmethod
    def _composite(batch: Batch, pred: torch.Tensor) -> torch.Tensor:
        mask = batch["mask"]
        return pred * mask + batch["target"] * (1.0 - mask)

    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        image = batch["target"] if pred is None else self._composite(batch, pred)
        return torch.cat([image, batch["mask"]], dim=1)

    def generator_loss(
        self, batch: Batch, out: Outputs, fake_logits: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        total, parts = self.loss(
            out.pred, batch["target"], fake_logits=fake_logits, mask=batch["mask"]
        )
        if out.coarse is not None:
            # The coarse stage is supervised directly, as in DeepFill v2: by the hole-weighted
            # L1 when the refined output has an L1 term, else by the hole's squared error.
            w = self.loss.weights
            if w.reconstruction or w.l1:
                coarse = hole_l1(out.coarse, batch["target"], batch["mask"])
                weight = w.reconstruction or w.l1
            else:
                coarse = hole_mse(out.coarse, batch["target"], batch["mask"])
                weight = w.hole_mse or w.mse
            total = total + weight * coarse
            parts["coarse"] = float(coarse.detach())
        return total, parts

    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        shown_input = _unit(batch["input"][:, :3]) * (1 - batch["mask"]) + batch["mask"]
        return shown_input, _unit(self._composite(batch, out.pred)), _unit(batch["target"])


class ColorizeHooks(TaskHooks):
    """L in, ab out; the critic sees L + ab (conditional GAN, as pix2pix)."""

    task = "colorize"

    def generate(self, generator: nn.Module, batch: Batch) -> Outputs:
        return Outputs(generator(batch["input"]))

    def critic_input(self, batch: Batch, pred: torch.Tensor | None) -> torch.Tensor:
        return torch.cat([batch["input"], batch["target"] if pred is None else pred], dim=1)

    def visuals(self, batch: Batch, out: Outputs) -> tuple[torch.Tensor, ...]:
        lightness = batch["input"].detach().float().cpu()
        grey = lab_to_rgb_tensor(lightness, torch.zeros_like(batch["target"]).cpu())
        output = lab_to_rgb_tensor(lightness, out.pred.detach().float().cpu())
        target = lab_to_rgb_tensor(lightness, batch["target"].detach().float().cpu())
        return grey, output, target


HOOKS: dict[str, type[TaskHooks]] = {
    "denoise": DenoiseHooks,
    "inpaint": InpaintHooks,
    "colorize": ColorizeHooks,
}
