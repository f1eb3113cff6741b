"""Device choice and memory-based tile sizing."""

from __future__ import annotations

import pytest
import torch

from engine import devices
from engine.errors import DeviceUnavailable


def test_auto_picks_the_best_available_device():
    assert devices.resolve_device("auto").type == devices.available_devices()[0]
    assert devices.available_devices()[-1] == "cpu"


def test_cpu_is_always_available():
    assert devices.resolve_device(devices.DeviceKind.CPU) == torch.device("cpu")


def test_unavailable_device_names_the_available_ones(monkeypatch):
    monkeypatch.setattr(devices, "available_devices", lambda: ["cpu"])
    with pytest.raises(DeviceUnavailable, match="'cuda' is not available.*available: cpu"):
        devices.resolve_device("cuda")


def test_unknown_device_is_a_clear_error():
    with pytest.raises(DeviceUnavailable, match="unknown device 'tpu'"):
        devices.resolve_device("tpu")


def test_half_precision_only_on_cuda():
    assert devices.use_half_precision(torch.device("cuda"))
    assert not devices.use_half_precision(torch.device("cpu"))


def test_thread_count_is_respected():
    before = torch.get_num_threads()
    try:
        devices.set_cpu_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError):
        devices.set_cpu_threads(0)


def test_tile_size_follows_free_memory(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(devices, "free_memory_bytes", lambda _d: 64 << 20)
    small = devices.auto_tile_size(cpu, bytes_per_pixel=1000, multiple=128)
    monkeypatch.setattr(devices, "free_memory_bytes", lambda _d: 16 << 30)
    large = devices.auto_tile_size(cpu, bytes_per_pixel=1000, multiple=128)
    assert small % 128 == 0 and large % 128 == 0
    assert 128 <= small < large <= 1024


def test_available_ram_is_plausible():
    assert 64 << 20 < devices.available_ram_bytes() < 1 << 50


def test_wide_images_get_shorter_tiles(monkeypatch):
    cpu = torch.device("cpu")
    monkeypatch.setattr(devices, "free_memory_bytes", lambda _d: 16 << 30)
    normal = devices.auto_tile_size(cpu, bytes_per_pixel=200, multiple=128, image_width=6000)
    panorama = devices.auto_tile_size(cpu, bytes_per_pixel=200, multiple=128, image_width=60000)
    assert panorama < normal
    budget = min((16 << 30) * 0.25, devices._CPU_BUDGET_CAP)
    assert panorama**2 * 200 + panorama * 60000 * 16 <= budget


def test_free_memory_is_read_without_torch_and_falls_back_where_unknown(monkeypatch):
    from engine import api

    free = api.available_memory()
    assert free is not None and 0 < free < 1 << 50  # this is Linux: /proc/meminfo
    monkeypatch.setattr(devices, "available_memory", lambda: None)
    assert devices.available_ram_bytes() == 2 << 30  # a conservative guess, not a crash
