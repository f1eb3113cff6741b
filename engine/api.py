"""The engine's public API — the only engine module the editor imports.

One call per task. Importing this module does not import torch (an application's window
can appear first); the first restoration, `preload()` or `available_devices()` loads it.

One call per task. Each takes an H×W×3 uint8 or uint16 RGB array and returns a new array of
the same shape and dtype (the input is never modified). Progress is reported through a
callback, cancellation is requested with a `CancelToken` and honoured between tiles, and
every failure is an `EngineError` subclass — never a string to parse.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import (
    Cancelled,
    DeviceUnavailable,
    EngineError,
    ImageTooLarge,
    ImageWriteError,
    InvalidRequest,
    ModelUnavailable,
    OutOfMemory,
    UnsupportedImage,
)
from engine.io import (
    DEFAULT_MAX_PIXELS,
    ImageMeta,
    LoadedImage,
    is_supported_image_path,
    read_image,
    read_mask,
    write_image,
)
from engine.options import DeviceKind, ModelInfo, NoiseKind, Precision
from engine.tiling import CancelToken, TilePlan, TileProgress, is_out_of_memory

if TYPE_CHECKING:
    from engine.selftest import SelfTestReport
    from engine.tasks.base import InferenceModel

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "CancelToken",
    "Cancelled",
    "DeviceKind",
    "DeviceUnavailable",
    "EngineError",
    "ImageMeta",
    "ImageTooLarge",
    "ImageWriteError",
    "InvalidRequest",
    "LoadedImage",
    "ModelInfo",
    "ModelUnavailable",
    "NoiseKind",
    "OutOfMemory",
    "Precision",
    "Progress",
    "ProgressCallback",
    "RunOptions",
    "UnsupportedImage",
    "available_devices",
    "colorize",
    "detect_scratches",
    "preload",
    "denoise",
    "inpaint",
    "installed_models",
    "is_supported_image_path",
    "read_image",
    "read_mask",
    "self_test",
    "write_image",
]


@dataclass(frozen=True)
class RunOptions:
    """Where and how to run. Defaults suit an interactive user."""

    device: DeviceKind | str = DeviceKind.AUTO
    tile: int | None = None  # tile side in pixels; None = chosen from free memory
    threads: int | None = None  # CPU threads; None = torch's default
    weights: Path | None = None  # an explicit weight file instead of the shipped model
    resources: Path | None = None  # another resources/ folder (tests, installers)
    precision: Precision | str = Precision.AUTO  # FULL: float32 everywhere (see Precision)


@dataclass(frozen=True)
class Progress:
    task: str
    done: int
    total: int
    tile_size: int = 0  # the tile in use (smaller after an out-of-memory retry); 0 = untiled

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]

_MIN_TILE = 32


def _check_image(image: object, *, allow_float: bool = False) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise UnsupportedImage(f"expected a numpy image, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise UnsupportedImage(f"expected an H×W×3 RGB image, got shape {image.shape}")
    if allow_float and image.dtype == np.float32:
        if not np.isfinite(image).all():
            raise UnsupportedImage("the float image contains NaN or infinite values")
    elif image.dtype not in (np.uint8, np.uint16):
        allowed = "uint8, uint16 or float32" if allow_float else "uint8 or uint16"
        raise UnsupportedImage(f"expected {allowed} pixels, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise UnsupportedImage(f"the image is empty ({image.shape[1]}×{image.shape[0]})")
    return image


def _check_strength(strength: float) -> float:
    try:
        value = float(strength)
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"strength must be a number between 0 and 1, got {strength!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise InvalidRequest(f"strength must be between 0 and 1, got {strength}")
    return value


def _check_noise(noise: NoiseKind | str) -> NoiseKind:
    try:
        return NoiseKind(noise)
    except ValueError:
        known = ", ".join(k.value for k in NoiseKind)
        raise InvalidRequest(f"unknown noise kind {noise!r}; choose one of {known}") from None


def _drive(
    task: str, work: Generator[TileProgress, None, np.ndarray], progress: ProgressCallback | None
) -> np.ndarray:
    """Run a task generator to its end, forwarding progress and translating OOM."""
    try:
        while True:
            try:
                step = next(work)
            except StopIteration as finished:
                return finished.value
            if progress is not None:
                progress(Progress(task, step.done, step.total, step.tile_size))
    except EngineError:
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise OutOfMemory(f"{task}: the device ran out of memory ({exc})") from exc
        # Callers handle EngineError only; an unexpected failure still arrives as one.
        raise EngineError(f"{task} failed: {type(exc).__name__}: {exc}") from exc


def preload() -> None:
    """Import torch and the networks now (e.g. in a background thread after start-up)."""
    from engine import models  # noqa: F401  (the import is the work)


def available_devices() -> list[str]:
    """Device names usable on this machine, best first (imports torch)."""
    from engine.devices import available_devices as _available

    return _available()


def installed_models(resources: Path | None = None) -> list[ModelInfo]:
    """Every shipped model, each checked (size, checksum, format)."""
    from engine.models import installed_models as _installed

    return _installed(resources)


def _load(task: str, options: RunOptions, variant: str = "blind") -> InferenceModel:
    from engine import models
    from engine.devices import resolve_device, set_cpu_threads

    if options.threads is not None and (
        not isinstance(options.threads, int) or options.threads < 1
    ):
        raise InvalidRequest(f"threads must be a whole number of at least 1, got {options.threads}")
    set_cpu_threads(options.threads)
    device = resolve_device(options.device)
    try:
        precision = Precision(options.precision)
    except ValueError:
        choices = ", ".join(p.value for p in Precision)
        raise InvalidRequest(
            f"precision must be one of {choices}, got {options.precision!r}"
        ) from None
    return models.load_model(
        task,
        device,
        variant=variant,
        weights=options.weights,
        resources=options.resources,
        full_precision=precision is Precision.FULL,
    )


def _tile_plan(model: InferenceModel, options: RunOptions, width: int) -> TilePlan:
    from engine.devices import auto_tile_size

    if options.tile is not None and options.tile < _MIN_TILE:
        raise InvalidRequest(f"tile size must be at least {_MIN_TILE} pixels, got {options.tile}")
    tile = options.tile or auto_tile_size(
        model.device, model.bytes_per_pixel, model.multiple, image_width=width
    )
    overlap = min(max(16, 2 * model.margin), tile // 4)
    return TilePlan(tile=tile, overlap=overlap, min_tile=_MIN_TILE, multiple=model.multiple)


def denoise(
    image: np.ndarray,
    *,
    noise: NoiseKind = NoiseKind.AUTO,
    strength: float = 1.0,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Remove noise at full resolution; strength 0 returns the input, 1 the model's result.

    `image` is uint8, uint16 or float32 RGB; float32 is on the [0, 1] scale and may lie
    outside it (noisy data before any file clipped it); the result has the input's type,
    and a float32 result is not clipped.
    """
    image = _check_image(image, allow_float=True)
    strength = _check_strength(strength)
    noise = _check_noise(noise)
    model = _load("denoise", options, variant=noise.value)
    work = model.run(
        image,
        strength=strength,
        noise=noise,
        plan=_tile_plan(model, options, image.shape[1]),
        cancel=cancel,
    )
    return _drive("denoise", work, progress)


def inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill the holes of `mask` (H×W, nonzero/True = hole); other pixels stay unchanged."""
    image = _check_image(image)
    if not isinstance(mask, np.ndarray) or mask.shape != image.shape[:2]:
        got = getattr(mask, "shape", type(mask).__name__)
        raise InvalidRequest(f"the mask must be H×W = {image.shape[:2]}, got {got}")
    holes = mask.astype(bool)
    if not holes.any():
        return image.copy()
    model = _load("inpaint", options)
    return _drive("inpaint", model.run(image, holes, cancel=cancel), progress)


def colorize(
    image: np.ndarray,
    *,
    strength: float = 1.0,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Colour a photo from its luminance; strength scales the colour (0 = grey)."""
    image = _check_image(image)
    strength = _check_strength(strength)
    model = _load("colorize", options)
    return _drive("colorize", model.run(image, strength=strength, cancel=cancel), progress)


def detect_scratches(
    image: np.ndarray, *, sensitivity: float = 0.5, cancel: CancelToken | None = None
) -> np.ndarray:
    """Propose a mask (bool H×W, True = hole) of thin scratches and dust to inpaint.

    Raises Cancelled when `cancel` is set (checked every few hundred milliseconds)."""
    from engine.tasks.scratches import detect_scratches as _detect

    image = _check_image(image)
    return _detect(image, _check_strength(sensitivity), cancel)


def self_test(
    resources: Path | None = None, device: DeviceKind | str = DeviceKind.CPU
) -> SelfTestReport:
    """Check every shipped model (checksum, a run, a sane result) and the image codecs.

    Returns an `engine.selftest.SelfTestReport` (`.ok`, `.line()`); never raises for a
    broken installation: the report names what is wrong.
    """
    from engine.selftest import run_self_test

    return run_self_test(resources, str(device))
