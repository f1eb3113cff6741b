"""Plain, torch-free types of the public API (so `engine.api` imports without torch)."""

from __future__ import annotations

import math
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


def _coordinate(name: str, value: object) -> float:
    """A hint coordinate: a finite number >= 0 (the image's size is known only at run time)."""
    from engine.errors import InvalidRequest

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidRequest(f"{name} must be a number of pixels, got {value!r:.60}")
    if not 0.0 <= float(value) < math.inf:  # NaN fails too
        raise InvalidRequest(f"{name} must be a pixel position, 0 or more, got {value}")
    return float(value)


def _rgb(value: object) -> tuple[int, int, int]:
    """Three whole numbers 0..255, or InvalidRequest: a hint's colour as a user picks it."""
    from engine.errors import InvalidRequest

    parts = tuple(value) if isinstance(value, list | tuple) else ()
    levels = [int(c) for c in parts if isinstance(c, numbers.Integral) and not isinstance(c, bool)]
    if len(parts) != 3 or len(levels) != 3 or not all(0 <= c <= 255 for c in levels):
        raise InvalidRequest(f"rgb must be three whole numbers from 0 to 255, got {value!r:.60}")
    return (levels[0], levels[1], levels[2])


@dataclass(frozen=True)
class ColourHint:
    """A colour the user pins on the photo for the colorizer: at (x, y) in the input image's
    pixels (x to the right, y down, origin top-left; the point lies in pixel
    (floor(x), floor(y)), so whole numbers name pixels and fractions fall inside one), the
    colour ``rgb`` (0-255 sRGB). Only its chroma is used: the photo keeps its own lightness."""

    x: float
    y: float
    rgb: tuple[int, int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", _coordinate("x", self.x))
        object.__setattr__(self, "y", _coordinate("y", self.y))
        object.__setattr__(self, "rgb", _rgb(self.rgb))

    def inside(self, width: int, height: int) -> bool:
        return self.x < width and self.y < height


def check_hints_inside(hints: tuple[ColourHint, ...], width: int, height: int) -> None:
    """InvalidRequest naming the first hint (counted from 1) that lies off a width×height
    image: a pin off the photo is a mistake (another photo's hints), not a colour to drop."""
    from engine.errors import InvalidRequest

    for number, hint in enumerate(hints, 1):
        if not hint.inside(width, height):
            raise InvalidRequest(
                f"colour hint {number} at x={hint.x:g}, y={hint.y:g} lies outside the "
                f"{width}×{height} image"
            )


def _hint_tuple(hints: object) -> tuple[ColourHint, ...]:
    from engine.errors import InvalidRequest

    items = tuple(hints) if isinstance(hints, list | tuple) else None
    if items is None or not all(isinstance(h, ColourHint) for h in items):
        raise InvalidRequest(f"hints must be a sequence of ColourHint, got {hints!r:.80}")
    return items


@dataclass(frozen=True)
class ColorizeRequest:
    """Colorize settings: strength scales the colour (0 = grey, 1 = the model's vividness);
    ``hints`` are colours the user pinned (a model that takes hints is needed, see
    `engine.tasks.colorize`). With hints the model's vividness gain is left out, so the
    pinned colours come back as given; strength still fades the colour."""

    strength: float = 1.0
    hints: tuple[ColourHint, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", _unit_number("strength", self.strength))
        object.__setattr__(self, "hints", _hint_tuple(self.hints))

    variant = "blind"

    def check(self, image: object) -> None:
        """InvalidRequest unless every hint lies on the image (H×W×C)."""
        height, width = getattr(image, "shape", (0, 0))[:2]
        check_hints_inside(self.hints, width, height)


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
