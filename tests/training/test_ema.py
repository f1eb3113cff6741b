"""The EMA generator: its BatchNorm statistics are those of its own (averaged) weights."""

from __future__ import annotations

import copy

import torch
from torch import nn
from training_support import make_trainer, tiny_config

from training.ema import ema_decay, recalibrate_batchnorm, update_ema


def test_batchnorm_recalibration_gives_the_statistics_of_the_nets_own_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.Dropout(0.5)).eval()
    net[1].running_mean.fill_(5.0)  # statistics of some other weights
    batches = [{"input": torch.randn(4, 1, 12, 12) * (i + 1)} for i in range(3)]
    assert recalibrate_batchnorm(net, batches, lambda n, b: n(b["input"]))
    with torch.no_grad():
        features = [net[0](b["input"]) for b in batches]
    expected = torch.stack([f.mean(dim=(0, 2, 3)) for f in features]).mean(0)
    torch.testing.assert_close(net[1].running_mean, expected)
    assert net[1].momentum == 0.1 and not net.training and not net[2].training
    # Nothing to do without BatchNorm or without batches: reported, nothing changed.
    plain = nn.Conv2d(1, 1, 3)
    assert not recalibrate_batchnorm(plain, batches, lambda n, b: n(b["input"]))
    assert not recalibrate_batchnorm(net, [], lambda n, b: n(b["input"]))


def test_the_ema_moves_by_one_minus_its_decay_which_starts_short():
    ema, live = nn.Linear(2, 2), nn.Linear(2, 2)
    start = ema.weight.detach().clone()
    update_ema(ema, live, 0.9)
    torch.testing.assert_close(ema.weight, start + 0.1 * (live.weight - start))
    assert ema_decay(0.999, 0) == 0.1 and ema_decay(0.999, 10**6) == 0.999


def test_the_saved_ema_colorizer_carries_batchnorm_statistics_of_its_own_weights(photos, tmp_path):
    trainer = make_trainer(tiny_config("colorize", steps=3), photos, tmp_path / "run")
    trainer.fit()
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    reference = copy.deepcopy(trainer.ema)
    assert recalibrate_batchnorm(reference, trainer.recent_batches, lambda n, b: n(b["input"]))
    key = "encoder.1.1.running_mean"
    torch.testing.assert_close(state["ema"][key], reference.state_dict()[key])
    # ...which differ from the live generator's: its weights are not the average's.
    assert not torch.allclose(state["ema"][key], state["generator"][key])
