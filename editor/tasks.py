"""Running restorations (and scratch detection) in the background, one at a time.

Each run works on what the user sees when it starts — the composite, and the mask as it is
then — on a `BackgroundTask` thread, with a progress bar and a Cancel button in the status
bar; the window stays usable meanwhile (painting, layers, zoom). A second run while one is
running is refused with a status message. The document changes only when a run's result is
whole: the result layer is added (one undo step) in the GUI thread, or nothing happens.

Inpainting uses the mask's holes and, once its result layer is added, clears those holes
from the mask in the same undo step (strokes painted while it ran stay): the painted areas
are done, and one Undo brings back both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressBar, QPushButton

from editor import dialogs
from editor.colour import has_colour
from editor.doc import Document, DocumentError
from editor.worker import BackgroundTask, ProgressCallback
from engine import api

if TYPE_CHECKING:
    from editor.main_window import MainWindow

PROGRESS_STEPS = 1000
STATUS_MS = 8000
INPAINT_EMPTY_MASK = (
    "Inpaint fills the areas painted in the mask, and the mask is empty.\n\n"
    "Paint over the scratches and stains with the mask brush, or use Mask ▸ Auto-detect "
    "Scratches, then run Inpaint again."
)
INSIDE_EMPTY_MASK = (
    "“Apply only inside the mask” is on, but the mask is empty, so the result would not "
    "show anywhere.\n\nPaint the areas to restore first, or turn the option off."
)
ALREADY_COLOUR = "This photo already has colour; colorizing replaces it. Continue?"


def percent(fraction: float) -> str:
    return f"{round(fraction * 100)}%"


def result_name(task: str, settings: list[str], inside_mask: bool) -> str:
    """A result layer's name: "Denoise (auto, 100%)", "Colorize (80%, in mask)", "Inpaint"."""
    parts = [*settings, "in mask"] if inside_mask else settings
    return f"{task} ({', '.join(parts)})" if parts else task


class TaskController(QObject):
    # "finished", "failed", "cancelled" or "discarded", once the outcome has been applied
    # and reported.
    ended = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._task: BackgroundTask | None = None
        self._document: Document | None = None
        self._apply: Callable[[np.ndarray], None] | None = None
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setMaximumWidth(200)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        status = window.statusBar()
        status.addPermanentWidget(self.progress_bar)
        status.addPermanentWidget(self.cancel_button)
        self.progress_bar.hide()
        self.cancel_button.hide()

    @property
    def busy(self) -> bool:
        return self._task is not None

    @property
    def running_title(self) -> str | None:
        return None if self._task is None else self._task.title

    # --- the restorations ----------------------------------------------------------------

    def run_denoise(self) -> bool:
        document, panel = self.window.document, self.window.restore_panel
        prepared = self._prepare(document, panel.only_inside_mask)
        if prepared is None:
            return False
        inside, coverage = prepared
        noise, strength = panel.noise_kind, panel.denoise_fraction
        options = self.window.run_options()
        # Layers are immutable: the snapshot is cheap, and compositing a 24 MP stack (up to
        # ~2 s) happens on the worker thread, not the GUI's.
        snapshot = document.snapshot()
        name = result_name("Denoise", [panel.noise_word, percent(strength)], inside)

        def job(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            return api.denoise(
                snapshot.composite(), noise=noise, strength=strength, options=options,
                progress=progress, cancel=cancel,
            )  # fmt: skip

        return self._start("Denoise", job, self._adder(name, coverage, clear_mask=False))

    def run_inpaint(self) -> bool:
        document = self.window.document
        if document is None or not self._can_start():
            return False
        holes = document.hole_mask()  # a new array: the user may keep painting meanwhile
        if not holes.any():
            dialogs.inform(self.window, "Inpaint", INPAINT_EMPTY_MASK)
            return False
        options, snapshot = self.window.run_options(), document.snapshot()

        def job(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            image = snapshot.composite()  # on the worker thread (see run_denoise)
            return api.inpaint(image, holes, options=options, progress=progress, cancel=cancel)

        # Only the holes sent are cleared afterwards: strokes painted meanwhile stay.
        return self._start("Inpaint", job, self._adder("Inpaint", None, clear_mask=holes))

    def run_colorize(self) -> bool:
        document, panel = self.window.document, self.window.restore_panel
        prepared = self._prepare(document, panel.only_inside_mask)
        if prepared is None:
            return False
        inside, coverage = prepared
        image = document.composite()
        if has_colour(image) and not dialogs.confirm(self.window, "Colorize", ALREADY_COLOUR):
            return False
        strength, options = panel.colorize_fraction, self.window.run_options()
        name = result_name("Colorize", [percent(strength)], inside)

        def job(progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            return api.colorize(
                image, strength=strength, options=options, progress=progress, cancel=cancel
            )

        return self._start("Colorize", job, self._adder(name, coverage, clear_mask=False))

    def detect_scratches(self) -> bool:
        """Propose a mask of scratches and dust, added to the mask (one undo step)."""
        document = self.window.document
        if document is None or not self._can_start():
            return False
        image = document.composite()
        sensitivity = self.window.tools_panel.sensitivity_fraction

        def job(_progress: ProgressCallback, cancel: api.CancelToken) -> np.ndarray:
            return api.detect_scratches(image, sensitivity=sensitivity, cancel=cancel)

        def apply(found: np.ndarray) -> None:
            if found.shape != (document.height, document.width) or not found.any():
                self.window.statusBar().showMessage(
                    "No scratches or dust found; try a higher sensitivity.", STATUS_MS
                )
                return
            self.window.edits.add_to_mask(found, "Auto-detect scratches")

        started = self._start("Detect scratches", job, apply)
        if started:
            self.progress_bar.setRange(0, 0)  # no progress reports: a busy indicator
        return started

    def _prepare(
        self, document: Document | None, inside: bool
    ) -> tuple[bool, np.ndarray | None] | None:
        """(inside, coverage) for a restoration that may start now; None when it may not
        (no document, a task running, or "only inside the mask" with an empty mask)."""
        if document is None or not self._can_start():
            return None
        coverage = self._coverage(document, inside)
        if inside and coverage is None:
            return None
        return inside, coverage

    def _coverage(self, document: Document, inside: bool) -> np.ndarray | None:
        """A copy of the mask for a result layer shown only inside it (None: everywhere)."""
        if not inside:
            return None
        if document.mask_is_empty():
            dialogs.inform(self.window, "Apply only inside the mask", INSIDE_EMPTY_MASK)
            return None
        return document.mask.copy()

    def _adder(
        self, name: str, coverage: np.ndarray | None, clear_mask: bool | np.ndarray
    ) -> Callable[[np.ndarray], None]:
        def apply(result: np.ndarray) -> None:
            self.window.edits.add_result(result, name, coverage, clear_mask)

        return apply

    # --- running -------------------------------------------------------------------------

    def _can_start(self) -> bool:
        files = self.window.files
        if files.busy:
            self.window.statusBar().showMessage(
                f"Wait for {files.running_title.lower()} to finish.", STATUS_MS
            )
            return False
        if self._task is None:
            return True
        self.window.statusBar().showMessage(
            f"{self._task.title} is still running: wait for it to finish or cancel it.", STATUS_MS
        )
        return False

    def _start(
        self,
        title: str,
        job: Callable[[ProgressCallback, api.CancelToken], np.ndarray],
        apply: Callable[[np.ndarray], None],
    ) -> bool:
        task = BackgroundTask(title, job)
        # Bound methods of this QObject (GUI thread): the worker's signals are queued here.
        task.worker.progress.connect(self._progress)
        task.worker.finished.connect(self._finished)
        task.worker.failed.connect(self._failed)
        task.worker.cancelled.connect(self._cancelled)
        self._task, self._document, self._apply = task, self.window.document, apply
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.window.statusBar().showMessage(f"{title}…")
        self.window.refresh_actions()
        task.start()
        return True

    def cancel(self) -> None:
        """Ask the running task to stop; the engine stops within one tile."""
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.window.statusBar().showMessage(f"Cancelling {self._task.title.lower()}…")

    def shutdown(self) -> None:
        """Cancel the running task and wait for its thread (the window is closing)."""
        task, self._task = self._task, None
        if task is not None:
            task.stop(cancel=True)
        self._document = self._apply = None

    def _end(self) -> tuple[str, Document | None, Callable[[np.ndarray], None] | None] | None:
        """Join the ended task's thread and restore the idle UI; None for a late signal of a
        task `shutdown` already stopped."""
        task = self._task
        if task is None:
            return None
        ended = (task.title, self._document, self._apply)
        self._task = self._document = self._apply = None
        task.stop(cancel=False)  # the worker has sent its last signal: returns at once
        self.progress_bar.hide()
        self.cancel_button.hide()
        self.window.statusBar().clearMessage()
        self.window.refresh_actions()
        return ended

    def _progress(self, fraction: float) -> None:
        if self._task is not None:
            self.progress_bar.setRange(0, PROGRESS_STEPS)
            self.progress_bar.setValue(round(min(max(fraction, 0.0), 1.0) * PROGRESS_STEPS))

    def _finished(self, result: object) -> None:
        ended = self._end()
        if ended is None:
            return
        title, document, apply = ended
        if document is not self.window.document or apply is None:
            # Opening another photo is refused while a task runs; this is only a safeguard.
            self.window.statusBar().showMessage(f"{title} result discarded: the photo changed.")
            self.ended.emit("discarded")
            return
        self.window.edits.after_stroke(lambda: self._apply_result(title, apply, result))

    def _apply_result(
        self, title: str, apply: Callable[[np.ndarray], None], result: object
    ) -> None:
        try:
            apply(result)  # type: ignore[arg-type]
        except (DocumentError, ValueError) as error:
            dialogs.show_error(
                self.window,
                f"{title} failed",
                f"{title} returned a result that does not fit the photo.\n\n"
                "The image was not changed.",
                str(error),
            )
            self.ended.emit("failed")
            return
        self.window.statusBar().showMessage(f"{title} done.", STATUS_MS)
        self.ended.emit("finished")

    def _failed(self, message: str, detail: str) -> None:
        ended = self._end()
        if ended is None:
            return
        dialogs.show_error(self.window, f"{ended[0]} failed", message, detail)
        self.ended.emit("failed")

    def _cancelled(self) -> None:
        ended = self._end()
        if ended is None:
            return
        self.window.statusBar().showMessage(
            f"{ended[0]} cancelled; the image was not changed.", STATUS_MS
        )
        self.ended.emit("cancelled")
