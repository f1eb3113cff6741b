"""Self-describing weight files and the manifest's protection against damaged files."""

from __future__ import annotations

import json

import pytest
import torch

from engine.archs import build_arch
from engine.errors import ModelUnavailable
from engine.models import clear_cache, installed_models, load_model
from engine.weights import (
    FORMAT_VERSION,
    Manifest,
    ModelEntry,
    load_weights,
    save_weights,
    sha256_of,
    write_manifest,
)

TINY_DENOISER = {"base_channels": 4, "max_channels": 8}


def _bake(resources, name="denoise.pt", task="denoise"):
    """A resources/ folder holding one tiny model and a manifest vouching for it."""
    net = build_arch("denoise_unet", **TINY_DENOISER)
    weights_dir = resources / "weights"
    digest = save_weights(weights_dir / name, net, task=task, meta={"resolution": 256})
    size = (weights_dir / name).stat().st_size
    write_manifest(weights_dir, [ModelEntry("denoise", task, "blind", name, digest, size)])
    return net, weights_dir / name


def test_weight_file_describes_itself_and_rebuilds_the_same_network(tmp_path):
    net = build_arch("denoise_unet", **TINY_DENOISER).eval()
    save_weights(tmp_path / "w.pt", net, task="denoise", meta={"epochs": 3})
    loaded = load_weights(tmp_path / "w.pt")
    assert loaded.arch == "denoise_unet"
    assert loaded.arch_kwargs["base_channels"] == 4
    assert loaded.format_version == FORMAT_VERSION
    assert loaded.task == "denoise" and loaded.meta == {"epochs": 3}
    rebuilt = loaded.build()
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.inference_mode():
        assert torch.equal(rebuilt(x), net(x))


def test_loading_never_unpickles_arbitrary_objects(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "rebuilding-image.weights", "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(ModelUnavailable, match="evil.pt"):
        load_weights(tmp_path / "evil.pt")


@pytest.mark.parametrize(
    "payload,message",
    [
        ({"hello": 1}, "not a rebuilding-image.weights file"),
        ({"format": "rebuilding-image.weights", "format_version": 99}, "version 99"),
        ({"format": "rebuilding-image.weights", "format_version": 1}, "lacks a required field"),
    ],
)
def test_foreign_or_future_files_are_refused(tmp_path, payload, message):
    torch.save(payload, tmp_path / "w.pt")
    with pytest.raises(ModelUnavailable, match=message):
        load_weights(tmp_path / "w.pt")


def test_weights_of_another_shape_are_refused(tmp_path):
    net = build_arch("denoise_unet", **TINY_DENOISER)
    save_weights(tmp_path / "w.pt", net, task="denoise")
    data = torch.load(tmp_path / "w.pt", weights_only=True)
    data["arch_kwargs"]["base_channels"] = 8
    torch.save(data, tmp_path / "w.pt")
    with pytest.raises(ModelUnavailable, match="do not fit"):
        load_weights(tmp_path / "w.pt").build()


def test_manifest_finds_and_verifies_a_baked_model(tmp_path):
    _bake(tmp_path)
    manifest = Manifest.load(tmp_path)
    entry = manifest.find("denoise", "salt_and_pepper")  # falls back to the blind model
    assert entry.variant == "blind"
    assert manifest.load_entry(entry).arch == "denoise_unet"
    [info] = installed_models(tmp_path)
    assert info.available and info.arch == "denoise_unet"


def test_missing_file_is_named(tmp_path):
    _, path = _bake(tmp_path)
    path.unlink()
    manifest = Manifest.load(tmp_path)
    with pytest.raises(ModelUnavailable, match="denoise.pt"):
        manifest.load_entry(manifest.find("denoise"))


def test_truncated_file_is_named(tmp_path):
    _, path = _bake(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    manifest = Manifest.load(tmp_path)
    with pytest.raises(ModelUnavailable, match="denoise.pt.*truncated"):
        manifest.load_entry(manifest.find("denoise"))


def test_tampered_file_of_the_same_size_fails_the_checksum(tmp_path):
    _, path = _bake(tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    manifest = Manifest.load(tmp_path)
    with pytest.raises(ModelUnavailable, match="denoise.pt.*checksum"):
        manifest.load_entry(manifest.find("denoise"))
    [info] = installed_models(tmp_path)
    assert not info.available and "checksum" in info.problem


def test_no_model_installed_says_how_to_get_one(tmp_path):
    with pytest.raises(ModelUnavailable, match="no colorize model is installed"):
        Manifest.load(tmp_path).find("colorize")


def test_broken_manifest_is_a_clear_error(tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "manifest.json").write_text("{not json")
    with pytest.raises(ModelUnavailable, match="manifest"):
        Manifest.load(tmp_path)


def test_sha256_matches_the_manifest(tmp_path):
    _, path = _bake(tmp_path)
    data = json.loads((tmp_path / "weights" / "manifest.json").read_text())
    assert data["models"][0]["sha256"] == sha256_of(path)


def test_models_are_loaded_once_and_cached(tmp_path, monkeypatch):
    clear_cache()
    _bake(tmp_path)
    calls = []
    original = Manifest.load_entry

    def counting(self, entry):
        calls.append(entry.file)
        return original(self, entry)

    monkeypatch.setattr(Manifest, "load_entry", counting)
    first = load_model("denoise", torch.device("cpu"), resources=tmp_path)
    second = load_model("denoise", torch.device("cpu"), resources=tmp_path)
    assert first is second and calls == ["denoise.pt"]
    clear_cache()


def test_a_weight_file_for_another_task_is_refused(tmp_path):
    clear_cache()
    net = build_arch("denoise_unet", **TINY_DENOISER)
    save_weights(tmp_path / "w.pt", net, task="denoise")
    with pytest.raises(ModelUnavailable, match="not a colorize model"):
        load_model("colorize", torch.device("cpu"), weights=tmp_path / "w.pt")
