"""The engine's public API — the only engine module the editor imports.

One call per task (`run_task` runs any registered task by name with its request). Importing
this module does not import torch (an application's window can appear first); the first
restoration, `preload()` or `available_devices()` loads it.

Each task call takes an H×W×3 uint8 or uint16 RGB array and returns a new array of
the same shape and dtype (the input is never modified, unless `run_task(in_place=True)`
is told it may hold the result); `detect_damage` returns a bool H×W mask instead. Progress
is reported through a callback, cancellation is requested with a `CancelToken` and
honoured between tiles, and every failure is an `EngineError` subclass — never a string to
parse. The pixel policies the application shares live here too: bit-depth conversion, is a
photo grey or coloured.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.colour_options import ColoursRequest
from engine.colour_restore import restore_colours
from engine.errors import (
    Cancelled,
    DeviceUnavailable,
    EngineError,
    ImageTooLarge,
    ImageWriteError,
    InvalidRequest,
    ModelUnavailable,
    NotEnoughMemory,
    OutOfMemory,
    UnsupportedImage,
)
from engine.hint_file import hints_to_json, load_hints, parse_hints, save_hints
from engine.io import (
    DEFAULT_MAX_PIXELS,
    ImageMeta,
    LoadedImage,
    is_supported_image_path,
    read_image,
    read_mask,
    write_image,
)
from engine.io.write import remove_stale_temps as remove_stale_temps  # the editor's saves
from engine.memory import available_memory
from engine.options import (
    MAX_DENOISE_STRENGTH,
    ColorizeRequest,
    ColourHint,
    DenoiseRequest,
    DetectRequest,
    DeviceKind,
    InpaintRequest,
    ModelInfo,
    NoiseKind,
    Precision,
    Progress,
    thread_limit,
)
from engine.pixels import colourfulness, convert_depth, has_colour, is_grey
from engine.restore import analyse_scan, available_steps, restore
from engine.restore_options import (
    ColorizeChoice,
    RestoreRequest,
    RestoreResult,
    RestoreStep,
    ScanAnalysis,
    StepResult,
    parse_steps,
)
from engine.run import (
    FILL_MARGIN_PX,
    ProgressCallback,
    RunOptions,
    available_devices,
    colorize,
    denoise,
    detect_damage,
    detect_scratches,
    has_model,
    inpaint,
    installed_models,
    preload,
    run_task,
)
from engine.tiling import CancelToken

if TYPE_CHECKING:
    from engine.selftest import SelfTestReport

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FILL_MARGIN_PX",
    "CancelToken",
    "Cancelled",
    "ColorizeChoice",
    "ColorizeRequest",
    "ColourHint",
    "ColoursRequest",
    "DenoiseRequest",
    "DetectRequest",
    "DeviceKind",
    "DeviceUnavailable",
    "EngineError",
    "ImageMeta",
    "ImageTooLarge",
    "ImageWriteError",
    "InpaintRequest",
    "InvalidRequest",
    "LoadedImage",
    "MAX_DENOISE_STRENGTH",
    "ModelInfo",
    "ModelUnavailable",
    "NoiseKind",
    "NotEnoughMemory",
    "OutOfMemory",
    "Precision",
    "Progress",
    "ProgressCallback",
    "RestoreRequest",
    "RestoreResult",
    "RestoreStep",
    "RunOptions",
    "ScanAnalysis",
    "StepResult",
    "UnsupportedImage",
    "analyse_scan",
    "available_devices",
    "available_memory",
    "available_steps",
    "colorize",
    "colourfulness",
    "convert_depth",
    "denoise",
    "detect_damage",
    "detect_scratches",
    "has_colour",
    "has_model",
    "hints_to_json",
    "inpaint",
    "installed_models",
    "is_grey",
    "is_supported_image_path",
    "load_hints",
    "parse_hints",
    "parse_steps",
    "preload",
    "read_image",
    "read_mask",
    "restore",
    "restore_colours",
    "run_task",
    "save_hints",
    "self_test",
    "thread_limit",
    "write_image",
]


def self_test(
    resources: Path | None = None, device: DeviceKind | str = DeviceKind.CPU
) -> SelfTestReport:
    """Check every shipped model (checksum, a run, a sane result) and the image codecs.

    Returns an `engine.selftest.SelfTestReport` (`.ok`, `.line()`); never raises for a
    broken installation: the report names what is wrong.
    """
    from engine.selftest import run_self_test

    return run_self_test(resources, str(device))
