"""Running a task on an image: the one path every caller takes (through `engine.api`).

`run_task` owns what every task shares — checking the image and the request, loading the
model (cached), planning tiles, driving the task's generator with progress and cancel,
translating out-of-memory, checking the memory a run needs before it starts, and the
policies that hold whatever the task: the input is never modified (unless the caller gives it
up: `in_place`), and a grey photo comes back grey. The per-task functions are typed front doors to
it. Importing this module does not import torch; the first run does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from engine.errors import EngineError, InvalidRequest, OutOfMemory, UnsupportedImage
from engine.options import (
    MIN_TILE,
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
    _unit_number,
    check_threads,
    check_tile,
)
from engine.pixels import is_grey, to_grey
from engine.tiling import CancelToken, TilePlan, is_out_of_memory

if TYPE_CHECKING:
    from engine.tasks.base import InferenceModel
    from engine.tasks.registry import TaskSpec


@dataclass(frozen=True)
class RunOptions:
    """Where and how to run. Defaults suit an interactive user."""

    device: DeviceKind | str = DeviceKind.AUTO
    tile: int | None = None  # tile side, 32..8192 pixels; None = chosen from free memory
    threads: int | None = None  # CPU threads, 1..options.thread_limit(); None = torch's
    weights: Path | None = None  # an explicit weight file instead of the shipped model
    resources: Path | None = None  # another resources/ folder (tests, installers)
    precision: Precision | str = Precision.AUTO  # FULL: float32 everywhere (see Precision)


ProgressCallback = Callable[[Progress], None]


def check_image(image: object, *, allow_float: bool = False) -> np.ndarray:
    """An H×W×3 uint8/uint16 (or finite float32 when allowed) array, or UnsupportedImage."""
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


def _drive(
    task: str, work: Generator[Progress, None, np.ndarray], progress: ProgressCallback | None
) -> np.ndarray:
    """Run a task generator to its end, forwarding progress and translating OOM."""
    try:
        while True:
            try:
                step = next(work)
            except StopIteration as finished:
                return finished.value
            if progress is not None:
                progress(dataclasses.replace(step, task=task))
    except EngineError:
        raise
    except Exception as exc:
        if is_out_of_memory(exc):
            raise OutOfMemory(f"{task}: the device ran out of memory ({exc})") from exc
        # Callers handle EngineError only; an unexpected failure still arrives as one.
        raise EngineError(f"{task} failed: {type(exc).__name__}: {exc}") from exc


def load_task_model(spec: TaskSpec, options: RunOptions, variant: str = "blind") -> InferenceModel:
    """The task's model on the device the options ask for (cached after the first call)."""
    from engine import models
    from engine.devices import resolve_device, set_cpu_threads

    check_tile(options.tile)  # at the edge: before a model is loaded or a thread started
    set_cpu_threads(check_threads(options.threads))
    device = resolve_device(options.device)
    try:
        precision = Precision(options.precision)
    except ValueError:
        choices = ", ".join(p.value for p in Precision)
        raise InvalidRequest(
            f"precision must be one of {choices}, got {options.precision!r}"
        ) from None
    return models.load_model(
        spec.name,
        device,
        variant=variant,
        weights=options.weights,
        resources=options.resources,
        full_precision=precision is Precision.FULL,
    )


def tile_plan(model: InferenceModel, options: RunOptions, width: int) -> TilePlan:
    from engine.devices import auto_tile_size

    tile = check_tile(options.tile) or auto_tile_size(
        model.device, model.bytes_per_pixel, model.multiple, image_width=width
    )
    overlap = min(max(16, 2 * model.margin), tile // 4)
    return TilePlan(tile=tile, overlap=overlap, min_tile=MIN_TILE, multiple=model.multiple)


def run_task(
    task: str,
    image: np.ndarray,
    request: Any,
    *,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    in_place: bool = False,
) -> np.ndarray:
    """Run the registered task `task` with its `request` (e.g. a `DenoiseRequest`).

    `in_place=True`: the caller gives `image` up, and a task that can (denoise, inpaint,
    colorize) writes its result into it and returns it, sparing an image-sized copy (the
    command line does: a 100-megapixel scan then needs its own size once, not twice).

    Before the first tile, the memory the run needs beyond its input (the result, the
    tiles, working arrays: `engine.job_memory`) is compared with what is free; more is
    refused with `NotEnoughMemory` (an `OutOfMemory`) naming the numbers.
    """
    from engine.job_memory import check_job_memory
    from engine.tasks import get_task

    spec = get_task(task)
    if not isinstance(request, spec.request):
        wanted, got = spec.request.__name__, type(request).__name__
        raise InvalidRequest(f"{task} takes a {wanted}, got {got}")
    image = check_image(image, allow_float=spec.accepts_float)
    check = getattr(request, "check", None)
    if check is not None:
        check(image)  # before loading a model: a wrong request costs nothing
    model = load_task_model(spec, options, getattr(request, "variant", "blind"))
    plan = tile_plan(model, options, image.shape[1]) if spec.tiled else None
    on_host = getattr(model.device, "type", "cpu") != "cuda"  # CUDA has memory of its own
    check_job_memory(
        spec, image, plan, model.bytes_per_pixel, in_place=in_place, network_on_host=on_host
    )
    return run_model(
        spec, model, image, request, plan=plan, progress=progress, cancel=cancel, in_place=in_place
    )


def run_model(
    spec: TaskSpec,
    model: InferenceModel,
    image: np.ndarray,
    request: Any,
    *,
    plan: TilePlan | None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    in_place: bool = False,
) -> np.ndarray:
    """A loaded task model's run on a checked image, with the policies every task keeps
    (the trainers' validation calls this too, so it scores exactly what users get).
    `in_place`: as for `run_task`."""
    grey = (
        not spec.returns_mask
        and spec.keeps_grey
        and image.dtype != np.float32
        and is_grey(image)  # before the run: in place, the input is gone after it
    )
    settings: dict[str, Any] = {"plan": plan, "cancel": cancel}
    if in_place and spec.in_place:
        settings["out"] = image
    result = _drive(spec.name, model.run(image, request, **settings), progress)
    if grey:
        # A grey scan stays grey: the network's result is grey up to rounding and its
        # channel mean is exact (written into the result unless that is the caller's input).
        result = to_grey(result, out=None if result is image and not in_place else result)
    return result


def denoise(
    image: np.ndarray,
    *,
    noise: NoiseKind = NoiseKind.AUTO,
    strength: float = 1.0,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Remove noise at full resolution; strength 0 returns the input, 1 removes the noise the
    model finds, up to 2 removes more (see `DenoiseRequest`).

    `image` is uint8, uint16 or float32 RGB; float32 is on the [0, 1] scale and may lie
    outside it (noisy data before any file clipped it); the result has the input's type,
    and a float32 result is not clipped.
    """
    request = DenoiseRequest(strength=strength, noise=noise)
    return run_task("denoise", image, request, options=options, progress=progress, cancel=cancel)


def inpaint(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill the holes of `mask` (H×W, nonzero/True = hole); other pixels stay unchanged."""
    request = InpaintRequest(mask=mask)
    request.check(check_image(image))
    if not np.any(mask):
        return image.copy()  # nothing to fill: no model needed
    return run_task("inpaint", image, request, options=options, progress=progress, cancel=cancel)


def colorize(
    image: np.ndarray,
    *,
    strength: float = 1.0,
    hints: Sequence[ColourHint] = (),
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Colour a photo from its luminance; strength scales the colour (0 = grey). ``hints``
    (a hint-conditioned model only) pin colours at points of the image."""
    request = ColorizeRequest(strength=strength, hints=tuple(hints))
    return run_task("colorize", image, request, options=options, progress=progress, cancel=cancel)


def detect_scratches(
    image: np.ndarray, *, sensitivity: float = 0.5, cancel: CancelToken | None = None
) -> np.ndarray:
    """Propose a mask (bool H×W, True = hole) of thin scratches and dust to inpaint.

    Raises Cancelled when `cancel` is set (checked every few hundred milliseconds)."""
    from engine.tasks.scratches import detect_scratches as _detect

    image = check_image(image)
    return _detect(image, _unit_number("sensitivity", sensitivity), cancel)


def has_model(task: str, options: RunOptions = RunOptions()) -> bool:
    """Whether `task` has a model to run: `options.weights`, or an entry in the manifest
    (a broken entry still counts: running it then says what is wrong)."""
    if options.weights is not None:
        return True
    from engine.errors import ModelUnavailable
    from engine.weights import Manifest

    try:
        manifest = Manifest.load(options.resources)
    except ModelUnavailable:
        return False
    return any(entry.task == task for entry in manifest.entries)


# What a learned detector proposes grows by this many pixels: it marks a crack's visible core
# (its training label leaves the soft anti-aliased edge and the scan's blur out, so that it
# learns not to thicken clean edges), and a fill of the core alone left that edge behind as
# a faint light line along every crack (seen on a cracked sample scan; 1 px removed it).
FILL_MARGIN_PX = 1


def detect_damage(
    image: np.ndarray,
    *,
    sensitivity: float = 0.5,
    margin: int = FILL_MARGIN_PX,
    options: RunOptions = RunOptions(),
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Propose a mask (bool H×W, True = damage to inpaint) of cracks, scratches, dust,
    spots and tears; sensitivity 0..1, higher marks fainter damage (0.5: the model's own
    threshold, see `engine.tasks.detect.probability_threshold`).

    Runs the learned detector (the `detect` task) when one is installed or
    `options.weights` names one, its mask grown by `margin` px (0: the network's own, as
    the detection benchmark scores it); otherwise falls back to the classical
    `detect_scratches` (morphology: it also marks eyes and lips, and grows its own mask).
    """
    request = DetectRequest(sensitivity=sensitivity)
    if isinstance(margin, bool) or not isinstance(margin, int) or not 0 <= margin <= 16:
        raise InvalidRequest(
            f"margin must be a whole number of pixels from 0 to 16, got {margin!r}"
        )
    image = check_image(image)
    if not has_model("detect", options):
        return detect_scratches(image, sensitivity=request.sensitivity, cancel=cancel)
    mask = run_task("detect", image, request, options=options, progress=progress, cancel=cancel)
    if margin == 0:
        return mask
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.dilate(mask.view(np.uint8), disc).view(bool)


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
