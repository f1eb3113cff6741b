"""Starting a run from earlier weights (--init-from): another run, or an exported file."""

from __future__ import annotations

import pytest
import torch
from training_support import make_trainer, tiny_config

from engine.archs import build_arch
from engine.weights import load_weights
from training.config import ModelConfig, TrainConfig
from training.errors import TrainingError
from training.export import export_run


def test_init_from_starts_a_new_run_from_another_runs_ema_generator(photos, tmp_path):
    source = make_trainer(tiny_config("denoise", steps=2), photos, tmp_path / "l1")
    source.fit()
    tuned = make_trainer(tiny_config("denoise", steps=2), photos, tmp_path / "gan",
                         init_from=tmp_path / "l1")  # fmt: skip
    assert tuned.step == 0
    for p, q in zip(source.ema.parameters(), tuned.generator.parameters(), strict=True):
        assert torch.equal(p, q)
    # An exported weight file works too; a different architecture is refused by name.
    weights = tmp_path / "denoise.pt"
    export_run(tmp_path / "l1", weights)
    make_trainer(tiny_config("denoise", steps=1), photos, tmp_path / "w", init_from=weights)
    wider = {"base_channels": 8, "max_channels": 8}
    other = tiny_config("denoise", model=ModelConfig("denoise_unet", wider, "denoise_patchgan"))
    with pytest.raises(TrainingError, match="set \\[model\\] to match"):
        make_trainer(other, photos, tmp_path / "x", init_from=weights)
    with pytest.raises(TrainingError, match="--resume"):
        make_trainer(tiny_config("denoise"), photos, tmp_path / "l1", resume=True,
                     init_from=weights)  # fmt: skip


def test_init_from_a_shallower_resunet_grows_it_and_trains_on(photos, tmp_path):
    def resunet(blocks: int) -> TrainConfig:
        critic = {"base_channels": 4, "max_channels": 8}
        model = ModelConfig("denoise_resunet", {"base_channels": 4, "blocks": blocks},
                            "denoise_patchgan", critic)  # fmt: skip
        return tiny_config("denoise", steps=2, model=model)

    make_trainer(resunet(1), photos, tmp_path / "one").fit()
    weights = tmp_path / "one.pt"
    export_run(tmp_path / "one", weights)
    grown = make_trainer(resunet(2), photos, tmp_path / "two", init_from=weights)
    small = load_weights(weights)
    net = build_arch(small.arch, **small.arch_kwargs).eval()
    net.load_state_dict({k: v.float() for k, v in small.state_dict.items()})
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        expected = net(x)
        torch.testing.assert_close(grown.ema(x), expected, atol=2e-3, rtol=0)  # float16 file
    grown.fit()
    assert grown.step == 2
    wider = resunet(1)
    wider.model.generator_kwargs["base_channels"] = 8
    with pytest.raises(TrainingError, match="cannot start"):
        make_trainer(wider, photos, tmp_path / "x", init_from=tmp_path / "two")
