"""Plain, torch-free types of the public API (so `engine.api` imports without torch)."""

from __future__ import annotations

import numbers
import os
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
class Progress:
    """How far a task has come: `done` of `total` steps (tiles, hole regions, stages).

    `total` can grow when a tile is halved after running out of memory; `tile_size` is the
    tile in use (0 = untiled). The engine's one progress type, from the tiler to the editor.
    """

    task: str
    done: int
    total: int
    tile_size: int = 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class ModelInfo:
    """What the user may want to know about an installed model."""

    task: str
    variant: str
    file: str
    arch: str
    available: bool
    problem: str | None = None


def _unit_number(name: str, value: object, top: float = 1.0) -> float:
    """A setting that must be a number in [0, top], or InvalidRequest naming it."""
    from engine.errors import InvalidRequest

    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"{name} must be a number between 0 and {top:g}, got {value!r}"
        ) from None
    if not 0.0 <= number <= top:  # NaN fails too
        raise InvalidRequest(f"{name} must be between 0 and {top:g}, got {value}")
    return number


MAX_DENOISE_STRENGTH = 2.0


def _noise_kind(value: object) -> NoiseKind:
    from engine.errors import InvalidRequest

    try:
        return NoiseKind(value)
    except ValueError:
        known = ", ".join(k.value for k in NoiseKind)
        raise InvalidRequest(f"unknown noise kind {value!r}; choose one of {known}") from None


@dataclass(frozen=True)
class DenoiseRequest:
    """Denoise settings. Strength 0 returns the input and 1 removes what the model finds;
    up to 2 removes more (a model with a noise-level input asks for twice the level it
    estimated; a model without one gives its full result above 1). Below 1 a noise-level
    model removes less noise everywhere — fine grain is kept — instead of blending back."""

    strength: float = 1.0
    noise: NoiseKind = NoiseKind.AUTO

    def __post_init__(self) -> None:
        strength = _unit_number("strength", self.strength, MAX_DENOISE_STRENGTH)
        object.__setattr__(self, "strength", strength)
        object.__setattr__(self, "noise", _noise_kind(self.noise))

    @property
    def variant(self) -> str:
        """The manifest variant to run (a dedicated model per noise kind, if installed)."""
        return self.noise.value


@dataclass(frozen=True, eq=False)
class InpaintRequest:
    """The holes to fill: H×W, nonzero/True = hole (the image's size)."""

    mask: object  # np.ndarray; typed loosely so this module stays import-light

    variant = "blind"

    def check(self, image: object) -> None:
        """InvalidRequest unless the mask is an H×W array of the image's size."""
        from engine.errors import InvalidRequest

        want = getattr(image, "shape", (0, 0))[:2]
        got = getattr(self.mask, "shape", None)
        if got is None or tuple(got) != tuple(want) or not hasattr(self.mask, "astype"):
            shown = got if got is not None else type(self.mask).__name__
            raise InvalidRequest(f"the mask must be H×W = {tuple(want)}, got {shown}")


@dataclass(frozen=True)
class ColorizeRequest:
    """Colorize settings: strength scales the colour (0 = grey, 1 = the model's vividness)."""

    strength: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", _unit_number("strength", self.strength))

    variant = "blind"


@dataclass(frozen=True)
class DetectRequest:
    """Damage detection settings: sensitivity 0..1, higher marks fainter damage (and more
    false alarms); 0.5 is the model's own threshold (`engine.tasks.detect`)."""

    sensitivity: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "sensitivity", _unit_number("sensitivity", self.sensitivity))

    variant = "blind"


# Bounds of the numeric run options, checked where a value enters (CLI, API, preferences):
# past them torch's thread pool crashes (20000 threads: "libgomp: Thread creation failed",
# 100000: SIGSEGV) or one tile asks for more memory than any machine has.
MAX_THREADS_CAP = 256
MIN_TILE = 32
MAX_TILE = 8192  # 64 MP in one tile: beyond the auto sizes (1024 CPU, 2048 GPU) by far
MAX_MEGAPIXELS = 10_000.0  # 10 gigapixels: 30 GB of 8-bit RGB before any work buffer


def thread_limit() -> int:
    """The most CPU threads a run may ask for: this machine's CPU count, at most 256
    (more threads than cores only slow the convolutions down)."""
    return max(1, min(MAX_THREADS_CAP, os.cpu_count() or 1))


def _whole_number(name: str, value: object, low: int, high: int, why: str = "") -> int:
    """`value` as an int in [low, high], or InvalidRequest naming the setting and the range."""
    from engine.errors import InvalidRequest

    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not whole or not low <= value <= high:  # type: ignore[operator]
        shown = value if whole else repr(value)
        allowed = f"a whole number from {low} to {high}{why}"
        raise InvalidRequest(f"{name} must be {allowed}, got {shown}")
    return int(value)  # type: ignore[arg-type]


def check_threads(value: object) -> int | None:
    """None (torch's default) or a thread count in 1..thread_limit()."""
    if value is None:
        return None
    return _whole_number("threads", value, 1, thread_limit(), " (the CPU threads here)")


def check_tile(value: object) -> int | None:
    """None (sized from free memory) or a tile side in MIN_TILE..MAX_TILE pixels."""
    if value is None:
        return None
    return _whole_number("tile size", value, MIN_TILE, MAX_TILE, " pixels")


def check_max_pixels(value: object) -> int:
    """A decompression-bomb limit in 1..MAX_MEGAPIXELS million pixels."""
    return _whole_number("the pixel limit", value, 1, int(MAX_MEGAPIXELS * 1e6), " pixels")
