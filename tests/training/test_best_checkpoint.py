"""best.pt: the state of the best validation so far, kept beside last.pt and exportable."""

from __future__ import annotations

import pytest
import torch
from training_support import make_trainer, tiny_config

from engine.weights import load_weights
from training import trainer as trainer_module
from training.export import export_run
from training.export import main as export_main
from training.report import read_log
from training.validation import primary_metric


def _scripted(monkeypatch, scores: dict[int, float], trainer, emas: dict[int, dict]) -> None:
    """Validation as usual, but the primary metric at step s becomes scores[s]; the EMA
    weights each validation saw are recorded in `emas`."""
    real = trainer_module.validate_generator

    def validate(task, net, *args, **kwargs):
        result = real(task, net, *args, **kwargs)
        result.metrics[primary_metric(task)] = scores[trainer.step]
        emas[trainer.step] = {k: v.clone() for k, v in net.state_dict().items()}
        return result

    monkeypatch.setattr(trainer_module, "validate_generator", validate)


def test_the_best_validation_is_kept_beside_the_last_checkpoint(photos, tmp_path, monkeypatch):
    run = tmp_path / "run"
    trainer = make_trainer(tiny_config("inpaint", steps=5, val_every=1), photos, run)
    emas: dict[int, dict] = {}
    _scripted(monkeypatch, {1: 10.0, 2: 13.0, 3: 12.0, 4: 13.0, 5: float("nan")}, trainer, emas)
    result = trainer.fit()
    assert [r["psnr_hole"] for r in read_log(run, "val")][:4] == [10.0, 13.0, 12.0, 13.0]
    best = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    last = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    # A tie keeps the earlier state; NaN never wins.
    assert best["step"] == 2 and last["step"] == 5
    assert best["best"] == result.best == {"metric": "psnr_hole", "value": 13.0, "step": 2}
    assert best["last_metrics"]["psnr_hole"] == 13.0
    for key, value in emas[2].items():
        assert torch.equal(best["ema"][key], value), key
    assert any(not torch.equal(best["ema"][k], v) for k, v in last["ema"].items())
    # Exported by its path: the engine gets the best state's EMA generator.
    exported = export_run(run / "checkpoints" / "best.pt", tmp_path / "w" / "inpaint.pt",
                          allow_half=False)  # fmt: skip
    weights = load_weights(exported.path)
    assert weights.meta["steps"] == 2 and weights.meta["metrics"]["psnr_hole"] == 13.0
    for key, value in weights.state_dict.items():
        assert torch.equal(value, emas[2][key]), key
    assert read_log(run / "checkpoints" / "best.pt") == read_log(run)  # the card's hours
    # The command line's --best exports the same state from the run folder.
    assert export_main([str(run), "--best", "--fp32", "-o", str(tmp_path / "b" / "i.pt")]) == 0
    by_flag = load_weights(tmp_path / "b" / "i.pt")
    assert all(torch.equal(by_flag.state_dict[k], v) for k, v in weights.state_dict.items())


def test_a_resumed_run_remembers_its_best_score(photos, tmp_path, monkeypatch):
    run = tmp_path / "run"
    scores = {1: 5.0, 2: 9.0, 3: 7.0, 4: 8.5, 5: 9.5}
    first = make_trainer(tiny_config("denoise", steps=3, val_every=1), photos, run)
    _scripted(monkeypatch, scores, first, {})
    first.fit()
    resumed = make_trainer(tiny_config("denoise", steps=4, val_every=1), photos, run, resume=True)
    _scripted(monkeypatch, scores, resumed, {})
    assert resumed.best == {"metric": "psnr", "value": 9.0, "step": 2}
    resumed.fit()  # step 4 scores 8.5: below the best before the resume, so best.pt stays
    assert torch.load(run / "checkpoints" / "best.pt", weights_only=True)["step"] == 2
    resumed.cfg.steps = 5
    resumed.fit()
    assert torch.load(run / "checkpoints" / "best.pt", weights_only=True)["step"] == 5


@pytest.mark.parametrize(("task", "metric"), [("inpaint", "psnr_hole"), ("denoise", "psnr"),
                                              ("colorize", "psnr")])  # fmt: skip
def test_each_task_is_judged_by_its_primary_metric(task, metric):
    assert primary_metric(task) == metric


def test_a_resumed_run_beats_best_pt_even_when_it_is_newer_than_last_pt(
    photos, tmp_path, monkeypatch
):
    run = tmp_path / "run"
    first = make_trainer(tiny_config("denoise", steps=2, val_every=1), photos, run)
    _scripted(monkeypatch, {1: 5.0, 2: 6.0}, first, {})
    first.fit()
    best_file = run / "checkpoints" / "best.pt"
    state = torch.load(best_file, weights_only=True)
    state["best"] = {"metric": "psnr", "value": 9.0, "step": 3}  # validated after last.pt
    torch.save(state, best_file)
    resumed = make_trainer(tiny_config("denoise", steps=3, val_every=1), photos, run, resume=True)
    assert resumed.best == {"metric": "psnr", "value": 9.0, "step": 3}
