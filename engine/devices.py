"""Choosing where the networks run, and how much memory a tile may use there."""

from __future__ import annotations

import math

import torch

from engine.errors import DeviceUnavailable
from engine.memory import available_memory
from engine.options import DeviceKind, thread_limit


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """Device names usable on this machine, best first."""
    names = []
    if torch.cuda.is_available():
        names.append("cuda")
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def resolve_device(choice: DeviceKind | str = DeviceKind.AUTO) -> torch.device:
    """AUTO picks CUDA, then MPS, then CPU; an explicit choice must exist here."""
    try:
        kind = DeviceKind(str(choice.value if isinstance(choice, DeviceKind) else choice).lower())
    except ValueError:
        raise DeviceUnavailable(
            f"unknown device '{choice}'; choose one of: auto, {', '.join(available_devices())}"
        ) from None
    available = available_devices()
    if kind is DeviceKind.AUTO:
        return torch.device(available[0])
    if kind.value not in available:
        raise DeviceUnavailable(
            f"device '{kind.value}' is not available on this machine; "
            f"available: {', '.join(available)}"
        )
    return torch.device(kind.value)


def use_half_precision(device: torch.device) -> bool:
    """Half precision where it is fast and safe for these convnets: CUDA only."""
    return device.type == "cuda"


def cpu_has_native_bfloat16() -> bool:
    """True when this CPU computes bfloat16 dot products in hardware (AVX-512 BF16 or AMX),
    where oneDNN's bfloat16 convolutions beat float32 ones; elsewhere they are emulated and
    slower, so the engine stays in float32."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return torch.backends.mkldnn.is_available() and any(
            getattr(torch.cpu, name, lambda: False)() for name in probes
        )
    except RuntimeError:  # a build without the probes' back end
        return False


def set_cpu_threads(threads: int | None) -> None:
    """Respect the caller's CPU thread count (None leaves torch's default).

    Callers validate at their edge (`engine.options.check_threads`); this last check keeps
    an absurd count from reaching torch, whose thread pool crashes the process on one."""
    if threads is not None:
        if not 1 <= threads <= thread_limit():
            raise ValueError(f"thread count must be 1..{thread_limit()}, got {threads}")
        torch.set_num_threads(threads)


def available_ram_bytes() -> int:
    """Free RAM as the OS reports it; a conservative 2 GiB when it cannot tell."""
    free = available_memory()
    return 2 << 30 if free is None else free


def free_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    return available_ram_bytes()


# On the CPU, tiles beyond ~1 MP buy no speed and only raise peak memory.
_CPU_TILE_CAP = 1024
_GPU_TILE_CAP = 2048
# A tile's memory on the CPU (the network's activations as `bytes_per_pixel` estimates
# them, twice what they measure, and the blend's stripe): 384 MB keeps a 6000-pixel-wide
# photo at ~900-pixel tiles and a 100-megapixel scan's run under 1 GB with its input.
_CPU_BUDGET_CAP = 384 << 20


def auto_tile_size(
    device: torch.device,
    bytes_per_pixel: int,
    multiple: int,
    *,
    image_width: int = 0,
    stripe_bytes_per_pixel: int = 16,
    fraction: float = 0.25,
) -> int:
    """Largest square tile T whose memory fits in `fraction` of the free memory.

    Memory is T² × `bytes_per_pixel` for the network's activations plus, on the host, the
    stripe of the tiled blend: T × `image_width` × `stripe_bytes_per_pixel` (the float32
    RGB accumulator and the finished rows converted), so a very wide panorama gets shorter
    tiles instead of exhausting RAM.
    """
    budget = free_memory_bytes(device) * fraction
    if device.type != "cuda":
        budget = min(budget, _CPU_BUDGET_CAP)
    a, b = float(max(bytes_per_pixel, 1)), float(image_width * stripe_bytes_per_pixel)
    side = int((-b + math.sqrt(b * b + 4 * a * max(budget, 0))) / (2 * a))
    cap = _GPU_TILE_CAP if device.type == "cuda" else _CPU_TILE_CAP
    side = min(side, cap) // multiple * multiple
    return max(side, multiple, 128 // multiple * multiple or multiple)
