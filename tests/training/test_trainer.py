"""The GAN trainers end to end, with tiny widths on tiny synthetic photos (CPU)."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from engine import api
from engine.weights import Manifest, load_weights
from training import cli as training_cli
from training.config import ModelConfig, OptimConfig, TrainConfig, load_config
from training.errors import DivergedError, MissingVGGWeights, TrainingError
from training.export import export_run, inference_resolution, probe_input, training_hours
from training.report import read_log
from training.trainer import Trainer, recalibrate_batchnorm

ROOT = Path(__file__).resolve().parents[2]

TINY_MODELS = {
    "denoise": ModelConfig(
        "denoise_unet",
        {"base_channels": 4, "max_channels": 8},
        "denoise_patchgan",
        {"base_channels": 4, "max_channels": 8},
    ),
    "inpaint": ModelConfig(
        "inpaint_gated", {"base_channels": 4}, "inpaint_patchgan", {"base_channels": 4}
    ),
    "colorize": ModelConfig(
        "colorize_unet",
        {"base_channels": 4, "max_channels": 8},
        "colorize_patchgan",
        {"base_channels": 4, "max_channels": 8},
    ),
}
CROPS = {"denoise": 128, "inpaint": 32, "colorize": 256}


def tiny_config(task: str, steps: int = 4, **changes) -> TrainConfig:
    cfg = TrainConfig(
        task=task,
        steps=steps,
        batch_size=2,
        val_fraction=0.2,
        val_max_images=2,
        val_every=4,
        checkpoint_every=2,
        log_every=1,
        samples=2,
        min_image_side=32,
        model=TINY_MODELS[task],
    )
    cfg.augment.crop_size = CROPS[task]
    cfg.stability.d_skip_below = 0.0
    for key, value in changes.items():
        setattr(cfg, key, value)
    return cfg


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Ten small 'photos' with smooth colour structure (what the losses can learn from)."""
    folder = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96] / 96.0
    for i in range(10):
        channels = [
            0.5 + 0.4 * np.sin(6 * xx * rng.uniform(0.5, 2) + rng.uniform(0, 6) + yy)
            for _ in range(3)
        ]
        image = (np.stack(channels, axis=2) * 255).astype(np.uint8)
        Image.fromarray(image).save(folder / f"photo_{i}.png")
    return folder


def _trainer(cfg, photos, run_dir, **kwargs) -> Trainer:
    return Trainer(
        cfg, [photos], run_dir, device="cpu", allow_random_vgg=True, show_progress=False, **kwargs
    )


@pytest.mark.parametrize("task", ["denoise", "inpaint", "colorize"])
def test_a_few_steps_of_each_trainer(task, photos, tmp_path):
    trainer = _trainer(tiny_config(task), photos, tmp_path / "run")
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
    straight = _trainer(tiny_config("inpaint", steps=6), photos, tmp_path / "a")
    straight.fit()
    first = _trainer(tiny_config("inpaint", steps=3), photos, tmp_path / "b")
    first.fit()
    resumed = _trainer(tiny_config("inpaint"), photos, tmp_path / "b", resume=True)
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
    _trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run").fit()
    with pytest.raises(TrainingError, match="--resume"):
        _trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run")


def test_divergence_stops_with_the_step_and_keeps_the_last_good_checkpoint(
    photos, tmp_path, monkeypatch
):
    trainer = _trainer(tiny_config("inpaint", steps=6), photos, tmp_path / "run")
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


def test_export_bakes_weights_the_engine_loads_with_identical_outputs(photos, tmp_path):
    _trainer(tiny_config("denoise", steps=2), photos, tmp_path / "run").fit()
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
    _trainer(tiny_config("colorize", steps=1), photos, tmp_path / "col").fit()
    target = tmp_path / "weights" / "colorize.pt"
    result = export_run(tmp_path / "col", target, chroma_gain=1.4)
    assert load_weights(target).meta["chroma_gain"] == 1.4
    assert "chroma gain | ×1.4" in result.card.read_text()
    assert "chroma_gain" not in load_weights(export_run(tmp_path / "col", target).path).meta
    with pytest.raises(TrainingError, match="chroma gain must be in"):
        export_run(tmp_path / "col", target, chroma_gain=0.0)
    _trainer(tiny_config("denoise", steps=1), photos, tmp_path / "den").fit()
    with pytest.raises(TrainingError, match="for colorization models, not denoise"):
        export_run(tmp_path / "den", tmp_path / "weights" / "denoise.pt", chroma_gain=1.4)
    assert not (tmp_path / "weights" / "denoise.pt").exists()


def test_exported_inpainter_works_at_full_resolution_and_a_colorizer_at_its_crop_size():
    # A fully convolutional inpainter trained on small crops must not make the engine shrink
    # every hole's crop to that size (it cost 0.7 dB inside small holes).
    assert inference_resolution(tiny_config("inpaint")) == 512
    colorize = tiny_config("colorize")
    assert inference_resolution(colorize) == colorize.augment.crop_size


def test_config_file_is_typed_and_typos_are_refused(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("steps = 50\nbatch_size = 4\n[augment]\ncrop_size = 64\n[losses]\nl1 = 2\n")
    cfg = load_config("colorize", good)
    assert (cfg.steps, cfg.batch_size, cfg.augment.crop_size, cfg.losses.l1) == (50, 4, 64, 2.0)
    assert cfg.losses.adversarial > 0  # untouched fields keep the task's defaults
    typo = tmp_path / "typo.toml"
    typo.write_text("[optim]\nlr_genrator = 0.1\n")
    with pytest.raises(TrainingError, match="optim.lr_genrator"):
        load_config("denoise", typo)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('batch_size = "eight"\n')
    with pytest.raises(TrainingError, match="batch_size must be int"):
        load_config("denoise", wrong)


def test_cli_refuses_an_empty_folder_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = training_cli.main(
        ["denoise", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"), "--quiet"]
    )
    assert code == training_cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "empty" in err and err.count("\n") == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tiny_inpaint_toml(path: Path, steps: int, checkpoint_every: int) -> Path:
    path.write_text(
        f"steps = {steps}\nbatch_size = 2\nval_fraction = 0.2\nval_max_images = 2\n"
        f"val_every = {steps}\ncheckpoint_every = {checkpoint_every}\nlog_every = 1\n"
        "min_image_side = 32\n"
        "[augment]\ncrop_size = 32\n[losses]\nperceptual = 0.0\nstyle = 0.0\n"
        '[model]\ngenerator = "inpaint_gated"\ndiscriminator = "inpaint_patchgan"\n'
        "[model.generator_kwargs]\nbase_channels = 4\n"
        "[model.discriminator_kwargs]\nbase_channels = 4\n"
    )
    return path


def test_a_run_killed_with_sigkill_resumes_from_its_last_checkpoint(photos, tmp_path):
    config = _tiny_inpaint_toml(tmp_path / "tiny.toml", steps=100000, checkpoint_every=1)
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "training",
        "inpaint",
        "--data",
        str(photos),
        "--out",
        str(run),
        "--config",
        str(config),
        "--device",
        "cpu",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while len(read_log(run, "train")) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)  # mid-step, possibly mid-checkpoint
        process.wait()
    kept = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"]
    assert kept >= 4
    result = subprocess.run(
        command[:-1] + ["--resume", "--steps", str(kept + 2), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [r["step"] for r in read_log(run, "train")]
    assert steps == list(range(1, kept + 3))  # records after the checkpoint were replayed once


def test_two_process_gloo_run_under_torchrun(photos, tmp_path):
    config = _tiny_inpaint_toml(tmp_path / "tiny.toml", steps=3, checkpoint_every=3)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_free_port()),
            "-m",
            "training",
            "inpaint",
            "--data",
            str(photos),
            "--out",
            str(tmp_path / "run"),
            "--config",
            str(config),
            "--device",
            "cpu",
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    steps = [r["step"] for r in read_log(tmp_path / "run", "train")]
    assert steps == [1, 2, 3]  # rank 0 alone writes the log
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def test_settings_that_would_crash_later_are_refused_at_start():
    with pytest.raises(TrainingError, match="val_every must be at least 1"):
        TrainConfig(task="denoise", val_every=0)
    with pytest.raises(TrainingError, match="val_fraction"):
        TrainConfig(task="denoise", val_fraction=0.0)


def test_resuming_with_other_data_folders_is_refused(photos, tmp_path):
    _trainer(tiny_config("inpaint", steps=2), photos, tmp_path / "run").fit()
    other = tmp_path / "other"
    other.mkdir()
    for path in sorted(photos.iterdir())[:4]:
        (other / path.name).write_bytes(path.read_bytes())
    with pytest.raises(TrainingError, match="same --data"):
        Trainer(
            tiny_config("inpaint"),
            [other],
            tmp_path / "run",
            device="cpu",
            resume=True,
            allow_random_vgg=True,
            show_progress=False,
        )


def test_a_failed_export_keeps_the_shipped_model(photos, tmp_path, monkeypatch):
    from training import export as export_module

    _trainer(tiny_config("denoise", steps=2), photos, tmp_path / "run").fit()
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


def test_cosine_schedule_warms_up_then_decays_per_step_to_its_floor(photos, tmp_path):
    cfg = tiny_config("denoise", steps=8)
    cfg.optim.schedule, cfg.optim.lr_warmup_steps, cfg.optim.lr_min_factor = "cosine", 2, 0.1
    cfg.optim.lr_generator = 1e-3
    _trainer(cfg, photos, tmp_path / "run").fit()
    lrs = [r["lr"] for r in read_log(tmp_path / "run", "train")]
    assert lrs[0] == pytest.approx(1e-3)  # after one step of a 2-step warm-up: full rate
    assert all(a >= b for a, b in zip(lrs, lrs[1:], strict=False))  # then only down
    assert lrs[-1] == pytest.approx(1e-4)  # the floor at the last step
    with pytest.raises(TrainingError, match="optim.schedule"):
        TrainConfig(task="denoise", optim=OptimConfig(schedule="linear"))


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


def test_the_saved_ema_colorizer_carries_batchnorm_statistics_of_its_own_weights(photos, tmp_path):
    trainer = _trainer(tiny_config("colorize", steps=3), photos, tmp_path / "run")
    trainer.fit()
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    reference = copy.deepcopy(trainer.ema)
    assert recalibrate_batchnorm(reference, trainer.recent_batches, lambda n, b: n(b["input"]))
    key = "encoder.1.1.running_mean"
    torch.testing.assert_close(state["ema"][key], reference.state_dict()[key])
    # ...which differ from the live generator's: its weights are not the average's.
    assert not torch.allclose(state["ema"][key], state["generator"][key])


def test_init_from_starts_a_new_run_from_another_runs_ema_generator(photos, tmp_path):
    source = _trainer(tiny_config("denoise", steps=2), photos, tmp_path / "l1")
    source.fit()
    tuned = _trainer(tiny_config("denoise", steps=2), photos, tmp_path / "gan",
                     init_from=tmp_path / "l1")  # fmt: skip
    assert tuned.step == 0
    for p, q in zip(source.ema.parameters(), tuned.generator.parameters(), strict=True):
        assert torch.equal(p, q)
    # An exported weight file works too; a different architecture is refused by name.
    weights = tmp_path / "denoise.pt"
    export_run(tmp_path / "l1", weights)
    _trainer(tiny_config("denoise", steps=1), photos, tmp_path / "w", init_from=weights)
    wider = {"base_channels": 8, "max_channels": 8}
    other = tiny_config("denoise", model=ModelConfig("denoise_unet", wider, "denoise_patchgan"))
    with pytest.raises(TrainingError, match="set \\[model\\] to match"):
        _trainer(other, photos, tmp_path / "x", init_from=weights)
    with pytest.raises(TrainingError, match="--resume"):
        _trainer(tiny_config("denoise"), photos, tmp_path / "l1", resume=True,
                 init_from=weights)  # fmt: skip


def test_init_from_a_shallower_resunet_grows_it_and_trains_on(photos, tmp_path):
    def resunet(blocks: int) -> TrainConfig:
        critic = {"base_channels": 4, "max_channels": 8}
        model = ModelConfig("denoise_resunet", {"base_channels": 4, "blocks": blocks},
                            "denoise_patchgan", critic)  # fmt: skip
        return tiny_config("denoise", steps=2, model=model)

    _trainer(resunet(1), photos, tmp_path / "one").fit()
    weights = tmp_path / "one.pt"
    export_run(tmp_path / "one", weights)
    grown = _trainer(resunet(2), photos, tmp_path / "two", init_from=weights)
    from engine.archs import build_arch

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
        _trainer(wider, photos, tmp_path / "x", init_from=tmp_path / "two")


def test_card_records_training_time_without_resume_pauses_and_appends_notes(photos, tmp_path):
    run = tmp_path / "run"
    _trainer(tiny_config("denoise", steps=2), photos, run).fit()
    log = run / "log.jsonl"
    # Three records 60 s apart, an hour's pause (a stop and --resume), then 30 s more.
    lines = [{"kind": "train", "step": i, "time": t} for i, t in
             enumerate([0, 60, 120, 3720, 3750])]  # fmt: skip
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    assert training_hours(run) == pytest.approx(150 / 3600)
    result = export_run(run, tmp_path / "w" / "denoise.pt", notes="## Status\nmeasured.")
    card = result.card.read_text("utf-8")
    assert "0.04 h of wall clock" in card and card.rstrip().endswith("## Status\nmeasured.")


CONFIGS = sorted((ROOT / "training" / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads_and_builds_its_networks(path):
    from engine.archs import build_arch

    task = path.name.split("_")[0]  # configs are named after their task
    cfg = load_config(task, path)
    generator = build_arch(cfg.model.generator, **cfg.model.generator_kwargs)
    critic = build_arch(cfg.model.discriminator, **cfg.model.discriminator_kwargs)
    assert generator.task == critic.task == task
