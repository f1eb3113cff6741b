"""Restorations (and damage detection), run through the job runner one at a time.

Each run works on what the user sees when it starts — the composite, and the mask as it is
then — on a worker thread; the runner shows its progress and Cancel, and refuses a second
job meanwhile. The document changes only when a run's result is whole: the result layer is
added (one undo step) in the GUI thread, or nothing happens.

Inpainting uses the mask's holes and, once its result layer is added, clears those holes
from the mask in the same undo step (strokes painted while it ran stay): the painted areas
are done, and one Undo brings back both. Its layer covers exactly the pixels the engine
changed (the holes and a feathered seam; the engine leaves every other pixel as it was), so
hiding it, or an earlier one, shows what lies beneath.

Colorize passes the document's colour pins as hints; a colorizer that takes none refuses
them in one status line (`editor.hint_support`), and the pins stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, Signal

from editor import dialogs
from editor.doc import Document, DocumentError
from editor.hint_support import NO_HINTS, colorizer_takes_hints, known_takes_hints
from editor.jobs import STATUS_MS, Feedback, Job, JobRunner
from editor.worker import ProgressCallback
from engine import api

INPAINT_EMPTY_MASK = (
    "Inpaint fills the areas painted in the mask, and the mask is empty.\n\n"
    "Paint over the scratches and stains with the mask brush, or use Mask ▸ Auto-detect "
    "Damage, then run Inpaint again."
)
INSIDE_EMPTY_MASK = (
    "“Apply only inside the mask” is on, but the mask is empty, so the result would not "
    "show anywhere.\n\nPaint the areas to restore first, or turn the option off."
)
ALREADY_COLOUR = "This photo already has colour; colorizing replaces it. Continue?"


class RestoreChoices(Protocol):
    """The Restore panel's settings."""

    @property
    def only_inside_mask(self) -> bool: ...
    @property
    def denoise_fraction(self) -> float: ...
    @property
    def colorize_fraction(self) -> float: ...


class DetectChoices(Protocol):
    """The Tools panel's setting for damage detection."""

    @property
    def sensitivity_fraction(self) -> float: ...


class TaskHost(Feedback, Protocol):
    """What restorations need from the window."""

    @property
    def document(self) -> Document | None: ...
    @property
    def restore_panel(self) -> RestoreChoices: ...
    @property
    def tools_panel(self) -> DetectChoices: ...
    def run_options(self) -> api.RunOptions: ...


class ResultSink(Protocol):
    """Where results go: the undoable edits (`editor.editing.EditController`)."""

    def add_result(
        self, result: np.ndarray, name: str, coverage: np.ndarray | None,
        clear_mask: bool | np.ndarray,
    ) -> Document: ...  # fmt: skip
    def add_to_mask(self, found: np.ndarray, text: str) -> None: ...
    def after_stroke(self, callback: Callable[[], object]) -> None: ...


def percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def result_name(task: str, settings: list[str], inside_mask: bool) -> str:
    """A result layer's name: "Denoise (150%)", "Colorize (80%, in mask)", "Inpaint"."""
    parts = [*settings, "in mask"] if inside_mask else settings
    return f"{task} ({', '.join(parts)})" if parts else task


def changed_coverage(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """255 where any channel differs, 0 elsewhere: the coverage of a layer holding only
    what a restoration changed."""
    return np.any(before != after, axis=2).astype(np.uint8) * np.uint8(255)


class TaskController(QObject):
    # "finished", "failed", "cancelled" or "discarded", once the outcome has been applied
    # and reported.
    ended = Signal(str)

    def __init__(
        self, host: TaskHost, runner: JobRunner, edits: ResultSink,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.host, self.runner, self.edits = host, runner, edits
        self._job: Job | None = None  # the last restoration started
        # A failure is reported by the runner (an error box); this only says it ended.
        runner.ended.connect(self._job_ended)

    @property
    def busy(self) -> bool:
        """The editor's one busy state (the runner's): no restoration can start now."""
        return self.runner.busy

    # --- the restorations ----------------------------------------------------------------

    def run_denoise(self) -> bool:
        document, choices = self.host.document, self.host.restore_panel
        prepared = self._prepare(document, choices.only_inside_mask)
        if document is None or prepared is None:
            return False
        inside, coverage = prepared
        strength = choices.denoise_fraction
        options = self.host.run_options()
        # Layers are immutable: the snapshot is cheap, and compositing a 24 MP stack (up to
        # ~2 s) happens on the worker thread, not the GUI's.
        snapshot = document.snapshot()
        name = result_name("Denoise", [percent(strength)], inside)

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            return api.denoise(
                snapshot.composite(), strength=strength, options=options,
                progress=progress, cancel=cancel,
            )  # fmt: skip

        return self._start("Denoise", work, document, self._adder(name, coverage))

    def run_inpaint(self) -> bool:
        document = self.host.document
        if document is None or not self._can_start():
            return False
        holes = document.hole_mask()  # a new array: the user may keep painting meanwhile
        if not holes.any():
            dialogs.inform(self.host.dialog_parent, "Inpaint", INPAINT_EMPTY_MASK)
            return False
        options, snapshot = self.host.run_options(), document.snapshot()

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> object:
            image = snapshot.composite()  # on the worker thread (see run_denoise)
            filled = api.inpaint(image, holes, options=options, progress=progress, cancel=cancel)
            return filled, changed_coverage(image, filled)

        def apply(outcome: tuple[np.ndarray, np.ndarray]) -> None:
            filled, coverage = outcome
            # Only the holes sent are cleared afterwards: strokes painted meanwhile stay.
            self.edits.add_result(filled, "Inpaint", coverage, holes)

        return self._start("Inpaint", work, document, apply)

    def run_colorize(self) -> bool:
        document, choices = self.host.document, self.host.restore_panel
        prepared = self._prepare(document, choices.only_inside_mask)
        if document is None or prepared is None:
            return False
        inside, coverage = prepared
        strength, options = choices.colorize_fraction, self.host.run_options()
        hints = document.colour_hints()  # the pins, at full resolution
        if hints and known_takes_hints(options) is False:  # before any question
            self.host.show_status(NO_HINTS, STATUS_MS)
            return False
        image = document.composite()
        if api.has_colour(image) and not dialogs.confirm(
            self.host.dialog_parent, "Colorize", ALREADY_COLOUR
        ):
            return False
        pins = [f"{len(hints)} pin{'s' if len(hints) > 1 else ''}"] if hints else []
        name = result_name("Colorize", [percent(strength), *pins], inside)

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            if hints and colorizer_takes_hints(options) is False:
                raise api.InvalidRequest(NO_HINTS)
            return api.colorize(
                image, strength=strength, hints=hints, options=options,
                progress=progress, cancel=cancel,
            )  # fmt: skip

        failed = self._hints_refused if hints else None
        apply = self._adder(name, coverage)
        return self._start("Colorize", work, document, apply, failed=failed)

    def detect_damage(self) -> bool:
        """Propose a mask of the damage (cracks, scratches, dust, stains) with the engine's
        detector, added to the mask for editing (one undo step)."""
        document = self.host.document
        if document is None or not self._can_start():
            return False
        sensitivity = self.host.tools_panel.sensitivity_fraction
        options, snapshot = self.host.run_options(), document.snapshot()

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            return api.detect_damage(
                snapshot.composite(), sensitivity=sensitivity, options=options,
                progress=progress, cancel=cancel,
            )  # fmt: skip

        def apply(found: np.ndarray) -> str:
            if found.shape != (document.height, document.width):
                raise ValueError(f"the mask is {found.shape}, the photo {document.shape[:2]}")
            if not found.any():
                return "No damage found; try a higher sensitivity."
            self.edits.add_to_mask(found, "Auto-detect damage")
            return f"Auto-detect marked {found.mean():.2%} of the photo as damage."

        return self._start("Detect damage", work, document, apply)

    def _prepare(
        self, document: Document | None, inside: bool
    ) -> tuple[bool, np.ndarray | None] | None:
        """(inside, coverage) for a restoration that may start now; None when it may not
        (no document, a job running, or "only inside the mask" with an empty mask)."""
        if document is None or not self._can_start():
            return None
        if not inside:
            return False, None
        if document.mask_is_empty():
            dialogs.inform(self.host.dialog_parent, "Apply only inside the mask", INSIDE_EMPTY_MASK)
            return None
        return True, document.mask.copy()  # the result shows only inside the mask

    def _adder(self, name: str, coverage: np.ndarray | None) -> Callable[[np.ndarray], None]:
        def apply(result: np.ndarray) -> None:
            self.edits.add_result(result, name, coverage, clear_mask=False)

        return apply

    # --- running -------------------------------------------------------------------------

    def _can_start(self) -> bool:
        if self.runner.busy:
            self.host.show_status(self.runner.refusal(), STATUS_MS)
            return False
        return True

    def _start(
        self,
        title: str,
        work: Callable[[ProgressCallback, api.CancelToken], object],
        document: Document,
        apply: Callable[[np.ndarray], None] | Callable[[tuple[np.ndarray, np.ndarray]], None],
        *,
        reports_progress: bool = True,
        failed: Callable[[BaseException], None] | None = None,
    ) -> bool:
        def done(result: object) -> None:
            if document is not self.host.document:
                # Opening another photo is refused while a job runs; this is only a safeguard.
                self.host.show_status(f"{title} result discarded: the photo changed.")
                self.ended.emit("discarded")
                return
            self.edits.after_stroke(lambda: self._apply_result(title, apply, result))

        def cancelled() -> None:
            self.host.show_status(f"{title} cancelled; the image was not changed.", STATUS_MS)
            self.ended.emit("cancelled")

        job = Job(
            title, work, done, failed=failed, cancelled=cancelled,
            reports_progress=reports_progress,
        )  # fmt: skip
        started = self.runner.start(job)
        if started:
            self._job = job
        return started

    def _hints_refused(self, error: BaseException) -> None:
        """Colorize with pins failed: a colorizer that takes no hints is one status line (the
        pins stay); anything else is the usual error box."""
        if isinstance(error, api.InvalidRequest) and "colour hints" in str(error):
            self.host.show_status(NO_HINTS, STATUS_MS)
        else:
            self.runner.report_failure("Colorize", error)

    def _job_ended(self, job: Job, outcome: str) -> None:
        if job is self._job and outcome == "failed":
            self.ended.emit("failed")

    def _apply_result(self, title: str, apply: Callable[..., str | None], result: object) -> None:
        """Apply a finished job's result; its own status line (if it returns one) replaces
        the plain "done" (so "No damage found" is not overwritten at once)."""
        try:
            message = apply(result)
        except (DocumentError, ValueError) as error:
            dialogs.show_error(
                self.host.dialog_parent,
                f"{title} failed",
                f"{title} returned a result that does not fit the photo.\n\n"
                "The image was not changed.",
                str(error),
            )
            self.ended.emit("failed")
            return
        self.host.show_status(message or f"{title} done.", STATUS_MS)
        self.ended.emit("finished")
