"""What the inpainting task adds to the generator's loss: supervision of the coarse stage."""

from __future__ import annotations

import pytest
import torch

from training.losses import GeneratorLoss, LossWeights, hole_l1, hole_mse
from training.tasks import InpaintHooks, Outputs


def _batch_and_outputs() -> tuple[dict[str, torch.Tensor], Outputs]:
    torch.manual_seed(0)
    target = torch.rand(2, 3, 8, 8) * 2 - 1
    mask = torch.zeros(2, 1, 8, 8)
    mask[..., 2:6, 2:6] = 1
    batch = {"input": torch.cat([target * (1 - mask), mask], 1), "target": target, "mask": mask}
    return batch, Outputs(pred=target + 0.1, coarse=target - 0.4)


def test_coarse_stage_is_scored_like_the_refined_one_under_hole_mse() -> None:
    batch, out = _batch_and_outputs()
    hooks = InpaintHooks(GeneratorLoss(LossWeights(hole_mse=2.0)))
    total, parts = hooks.generator_loss(batch, out, fake_logits=None)
    coarse = hole_mse(out.coarse, batch["target"], batch["mask"])
    assert parts["coarse"] == pytest.approx(float(coarse))
    assert parts["coarse"] == pytest.approx(0.16)  # (-0.4)^2 everywhere in the hole
    assert float(total) == pytest.approx(2.0 * (0.01 + 0.16))


def test_coarse_stage_gets_deepfills_hole_l1_when_the_loss_has_l1_terms() -> None:
    batch, out = _batch_and_outputs()
    hooks = InpaintHooks(GeneratorLoss(LossWeights(reconstruction=1.0, hole_mse=5.0)))
    _, parts = hooks.generator_loss(batch, out, fake_logits=None)
    assert parts["coarse"] == pytest.approx(
        float(hole_l1(out.coarse, batch["target"], batch["mask"]))
    )
