"""The GAN training loop end to end, with tiny widths on tiny synthetic photos (CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_support import make_trainer, tiny_config

from training import cli as training_cli
from training.errors import DivergedError, MissingVGGWeights, TrainingError
from training.report import read_log
from training.trainer import Trainer


@pytest.mark.parametrize("task", ["denoise", "inpaint", "colorize"])
def test_a_few_steps_of_each_trainer(task, photos, tmp_path):
    trainer = make_trainer(tiny_config(task), photos, tmp_path / "run")
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    result = trainer.fit()
    assert result.steps == 4 and result.checkpoint.is_file()
    changed = [
        not torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters(), strict=True)
    ]
    # Nearly all tensors move (the attention's query/key start with zero gain, so their first
    # updates can be below float32 resolution).
    assert sum(changed) / len(changed) > 0.9
    records = read_log(tmp_path / "run", "train")
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    for record in records:
        assert all(np.isfinite(v) for k, v in record.items() if k.startswith(("g_", "d")))
    assert any("d" in r for r in records)  # the critic took part
    val = read_log(tmp_path / "run", "val")[-1]
    assert np.isfinite(val["psnr"])
    assert (tmp_path / "run" / "samples" / "step_0000004.png").is_file()


def test_resume_continues_exactly_like_an_uninterrupted_run(photos, tmp_path):
    straight = make_trainer(tiny_config("inpaint", steps=6), photos, tmp_path / "a")
    straight.fit()
    first = make_trainer(tiny_config("inpaint", steps=3), photos, tmp_path / "b")
    first.fit()
    resumed = make_trainer(tiny_config("inpaint"), photos, tmp_path / "b", resume=True)
    assert resumed.step == 3
    resumed.cfg.steps = 6
    resumed.fit()
    a = [(r["g_total"], r["d"]) for r in read_log(tmp_path / "a", "train")]
    b = [(r["g_total"], r["d"]) for r in read_log(tmp_path / "b", "train")]
    assert len(a) == len(b) == 6
    np.testing.assert_allclose(b, a, rtol=1e-6)  # the critic's noise too: exact continuation
    for p, q in zip(straight.generator.parameters(), resumed.generator.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_a_finished_run_is_not_overwritten_without_resume(photos, tmp_path):
    make_trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run").fit()
    with pytest.raises(TrainingError, match="--resume"):
        make_trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run")


def test_divergence_stops_with_the_step_and_keeps_the_last_good_checkpoint(
    photos, tmp_path, monkeypatch
):
    trainer = make_trainer(tiny_config("inpaint", steps=6), photos, tmp_path / "run")
    original = trainer.hooks.generator_loss

    def explode_at_step_3(batch, out, fake_logits):
        total, parts = original(batch, out, fake_logits)
        return (total * float("nan"), parts) if trainer.step == 2 else (total, parts)

    monkeypatch.setattr(trainer.hooks, "generator_loss", explode_at_step_3)
    with pytest.raises(DivergedError, match="step 3.*generator"):
        trainer.fit()
    kept = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert kept["step"] == 2


def test_perceptual_loss_without_vgg_weights_refuses_to_start(photos, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "no-hub"))
    cfg = tiny_config("denoise")
    assert cfg.losses.perceptual > 0
    with pytest.raises(MissingVGGWeights, match="--vgg-weights"):
        Trainer(cfg, [photos], tmp_path / "run", device="cpu", show_progress=False)


def test_cosine_schedule_warms_up_then_decays_per_step_to_its_floor(photos, tmp_path):
    cfg = tiny_config("denoise", steps=8)
    cfg.optim.schedule, cfg.optim.lr_warmup_steps, cfg.optim.lr_min_factor = "cosine", 2, 0.1
    cfg.optim.lr_generator = 1e-3
    make_trainer(cfg, photos, tmp_path / "run").fit()
    lrs = [r["lr"] for r in read_log(tmp_path / "run", "train")]
    assert lrs[0] == pytest.approx(1e-3)  # after one step of a 2-step warm-up: full rate
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))  # then only down
    assert lrs[-1] == pytest.approx(1e-4)  # the floor at the last step


def test_resuming_with_other_data_folders_is_refused(photos, tmp_path):
    make_trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run").fit()
    other = tmp_path / "other"
    other.mkdir()
    for path in sorted(photos.iterdir())[:4]:
        (other / path.name).write_bytes(path.read_bytes())
    with pytest.raises(TrainingError, match="same --data"):
        make_trainer(tiny_config("inpaint"), other, tmp_path / "run", resume=True)


def test_cli_refuses_an_empty_folder_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = training_cli.main(
        ["denoise", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"), "--quiet"]
    )
    assert code == training_cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "empty" in err and err.count("\n") == 1
