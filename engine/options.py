"""Plain, torch-free types of the public API (so `engine.api` imports without torch)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceKind(StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"
    MPS = "mps"


class Precision(StrEnum):
    """AUTO: a network runs in reduced precision where the hardware does it natively and
    the network was measured to lose nothing by it (float16 on CUDA; bfloat16 on CPUs with
    AVX-512 BF16 or AMX, for the shipped denoiser: 2.5x faster here, <= 0.02 dB).
    FULL: float32 everywhere."""

    AUTO = "auto"
    FULL = "full"


class NoiseKind(StrEnum):
    """What the user believes the noise is. AUTO and the others use the blind model unless
    a dedicated model for the kind is installed; SALT_AND_PEPPER also removes impulses first."""

    AUTO = "auto"
    GAUSSIAN = "gaussian"
    SALT_AND_PEPPER = "salt_and_pepper"
    SPECKLE = "speckle"


@dataclass(frozen=True)
class ModelInfo:
    """What the user may want to know about an installed model."""

    task: str
    variant: str
    file: str
    arch: str
    available: bool
    problem: str | None = None
