"""Training hooks of the noise-level-conditioned real-photo denoiser (issue 20).

The network (`engine.archs.denoise_cond`) has two parts with two jobs, trained in one
forward pass (one call, so DistributedDataParallel sees every parameter used):

* the U-Net is conditioned on the *true* damage level of most samples (teacher forcing, as
  FFDNet is trained), so its level input keeps its meaning in 8-bit levels and the user's
  strength scales a real quantity; the rest of each batch (`estimate_share`) is conditioned
  on the estimator's (detached) estimate, so the U-Net also learns to live with the
  estimator's errors, as it must at inference;
* the estimator is fitted to the RMS-pooled true level by CBDNet's asymmetric loss: an
  under-estimate (noise left in the result) costs `under_weight`, an over-estimate (a
  little extra smoothing) ``1 - under_weight``. Its only gradient is this loss, and Adam is
  invariant to a loss's scale, so `level_weight` only sets how the logged total reads.

Which samples are teacher-forced is fixed by position in the batch, not drawn: batches are
already in random order, and a draw from the global RNG would make a resumed run diverge
(the trainer's instance noise has its own generator for that reason).

Registered under ``"denoise_real"`` in `training.tasks.HOOKS` (below; `training.builder`
imports this module), as `training.data.real_dataset` registers its dataset; a config
selects the pair with ``dataset = "denoise_real"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from engine.archs.denoise_cond import LEVEL_UNIT, rms_pool
from training.losses import GeneratorLoss
from training.tasks import HOOKS, Batch, DenoiseHooks, Outputs

__all__ = ["LevelOutputs", "RealDenoiseHooks", "asymmetric_level_loss"]


@dataclass
class LevelOutputs(Outputs):
    level: torch.Tensor | None = None  # the estimator's (B, 1, H/8, W/8) levels
    true_level: torch.Tensor | None = None  # the RMS-pooled target of the same shape


def asymmetric_level_loss(
    estimate: torch.Tensor, truth: torch.Tensor, under_weight: float = 0.7
) -> torch.Tensor:
    """Mean ``|estimate - truth|`` in units of `LEVEL_UNIT`, an under-estimate weighted
    `under_weight` and an over-estimate ``1 - under_weight`` (CBDNet's α = 0.3, on L1)."""
    error = (estimate.float() - truth.float()) / LEVEL_UNIT
    weight = torch.where(error < 0, under_weight, 1.0 - under_weight)
    return (weight * error.abs()).mean()


class RealDenoiseHooks(DenoiseHooks):
    """`DenoiseHooks` for batches of `training.data.real_dataset.RealDenoiseDataset`.

    Args:
        loss: the content losses of the denoised image (the config's [losses]).
        level_weight: weight of `asymmetric_level_loss` in the total.
        estimate_share: share of each batch (its last samples) conditioned on the estimate.
        under_weight: see `asymmetric_level_loss`.
    """

    def __init__(
        self,
        loss: GeneratorLoss,
        level_weight: float = 0.1,
        estimate_share: float = 0.25,
        under_weight: float = 0.7,
    ) -> None:
        super().__init__(loss)
        if not 0.0 <= estimate_share <= 1.0 or not 0.0 < under_weight < 1.0:
            raise ValueError("estimate_share must be in [0, 1] and under_weight in (0, 1)")
        self.level_weight = level_weight
        self.estimate_share = estimate_share
        self.under_weight = under_weight

    def conditioning(self, true_level: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
        """The level grid each sample's U-Net sees: the truth for the first samples, the
        detached estimate for the last `estimate_share` of the batch (rounded down)."""
        batch = true_level.shape[0]
        forced = batch - int(batch * self.estimate_share)
        teacher = (torch.arange(batch, device=true_level.device) < forced).view(-1, 1, 1, 1)
        return torch.where(teacher, true_level, estimate.detach())

    def generate(self, generator: nn.Module, batch: Batch) -> Outputs:
        x = batch["input"]
        true_level = rms_pool(batch["level"])
        if self.estimate_share == 0.0:
            pred, estimate = generator(x, level=true_level, return_level=True)
        else:
            # The estimate must exist before the U-Net runs on it: estimate once (no graph),
            # then one forward pass that conditions on the mix and re-estimates with a graph.
            with torch.no_grad():
                estimate = _unwrap(generator).estimate_level(x)
            level = self.conditioning(true_level, estimate)
            pred, estimate = generator(x, level=level, return_level=True)
        return LevelOutputs(pred, level=estimate, true_level=true_level)

    def generator_loss(
        self, batch: Batch, out: Outputs, fake_logits: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        total, parts = super().generator_loss(batch, out, fake_logits)
        if isinstance(out, LevelOutputs) and out.level is not None:
            level = asymmetric_level_loss(out.level, out.true_level, self.under_weight)
            total = total + self.level_weight * level
            parts["level"] = float(level.detach())
            error = (out.level.detach() - out.true_level).abs().mean()
            parts["level_error"] = float(error)  # mean |error| in 8-bit levels, for the log
        return total, parts


def _unwrap(model: nn.Module) -> nn.Module:
    """The network inside a DistributedDataParallel wrapper (its methods are not wrapped)."""
    return getattr(model, "module", model)


HOOKS["denoise_real"] = RealDenoiseHooks
