"""The installation self-test, unfrozen: what it checks and how it reports a broken install."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from engine import api, selftest
from engine.archs import build_arch
from engine.weights import (
    Manifest,
    ModelEntry,
    resources_dir,
    save_weights,
    sha256_of,
    write_manifest,
)

SHIPPED = resources_dir()


def _resources(tmp_path: Path, models: dict[str, Path]) -> Path:
    """A resources/ folder with the sample photos and a manifest vouching for `models`."""
    root = tmp_path / "resources"
    shutil.copytree(SHIPPED / "samples", root / "samples")
    weights = root / "weights"
    weights.mkdir()
    entries = []
    for task, source in models.items():
        target = weights / f"{task}.pt"
        shutil.copy(source, target)
        entries.append(
            ModelEntry(task, task, "blind", target.name, sha256_of(target), target.stat().st_size)
        )
    write_manifest(weights, entries)
    return root


def _shipped_denoiser() -> Path:
    return _shipped("denoise")


def _shipped(task: str) -> Path:
    manifest = Manifest.load(SHIPPED)
    return manifest.directory / manifest.find(task).file


def test_the_shipped_resources_pass_and_unshipped_tasks_are_not_failures():
    report = api.self_test()
    assert report.ok, report.line()
    shipped = {entry.task for entry in Manifest.load().entries}
    line = report.line()
    assert line.startswith("self-test passed")
    for task in selftest.TASKS:
        assert f"{task} ok" in line if task in shipped else f"{task} not shipped" in line
    assert "image i/o ok" in line
    assert "\n" not in line
    assert report.resources == SHIPPED


def test_every_task_runs_when_every_model_is_shipped(tmp_path, tiny_weights):
    # Trained networks where the check needs one that works (noise removed, a scratch found).
    models = {**tiny_weights, "denoise": _shipped_denoiser(), "detect": _shipped("detect")}
    report = api.self_test(_resources(tmp_path, models))
    assert report.ok, report.line()
    statuses = {check.name: check.status for check in report.checks}
    assert statuses == {
        "denoise": selftest.Status.OK,
        "inpaint": selftest.Status.OK,
        "colorize": selftest.Status.OK,
        "detect": selftest.Status.OK,
        "image i/o": selftest.Status.OK,
    }
    assert "dB" in report.line() and "hole pixels filled" in report.line()
    assert "of a scratch found" in report.line()


def test_a_detector_that_marks_everything_fails(tmp_path):
    net = build_arch("detect_unet", base_channels=4, deep_blocks=1, fine_channels=4)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        net.refine[1].bias.fill_(10.0)  # every pixel: damage, sure
    path = tmp_path / "detect.pt"
    save_weights(path, net, task="detect")
    report = api.self_test(_resources(tmp_path, {"detect": path}))
    assert not report.ok
    assert "of the undamaged pixels were marked" in report.line()


def test_an_altered_weight_file_fails_naming_the_file_and_the_checksum(tmp_path):
    root = _resources(tmp_path, {"denoise": _shipped_denoiser()})
    weight = root / "weights" / "denoise.pt"
    data = bytearray(weight.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    weight.write_bytes(bytes(data))
    report = api.self_test(root)
    assert not report.ok
    assert "denoise FAILED (denoise.pt: " in report.line()
    assert "checksum" in report.line()


def test_a_model_that_does_not_remove_noise_fails_its_sanity_check(tmp_path):
    torch.manual_seed(0)
    net = build_arch("denoise_unet", base_channels=4, max_channels=8).eval()  # random weights
    untrained = tmp_path / "untrained.pt"
    save_weights(untrained, net, task="denoise", meta={"resolution": 256})
    report = api.self_test(_resources(tmp_path, {"denoise": untrained}))
    assert not report.ok
    assert "the noise was not removed" in report.line()


def test_resources_without_any_model_are_a_broken_install(tmp_path):
    root = tmp_path / "resources"
    shutil.copytree(SHIPPED / "samples", root / "samples")
    report = api.self_test(root)
    assert not report.ok
    assert "manifest FAILED (no model is listed in" in report.line()


def test_a_missing_sample_photo_is_reported(tmp_path):
    root = _resources(tmp_path, {"denoise": _shipped_denoiser()})
    (root / selftest.SAMPLE).unlink()
    report = api.self_test(root)
    assert not report.ok
    assert "sample FAILED" in report.line()
    assert "old_photo_b.png" in report.line()


def test_an_engine_that_cannot_import_is_reported_not_raised(monkeypatch):
    def missing() -> None:
        raise ModuleNotFoundError("No module named 'torch._C'")

    monkeypatch.setattr(selftest, "_import_weights", missing)
    report = api.self_test()
    assert not report.ok
    assert report.resources is None
    assert report.line().endswith(
        "engine FAILED (ModuleNotFoundError: No module named 'torch._C'); resources not located"
    )


@pytest.mark.parametrize("task", ["inpaint", "colorize"])
def test_a_task_with_no_model_is_not_shipped(tmp_path, task):
    report = api.self_test(_resources(tmp_path, {"denoise": _shipped_denoiser()}))
    assert report.ok
    assert selftest.Check(task, selftest.Status.NOT_SHIPPED) in report.checks
