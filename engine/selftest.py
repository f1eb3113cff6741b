"""The installed application's self-test: is everything it needs inside it, and does it work?

`restoration-editor --self-test` (and the frozen bundle's `--self-test`) calls
:func:`run_self_test`. It reads the weights manifest of the resources folder the application
actually uses, checks each listed file's size and sha256, runs each model's task on a crop of
a bundled sample photo, checks that the result is sane, and round-trips the crop through the
image writers and readers (codecs are what a frozen build most often misses). A task with no
model in the manifest is reported as "not shipped", which is not a failure.

Nothing here imports Qt; every check turns its failure into one line of text, so a user (or
CI log) reads the reason rather than a traceback.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

import cv2
import numpy as np

from engine import run
from engine.errors import EngineError
from engine.io import read_image, write_image
from engine.options import NoiseKind

if TYPE_CHECKING:
    from engine.weights import Manifest, ModelEntry

TASKS = ("denoise", "inpaint", "colorize", "detect")
SAMPLE = Path("samples") / "old_photo_b.png"  # a real scan: texture, edges, flat areas
CROP = 128  # pixels per side: big enough for every model's tiling, small enough for a second
NOISE_SIGMA = 25.0  # on the 0..255 scale, the papers' middle level
MIN_DENOISE_GAIN_DB = 1.0  # a working denoiser gains far more (~6 dB at σ 25); noise never
# Inpainting blends a feathered edge (3 px grown, then blurred with σ 1.5: 6 px more) around
# each hole; pixels farther away must come back bit for bit.
FEATHER_GUARD_PX = 10
MIN_CHANGE = 8.0  # mean absolute change (0..255) a task must make where it has work to do
MAX_LUMA_SHIFT = 8.0  # colorize keeps the photo's luminance; gamut clipping moves it a little
MIN_CHROMA = 1.0  # mean |R-G|+|G-B| of a colorized grey photo; a grey result has 0
MIN_SCRATCH_FOUND = 0.5  # share of a drawn white scratch a working detector marks (3 px)
MAX_FALSE_ALARM = 0.05  # share of the rest of the crop it may mark

T = TypeVar("T")


class Status(StrEnum):
    OK = "ok"
    NOT_SHIPPED = "not shipped"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Check:
    """One line item of the report."""

    name: str
    status: Status
    detail: str = ""

    def text(self) -> str:
        suffix = f" ({self.detail})" if self.detail else ""
        return f"{self.name} {self.status.value}{suffix}"


@dataclass(frozen=True)
class SelfTestReport:
    checks: tuple[Check, ...]
    resources: Path | None  # None: the engine could not even be imported to look
    seconds: float

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAILED for check in self.checks)

    def line(self) -> str:
        """The one-line report: every check, then where the resources came from."""
        verdict = "passed" if self.ok else "FAILED"
        items = "; ".join(check.text() for check in self.checks)
        where = self.resources if self.resources is not None else "not located"
        return f"self-test {verdict} in {self.seconds:.1f} s: {items}; resources {where}"


class SanityError(Exception):
    """A result was produced but is not what a working model produces."""


def run_self_test(resources: Path | None = None, device: str = "cpu") -> SelfTestReport:
    """Check every shipped model and the image codecs; never raises for a broken install.

    The CPU is the default device because it exists everywhere: the self-test checks the
    installation, not the graphics card.
    """
    started = time.perf_counter()
    checks: list[Check] = []
    # torch is imported here, in a check of its own: a bundle that lacks part of it must
    # say so in the report, like any other failure.
    weights = _guarded(checks, "engine", _import_weights)
    if weights is None:
        return SelfTestReport(tuple(checks), None, time.perf_counter() - started)
    root = weights.resources_dir(resources)
    manifest = _guarded(checks, "manifest", lambda: _read_manifest(weights.Manifest, root))
    photo = _guarded(checks, "sample", lambda: _sample_crop(root))
    if manifest is not None and photo is not None:
        options = run.RunOptions(device=device, resources=root)
        for entry in manifest.entries:
            checks.append(_check_model(manifest, entry, photo, options))
    if manifest is not None:
        shipped = {entry.task for entry in manifest.entries}
        checks += [Check(task, Status.NOT_SHIPPED) for task in TASKS if task not in shipped]
    if photo is not None:
        _guarded(checks, "image i/o", lambda: _round_trip(photo), ok_detail="png, jpeg, tiff")
    return SelfTestReport(tuple(checks), root, time.perf_counter() - started)


def _guarded(
    checks: list[Check], name: str, step: Callable[[], T], ok_detail: str | None = None
) -> T | None:
    """Run a step; a failure becomes a FAILED check (a success adds one only if asked)."""
    try:
        value = step()
    except Exception as exc:  # a diagnostic: any failure, even a missing module, is a reason
        checks.append(Check(name, Status.FAILED, _reason(exc)))
        return None
    if ok_detail is not None:
        checks.append(Check(name, Status.OK, ok_detail))
    return value


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    # The engine's messages are written for users; anything else gets its type named.
    if isinstance(exc, EngineError | SanityError):
        return text
    return f"{type(exc).__name__}: {text}"


def _import_weights() -> ModuleType:
    import engine.models  # noqa: F401  (torch and every network: what a restoration needs)
    import engine.weights

    return engine.weights


def _read_manifest(manifest_type: type[Manifest], root: Path) -> Manifest:
    manifest = manifest_type.load(root)
    if not manifest.entries:
        # An application with no model at all is a broken install (resources not bundled).
        raise SanityError(f"no model is listed in {manifest.directory / 'manifest.json'}")
    return manifest


def _sample_crop(root: Path) -> np.ndarray:
    image = read_image(root / SAMPLE).pixels
    if image.dtype != np.uint8:
        raise SanityError(f"{SAMPLE} is not an 8-bit photo")
    height, width = image.shape[:2]
    if min(height, width) < CROP:
        raise SanityError(f"{SAMPLE} is smaller than {CROP}×{CROP}")
    top, left = (height - CROP) // 2, (width - CROP) // 2
    return np.ascontiguousarray(image[top : top + CROP, left : left + CROP])


def _check_model(
    manifest: Manifest, entry: ModelEntry, photo: np.ndarray, options: run.RunOptions
) -> Check:
    runners: dict[str, Callable[[ModelEntry, np.ndarray, run.RunOptions], str]] = {
        "denoise": _run_denoise,
        "inpaint": _run_inpaint,
        "colorize": _run_colorize,
        "detect": _run_detect,
    }
    label = entry.task if entry.variant == "blind" else f"{entry.task}/{entry.variant}"
    started = time.perf_counter()
    try:
        runner = runners.get(entry.task)
        if runner is None:
            raise SanityError(f"{entry.file} is for an unknown task '{entry.task}'")
        manifest.load_entry(entry)  # size, sha256, format, task: before anything runs
        detail = runner(entry, photo, options)
    except Exception as exc:  # a diagnostic: report the reason, never a traceback
        return Check(label, Status.FAILED, f"{entry.file}: {_reason(exc)}")
    seconds = time.perf_counter() - started
    return Check(label, Status.OK, f"{entry.file} sha256 ok, {detail}, {seconds:.1f} s")


def _same_form(result: np.ndarray, given: np.ndarray) -> None:
    if result.shape != given.shape or result.dtype != given.dtype:
        raise SanityError(
            f"result is {result.shape} {result.dtype}, expected {given.shape} {given.dtype}"
        )
    if float(result.std()) < 2.0:
        raise SanityError("result is a flat image")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10.0 * np.log10(255.0**2 / max(mse, 1e-10))


def _run_denoise(entry: ModelEntry, clean: np.ndarray, options: run.RunOptions) -> str:
    noise = NoiseKind(entry.variant) if entry.variant != "blind" else NoiseKind.AUTO
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0.0, NOISE_SIGMA, clean.shape), 0, 255).astype(np.uint8)
    result = run.denoise(noisy, noise=noise, options=options)
    _same_form(result, noisy)
    before, after = _psnr(noisy, clean), _psnr(result, clean)
    # Only a model meant for Gaussian-like noise is held to removing it; the others must at
    # least change the picture.
    if noise in (NoiseKind.AUTO, NoiseKind.GAUSSIAN):
        if after < before + MIN_DENOISE_GAIN_DB:
            raise SanityError(f"PSNR {before:.1f} → {after:.1f} dB: the noise was not removed")
    elif float(np.abs(result.astype(float) - noisy).mean()) < 1.0:
        raise SanityError("the result equals the noisy input")
    return f"PSNR {before:.1f} → {after:.1f} dB"


def _scratch_mask(size: int) -> np.ndarray:
    """A diagonal scratch and a blotch, like the damage the editor's users paint over."""
    mask = np.zeros((size, size), np.uint8)
    cv2.line(mask, (size // 8, size // 5), (size * 7 // 8, size * 3 // 4), 1, thickness=5)
    cv2.circle(mask, (size // 4, size * 3 // 4), size // 12, 1, thickness=-1)
    return mask.astype(bool)


def _run_inpaint(entry: ModelEntry, photo: np.ndarray, options: run.RunOptions) -> str:
    holes = _scratch_mask(photo.shape[0])
    damaged = photo.copy()
    damaged[holes] = 255  # a white scratch, so the filled pixels must differ from the input
    result = run.inpaint(damaged, holes, options=options)
    _same_form(result, damaged)
    kernel = np.ones((2 * FEATHER_GUARD_PX + 1,) * 2, np.uint8)
    near = cv2.dilate(holes.astype(np.uint8), kernel).astype(bool)
    if not np.array_equal(result[~near], damaged[~near]):
        raise SanityError("pixels away from the holes changed")
    change = float(np.abs(result[holes].astype(float) - damaged[holes]).mean())
    if change < MIN_CHANGE:
        raise SanityError(f"the holes were left as they were (mean change {change:.1f})")
    return f"{int(holes.sum())} hole pixels filled"


def _luma(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64)


def _run_colorize(entry: ModelEntry, photo: np.ndarray, options: run.RunOptions) -> str:
    grey = np.repeat(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    result = run.colorize(grey, options=options)
    _same_form(result, grey)
    signed = result.astype(np.int32)
    chroma = float(
        (np.abs(signed[..., 0] - signed[..., 1]) + np.abs(signed[..., 1] - signed[..., 2])).mean()
    )
    if chroma < MIN_CHROMA:
        raise SanityError(f"the result is still grey (chroma {chroma:.2f})")
    shift = float(np.abs(_luma(result) - _luma(grey)).mean())
    if shift > MAX_LUMA_SHIFT:
        raise SanityError(f"the luminance moved by {shift:.1f} levels on average")
    return f"chroma {chroma:.1f}"


def _run_detect(entry: ModelEntry, photo: np.ndarray, options: run.RunOptions) -> str:
    scratch = np.zeros(photo.shape[:2], np.uint8)
    size = photo.shape[0]
    cv2.line(scratch, (size // 6, size // 8), (size * 5 // 6, size * 7 // 8), 1, thickness=3)
    damaged = photo.copy()
    damaged[scratch > 0] = 245  # a paper-white scratch across the scan
    found = run.detect_damage(damaged, options=options)
    if found.shape != photo.shape[:2] or found.dtype != bool:
        raise SanityError(f"the mask is {found.shape} {found.dtype}, expected bool H×W")
    near = cv2.dilate(scratch, np.ones((7, 7), np.uint8)).astype(bool)
    share = float(found[scratch > 0].mean())
    false_alarm = float(found[~near].mean())
    if share < MIN_SCRATCH_FOUND:
        raise SanityError(f"only {share:.0%} of a white scratch was found")
    if false_alarm > MAX_FALSE_ALARM:
        raise SanityError(f"{false_alarm:.0%} of the undamaged pixels were marked")
    return f"{share:.0%} of a scratch found, {false_alarm:.1%} false alarms"


def _round_trip(photo: np.ndarray) -> None:
    """Write and read back each format the editor exports, through the engine's codecs."""
    with tempfile.TemporaryDirectory(prefix="selftest-") as folder:
        for suffix, exact in ((".png", True), (".tiff", True), (".jpg", False)):
            path = Path(folder) / f"photo{suffix}"
            write_image(path, photo)
            back = read_image(path).pixels
            if back.shape != photo.shape:
                raise SanityError(f"{suffix} came back as {back.shape}")
            error = float(np.abs(back.astype(float) - photo).mean())
            if (exact and error != 0.0) or error > 6.0:
                raise SanityError(f"{suffix} came back altered (mean error {error:.1f})")
