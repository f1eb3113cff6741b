"""Restore Photo: one call that analyses an old scan and takes it through the usual work —
find damage → fill it → denoise → restore faded colours → colorize (black-and-white or toned
photos, when asked) — with progress across all steps, cancel between tiles, and each step's
result and settings returned (the editor makes them layers, the CLI a summary line).

The pipeline runs the *installed* models (`RunOptions.weights` names one model, so it is
ignored here) and never waits for a missing one: a step without its model is reported as
skipped, the others run. The thresholds that turn the analysis into proposed steps live in
`engine.restore_options` (one place for the policy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from engine import restore_options as words
from engine.colour_restore import analyse_colours, apply_correction
from engine.errors import InvalidRequest
from engine.noise_level import measure_noise
from engine.options import ColorizeRequest, DenoiseRequest, Progress
from engine.pixels import is_grey
from engine.restore_options import (
    FADED_AT,
    ORDER,
    TONED_AT,
    ColorizeChoice,
    RestoreRequest,
    RestoreResult,
    RestoreStep,
    ScanAnalysis,
    StepResult,
)
from engine.run import (
    ProgressCallback,
    RunOptions,
    check_image,
    detect_damage,
    has_model,
    inpaint,
    run_task,
)
from engine.tiling import CancelToken

# Share of the run each step takes on a typical scan (measured on a 24 MP scan, CPU), so one
# progress bar moves evenly across all of them.
_COST = {
    RestoreStep.DETECT: 1.5,
    RestoreStep.INPAINT: 1.0,
    RestoreStep.DENOISE: 9.0,
    RestoreStep.COLOURS: 0.5,
    RestoreStep.COLORIZE: 3.0,
}
DEFAULT_OPTIONS = RunOptions()
DEFAULT_REQUEST = RestoreRequest()
_MODEL_OF = {
    RestoreStep.INPAINT: "inpaint",
    RestoreStep.DENOISE: "denoise",
    RestoreStep.COLORIZE: "colorize",
}


def _shipped(options: RunOptions) -> RunOptions:
    return dataclasses.replace(options, weights=None)


def available_steps(options: RunOptions = DEFAULT_OPTIONS) -> frozenset[RestoreStep]:
    """The steps that can run here: find damage (a classical detector stands in for a missing
    model) and restore colours always; the others when their model is installed."""
    options = _shipped(options)
    return frozenset(s for s in ORDER if s not in _MODEL_OF or has_model(_MODEL_OF[s], options))


def analyse_scan(
    image: np.ndarray,
    *,
    sensitivity: float = 0.5,
    find_damage: bool = True,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ScanAnalysis:
    """What the scan needs: grey or colour, toned, faded, how noisy, and (`find_damage`) the
    proposed damage mask at `sensitivity` — the only part that runs a model."""
    image = check_image(image)
    options = _shipped(options)
    correction = analyse_colours(image)
    available = available_steps(options)
    noise = measure_noise(image, options, cancel) if RestoreStep.DENOISE in available else 0.0
    mask, detector = None, ""
    if find_damage:
        detector = "model" if has_model("detect", options) else "classical"
        mask = detect_damage(
            image, sensitivity=sensitivity, options=options, progress=progress, cancel=cancel
        )
    return ScanAnalysis(
        grey=is_grey(image),
        toned=correction.toned,
        faded=correction.faded,
        noise_level=noise,
        mask=mask,
        sensitivity=sensitivity,
        detector=detector,
        available=available,
    )


def chosen_steps(request: RestoreRequest, analysis: ScanAnalysis) -> tuple[RestoreStep, ...]:
    """The steps to run: the request's (or the analysis' proposal), colorize as `colorize`
    says (AUTO: black-and-white and toned photos only)."""
    steps = set(analysis.proposed(request.colorize) if request.steps is None else request.steps)
    steps.discard(RestoreStep.COLORIZE)
    wants_colour = request.colorize is ColorizeChoice.YES or (
        request.colorize is ColorizeChoice.AUTO and analysis.monochrome
    )
    if wants_colour and (request.steps is None or RestoreStep.COLORIZE in request.steps):
        steps.add(RestoreStep.COLORIZE)
    return tuple(s for s in ORDER if s in steps)


class _Tracker:
    """One progress bar across the steps: each step's own fraction, weighted by its cost."""

    def __init__(self, steps: tuple[RestoreStep, ...], progress: ProgressCallback | None):
        self.weights = {s: _COST[s] for s in steps}
        self.total = sum(self.weights.values()) or 1.0
        self.before = 0.0
        self.progress = progress

    def callback(self, step: RestoreStep) -> Callable[[Progress], None]:
        def report(inner: Progress) -> None:
            share = self.before + self.weights[step] * min(1.0, inner.fraction)
            if self.progress is not None:
                done = round(1000 * share / self.total)
                self.progress(Progress(f"restore: {step.value}", done, 1000, inner.tile_size))

        return report

    def finished(self, step: RestoreStep) -> None:
        self.before += self.weights[step]
        if self.progress is not None:
            done = round(1000 * self.before / self.total)
            self.progress(Progress(f"restore: {step.value}", done, 1000))


def _given_mask(request: RestoreRequest, image: np.ndarray) -> np.ndarray | None:
    if request.mask is None:
        return None
    mask = np.asarray(request.mask)
    if mask.shape != image.shape[:2]:
        raise InvalidRequest(f"the mask must be H×W = {image.shape[:2]}, got {mask.shape}")
    return mask.astype(bool)


def restore(
    image: np.ndarray,
    request: RestoreRequest = DEFAULT_REQUEST,
    *,
    analysis: ScanAnalysis | None = None,
    keep_steps: bool = True,
    options: RunOptions = DEFAULT_OPTIONS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RestoreResult:
    """Restore `image` (H×W×3 uint8/uint16, never modified) as `request` says.

    `analysis`: `analyse_scan`'s result for this image (the editor's dialog shows it first;
    its damage mask is reused when made at the request's sensitivity). `keep_steps` False
    keeps only the final picture (the command line: a 100 MP scan then needs a few copies,
    not one per step). Raises `Cancelled` when `cancel` is set, like every task.
    """
    image = check_image(image)
    options = _shipped(options)
    given = _given_mask(request, image)
    if analysis is None or (analysis.mask is not None and analysis.mask.shape != image.shape[:2]):
        look = given is None and (request.steps is None or RestoreStep.DETECT in request.steps)
        analysis = analyse_scan(
            image,
            sensitivity=request.sensitivity,
            find_damage=look,
            options=options,
            progress=_Tracker((RestoreStep.DETECT,), progress).callback(RestoreStep.DETECT),
            cancel=cancel,
        )
    steps = chosen_steps(request, analysis)
    tracker = _Tracker(steps, progress)
    state = _State(image, given, analysis, request, options, cancel)
    results = []
    for step in steps:
        if cancel is not None:
            cancel.raise_if_cancelled()
        result = _RUNNERS[step](state, tracker.callback(step))
        if result.image is not None and result.step is not RestoreStep.DETECT:
            state.current = result.image
        if not keep_steps and result.step is not RestoreStep.DETECT:
            result = dataclasses.replace(result, image=None)
        results.append(result)
        tracker.finished(step)
    final = state.current if state.current is not image else image.copy()
    return RestoreResult(final, tuple(results), analysis, state.mask)


@dataclasses.dataclass
class _State:
    """What the steps share: the picture so far, the damage mask, the settings."""

    current: np.ndarray
    mask: np.ndarray | None
    analysis: ScanAnalysis
    request: RestoreRequest
    options: RunOptions
    cancel: CancelToken | None


def _skipped(step: RestoreStep, why: str, settings: dict | None = None) -> StepResult:
    return StepResult(step, None, settings or {}, "", skipped=why)


def _unavailable(state: _State, step: RestoreStep) -> StepResult | None:
    if step in state.analysis.available:
        return None
    return _skipped(step, f"no {_MODEL_OF[step]} model installed")


def _detect(state: _State, report: ProgressCallback) -> StepResult:
    request, analysis = state.request, state.analysis
    if state.mask is not None:
        source = "given"
    elif analysis.mask is not None and analysis.sensitivity == request.sensitivity:
        state.mask, source = analysis.mask, analysis.detector
    else:
        source = "model" if has_model("detect", state.options) else "classical"
        state.mask = detect_damage(
            state.current,
            sensitivity=request.sensitivity,
            options=state.options,
            progress=report,
            cancel=state.cancel,
        )
    percent = 100.0 * float(state.mask.mean())
    settings = {"sensitivity": request.sensitivity, "detector": source, "damage_percent": percent}
    said = f"{words.percent(percent, 2)} marked as damage"
    return StepResult(RestoreStep.DETECT, state.mask, settings, said)


def _inpaint(state: _State, report: ProgressCallback) -> StepResult:
    step = RestoreStep.INPAINT
    if (missing := _unavailable(state, step)) is not None:
        return missing
    if state.mask is None:
        state.mask = state.analysis.mask
    if state.mask is None or not state.mask.any():
        return _skipped(step, "no damage marked")
    percent = 100.0 * float(state.mask.mean())
    filled = inpaint(
        state.current, state.mask, options=state.options, progress=report, cancel=state.cancel
    )
    said = f"{words.percent(percent, 2)} damage filled"
    return StepResult(step, filled, {"damage_percent": percent}, said)


def _denoise(state: _State, report: ProgressCallback) -> StepResult:
    step = RestoreStep.DENOISE
    if (missing := _unavailable(state, step)) is not None:
        return missing
    strength = state.request.denoise_strength
    request = DenoiseRequest(strength=strength)
    cleaned = _run(state, "denoise", request, report)
    level = state.analysis.noise_level
    settings = {"strength": strength, "noise_level": level}
    said = f"noise level {level:.1f} reduced ({words.percent(strength)})"
    return StepResult(step, cleaned, settings, said)


def _colours(state: _State, report: ProgressCallback) -> StepResult:
    step = RestoreStep.COLOURS
    # Measured again on the picture so far: dust and noise no longer set its black point.
    correction = analyse_colours(state.current)
    strength = state.request.colours_strength
    settings = {"strength": strength, "faded": correction.faded, "toned": correction.toned}
    if correction.faded < FADED_AT:
        return _skipped(step, "not faded", settings)
    restored = apply_correction(
        state.current, correction, strength, progress=report, cancel=state.cancel
    )
    toned = correction.toned >= TONED_AT
    what = "toning made neutral" if toned else "faded cast corrected"
    what += f" ({words.percent(strength)})"
    return StepResult(step, restored, settings, what)


def _colorize(state: _State, report: ProgressCallback) -> StepResult:
    step = RestoreStep.COLORIZE
    if (missing := _unavailable(state, step)) is not None:
        return missing
    strength, hints = state.request.colorize_strength, state.request.hints
    said = f"colour added ({words.percent(strength)})"
    try:
        coloured = _run_colorize(state, report, hints)
    except InvalidRequest as exc:
        if not hints or "does not take colour hints" not in str(exc):
            raise
        # The pins are the user's; the photo still gets its colour, and the line says why
        # the pins made no difference.
        coloured, hints = _run_colorize(state, report, ()), ()
        said += ", pins ignored: this colorizer takes none"
    settings = {"strength": strength, "hints": len(hints)}
    return StepResult(step, coloured, settings, said)


def _run_colorize(state: _State, report: ProgressCallback, hints: tuple) -> np.ndarray:
    request = ColorizeRequest(strength=state.request.colorize_strength, hints=hints)
    return _run(state, "colorize", request, report)


def _run(state: _State, task: str, request: object, report: ProgressCallback) -> np.ndarray:
    """The task's result on the picture so far, with the run's options and cancel."""
    return run_task(
        task, state.current, request, options=state.options, progress=report, cancel=state.cancel
    )


_RUNNERS: dict[RestoreStep, Callable[[_State, ProgressCallback], StepResult]] = {
    RestoreStep.DETECT: _detect,
    RestoreStep.INPAINT: _inpaint,
    RestoreStep.DENOISE: _denoise,
    RestoreStep.COLOURS: _colours,
    RestoreStep.COLORIZE: _colorize,
}
