"""Exporting a training run into the engine's weight format (what ships)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from training_support import make_trainer, tiny_config

from engine import api
from engine import models as engine_models
from engine.weights import Manifest, load_weights
from training.config import ModelConfig
from training.errors import TrainingError
from training.export import export_run, inference_resolution, probe_input, training_hours
from training.export import main as export_main


def test_export_bakes_weights_the_engine_loads_with_identical_outputs(photos, tmp_path):
    make_trainer(tiny_config("denoise", steps=2), photos, tmp_path / "run").fit()
    target = tmp_path / "resources" / "weights" / "denoise.pt"
    result = export_run(tmp_path / "run", target)
    entry = Manifest.read(target.parent).find("denoise")
    assert entry.sha256 == result.sha256 and entry.file == "denoise.pt"
    assert "parameters" in result.card.read_text()
    loaded = load_weights(target, expected_sha256=result.sha256)
    net = loaded.build()
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    reference = loaded.build()
    reference.load_state_dict(state["ema"])
    probe = probe_input(net, "denoise")
    with torch.inference_mode():
        assert (net(probe) - reference(probe)).abs().max() <= 1 / 255
    # And the public API runs it from the manifest.
    image = (np.random.default_rng(1).random((64, 80, 3)) * 255).astype(np.uint8)
    out = api.denoise(image, options=api.RunOptions(device="cpu", resources=tmp_path / "resources"))
    assert out.shape == image.shape


def test_export_stores_a_colorizers_chroma_gain_and_refuses_it_for_other_tasks(photos, tmp_path):
    make_trainer(tiny_config("colorize", steps=1), photos, tmp_path / "col").fit()
    target = tmp_path / "weights" / "colorize.pt"
    result = export_run(tmp_path / "col", target, chroma_gain=1.4)
    assert load_weights(target).meta["chroma_gain"] == 1.4
    assert "chroma gain | ×1.4" in result.card.read_text()
    assert "chroma_gain" not in load_weights(export_run(tmp_path / "col", target).path).meta
    with pytest.raises(TrainingError, match=r"must be in \(0, 3\]"):
        export_run(tmp_path / "col", target, chroma_gain=0.0)
    make_trainer(tiny_config("denoise", steps=1), photos, tmp_path / "den").fit()
    with pytest.raises(TrainingError, match="--chroma-gain does not apply to denoise models"):
        export_run(tmp_path / "den", tmp_path / "weights" / "denoise.pt", chroma_gain=1.4)
    with pytest.raises(TrainingError, match="--threshold does not apply to denoise models"):
        export_run(tmp_path / "den", tmp_path / "weights" / "denoise.pt", threshold=0.4)
    assert not (tmp_path / "weights" / "denoise.pt").exists()


def test_export_stores_a_hint_colorizers_hint_patch_and_refuses_it_elsewhere(photos, tmp_path):
    tiny = {"base_channels": 4, "max_channels": 8}
    hinted = ModelConfig("colorize_hint", tiny, "colorize_patchgan", tiny)
    run = tiny_config("colorize", steps=1, dataset="colorize_hint", model=hinted)
    make_trainer(run, photos, tmp_path / "hint").fit()
    target = tmp_path / "weights" / "colorize.pt"
    cli = ["--hint-patch", "7", "--chroma-gain", "1.2", "-o", str(target)]
    assert export_main([str(tmp_path / "hint"), *cli]) == 0
    assert load_weights(target).meta["hint_patch"] == 7
    assert load_weights(target).meta["chroma_gain"] == 1.2
    assert "hint patch | 7×7 px square" in target.with_suffix(".md").read_text()
    model = engine_models.load_model("colorize", torch.device("cpu"), weights=target)
    assert model.hint_patch == 7  # the engine reads what was written
    assert "hint_patch" not in load_weights(export_run(tmp_path / "hint", target).path).meta
    for bad in (4, 0, 11):
        with pytest.raises(TrainingError, match=rf"--hint-patch has hint_patch {bad}: .*odd"):
            export_run(tmp_path / "hint", target, hint_patch=bad)
    with pytest.raises(TrainingError, match="--hint-patch has an invalid hint_patch True"):
        export_run(tmp_path / "hint", target, hint_patch=True)
    make_trainer(tiny_config("colorize", steps=1), photos, tmp_path / "col").fit()
    plain = tmp_path / "plain" / "colorize.pt"
    with pytest.raises(TrainingError, match="--hint-patch does not apply to colorize_unet"):
        export_run(tmp_path / "col", plain, hint_patch=5)
    make_trainer(tiny_config("denoise", steps=1), photos, tmp_path / "den").fit()
    with pytest.raises(TrainingError, match="--hint-patch does not apply to denoise models"):
        export_run(tmp_path / "den", tmp_path / "weights" / "denoise.pt", hint_patch=3)
    assert not plain.exists() and not (tmp_path / "weights" / "denoise.pt").exists()


def test_exported_inpainter_works_at_full_resolution_and_a_colorizer_at_its_crop_size():
    # A fully convolutional inpainter trained on small crops must not make the engine shrink
    # every hole's crop to that size (it cost 0.7 dB inside small holes).
    assert inference_resolution(tiny_config("inpaint")) == 512
    colorize = tiny_config("colorize")
    assert inference_resolution(colorize) == colorize.augment.crop_size


def test_a_failed_export_keeps_the_shipped_model(photos, tmp_path, monkeypatch):
    from training import export as export_module

    make_trainer(tiny_config("denoise", steps=2), photos, tmp_path / "run").fit()
    target = tmp_path / "weights" / "denoise.pt"
    first = export_run(tmp_path / "run", target)
    before = target.read_bytes()

    def broken(*_args, **_kwargs):
        raise TrainingError("export check failed: simulated")

    monkeypatch.setattr(export_module, "_verify", broken)
    with pytest.raises(TrainingError, match="simulated"):
        export_run(tmp_path / "run", target)
    assert target.read_bytes() == before
    assert Manifest.read(target.parent).find("denoise").sha256 == first.sha256
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "denoise.md",
        "denoise.pt",
        "manifest.json",
    ]


def test_card_records_training_time_without_resume_pauses_and_appends_notes(photos, tmp_path):
    run = tmp_path / "run"
    make_trainer(tiny_config("denoise", steps=2), photos, run).fit()
    log = run / "log.jsonl"
    # Three records 60 s apart, an hour's pause (a stop and --resume), then 30 s more.
    lines = [{"kind": "train", "step": i, "time": t} for i, t in
             enumerate([0, 60, 120, 3720, 3750])]  # fmt: skip
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    assert training_hours(run) == pytest.approx(150 / 3600)
    result = export_run(run, tmp_path / "w" / "denoise.pt", notes="## Status\nmeasured.")
    card = result.card.read_text("utf-8")
    assert "0.04 h of wall clock" in card and card.rstrip().endswith("## Status\nmeasured.")
