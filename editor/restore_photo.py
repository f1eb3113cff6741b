"""Restore Photo: one click that takes the photo through the engine's whole pipeline.

Restore ▸ Restore Photo… (or the Restore panel's button) opens `RestorePhotoDialog` and
runs `api.analyse_scan` on what the user sees (the composite, as every task does) in the
job runner, with progress in the dialog and the status bar; the dialog's Cancel stops it.
The dialog then lists the steps, pre-checked as the analysis proposes. Run starts
`api.restore` in the runner (progress and Cancel in the status bar, the step running named
in it), with the analysis, so the damage detector does not run twice.

The document changes only once the run is whole, in ONE undo step: each step that made a
picture becomes a layer named after it ("Denoise: noise level 7 reduced (100%)"), in running
order, the last on top, and the damage mask found becomes the mask (to edit, then re-run
Inpaint). Cancelled or failed, nothing changes.

The settings come from the panels: the damage detector's sensitivity (Tools), the Denoise
and Colorize strengths (Restore).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, Signal

from editor import dialogs
from editor.doc import Document, DocumentError
from editor.jobs import STATUS_MS, Job, JobRunner
from editor.restore_dialog import RestorePhotoDialog
from editor.tasks import TaskHost
from editor.worker import ProgressCallback
from engine import api

TITLE = "Restore Photo"
ANALYSIS_TITLE = "Analyse photo"
STEP_TASK = "restore: "  # api.restore's progress: "restore: <step>"


RestorePhotoHost = TaskHost  # the window gives Restore Photo what it gives the tasks


class ResultsSink(Protocol):
    """Where the results go: the undoable edits (`editor.editing.EditController`)."""

    def add_results(
        self, results: list[tuple[np.ndarray, str]], mask: np.ndarray | None, text: str
    ) -> object: ...
    def after_stroke(self, callback: Callable[[], object]) -> None: ...


def step_layers(result: api.RestoreResult) -> list[tuple[np.ndarray, str]]:
    """The layers a run adds: (picture, name) of each step that made one, in running order
    (Find damage's picture is the mask: it becomes the mask, not a layer)."""
    return [
        (step.image, step.label)
        for step in result.steps
        if step.image is not None and step.step is not api.RestoreStep.DETECT
    ]


class Analysed:
    """The analysis the dialog shows, and the photo (and its layers) it was made of."""

    def __init__(
        self, document: Document, layers: tuple, image: np.ndarray, analysis: api.ScanAnalysis
    ) -> None:
        self.document, self.layers, self.image, self.analysis = document, layers, image, analysis


class RestorePhotoController(QObject):
    # "finished", "failed" or "cancelled", once the analysis' outcome is shown.
    analysis_ended = Signal(str)
    # "finished", "failed", "cancelled" or "discarded", once a run's outcome is applied.
    ended = Signal(str)
    # The damage mask became the document's mask: its damage is already filled, so the window
    # hides the red overlay (View → Show Mask brings it back) and shows the restored photo.
    mask_replaced = Signal()

    def __init__(
        self, host: RestorePhotoHost, runner: JobRunner, edits: ResultsSink,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.host, self.runner, self.edits = host, runner, edits
        self.dialog: RestorePhotoDialog | None = None
        self._analysed: Analysed | None = None
        self._analysis_job: Job | None = None
        self._run_job: Job | None = None
        self._step: str = ""
        runner.progress.connect(self._progress)
        runner.ended.connect(self._job_ended)

    # --- the dialog and the analysis -----------------------------------------------------

    def open_dialog(self) -> RestorePhotoDialog | None:
        """Open the dialog and start analysing the photo; None when it cannot start now."""
        document = self.host.document
        if document is None or self.dialog is not None:
            return None
        if self.runner.busy:
            self.host.show_status(self.runner.refusal(), STATUS_MS)
            return None
        sensitivity = self.host.tools_panel.sensitivity_fraction
        options, snapshot = self.host.run_options(), document.snapshot()
        layers = document.layers
        dialog = RestorePhotoDialog(self.host.dialog_parent)
        dialog.accepted.connect(lambda: self._chosen(dialog))
        dialog.rejected.connect(lambda: self._closed(dialog))

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> object:
            image = snapshot.composite()  # on the worker thread: up to ~2 s on a 24 MP stack
            analysis = api.analyse_scan(
                image, sensitivity=sensitivity, options=options, progress=progress,
                cancel=cancel,
            )  # fmt: skip
            return image, analysis

        def done(outcome: tuple[np.ndarray, api.ScanAnalysis]) -> None:
            image, analysis = outcome
            if self.dialog is not dialog or dialog.closed:  # closed as the analysis ended
                self._forget(dialog)
                self.analysis_ended.emit("cancelled")
                return
            self._analysed = Analysed(document, layers, image, analysis)
            dialog.show_analysis(analysis)
            self.analysis_ended.emit("finished")

        def cancelled() -> None:
            self._forget(dialog)
            self.host.show_status(f"{ANALYSIS_TITLE} cancelled.", STATUS_MS)
            self.analysis_ended.emit("cancelled")

        job = Job(ANALYSIS_TITLE, work, done, cancelled=cancelled)
        self.dialog = dialog
        if not self.runner.start(job):
            self.dialog = None
            dialog.deleteLater()
            return None
        self._analysis_job = job
        dialog.open()
        return dialog

    def _closed(self, dialog: RestorePhotoDialog) -> None:
        """Cancel (or Escape, or the close button): stop the analysis if it still runs."""
        job = self._analysis_job
        if self.dialog is dialog and job is not None and self.runner.running is job:
            self.runner.cancel()  # its `cancelled` forgets the dialog
        else:
            self._forget(dialog)

    def _forget(self, dialog: RestorePhotoDialog) -> None:
        if self.dialog is dialog:
            self.dialog, self._analysed = None, None
            dialog.hide()
            dialog.deleteLater()

    # --- the run -------------------------------------------------------------------------

    def _chosen(self, dialog: RestorePhotoDialog) -> None:
        analysed = self._analysed if self.dialog is dialog else None
        steps, colorize = dialog.chosen_steps, dialog.colorize
        self._forget(dialog)
        if analysed is not None and steps:
            self.run(analysed, steps, colorize)

    def run(self, analysed: Analysed, steps: tuple[api.RestoreStep, ...], colorize: bool) -> bool:
        """Start `api.restore` with the chosen steps; the result applies when it is whole."""
        document = self.host.document
        if document is None or document is not analysed.document:
            return False
        options = self.host.run_options()
        if document.layers is analysed.layers:
            image, analysis, snapshot = analysed.image, analysed.analysis, None
            sensitivity = analysis.sensitivity  # its damage mask is reused
        else:  # the photo changed since the analysis: the run analyses it again
            image, analysis, snapshot = None, None, document.snapshot()
            sensitivity = self.host.tools_panel.sensitivity_fraction
        choices = self.host.restore_panel
        request = api.RestoreRequest(
            steps=steps,
            colorize=api.ColorizeChoice.YES if colorize else api.ColorizeChoice.NO,
            sensitivity=sensitivity,
            denoise_strength=choices.denoise_fraction,
            colorize_strength=choices.colorize_fraction,
            hints=tuple(document.colour_hints()),  # the Colour Hint tool's pins
        )

        def work(progress: ProgressCallback, cancel: api.CancelToken) -> api.RestoreResult:
            picture = image if snapshot is None else snapshot.composite()
            return api.restore(
                picture, request, analysis=analysis, options=options, progress=progress,
                cancel=cancel,
            )  # fmt: skip

        def done(result: api.RestoreResult) -> None:
            if document is not self.host.document:
                self.host.show_status(f"{TITLE} result discarded: the photo changed.")
                self.ended.emit("discarded")
                return
            self.edits.after_stroke(lambda: self._apply(result))

        def cancelled() -> None:
            self.host.show_status(f"{TITLE} cancelled; the image was not changed.", STATUS_MS)
            self.ended.emit("cancelled")

        job = Job(TITLE, work, done, cancelled=cancelled)
        self._step = ""
        if not self.runner.start(job):
            return False
        self._run_job = job
        return True

    def _apply(self, result: api.RestoreResult) -> None:
        try:
            self.edits.add_results(step_layers(result), result.mask, TITLE)
        except (DocumentError, ValueError) as error:
            dialogs.show_error(
                self.host.dialog_parent,
                f"{TITLE} failed",
                f"{TITLE} returned a result that does not fit the photo.\n\n"
                "The image was not changed.",
                str(error),
            )
            self.ended.emit("failed")
            return
        if result.mask is not None:
            self.mask_replaced.emit()
        self.host.show_status(f"{TITLE}: {result.summary()}.", STATUS_MS)
        self.ended.emit("finished")

    # --- reports -------------------------------------------------------------------------

    def _progress(self, report: api.Progress) -> None:
        running = self.runner.running
        if running is None:
            return
        if running is self._analysis_job and self.dialog is not None:
            self.dialog.show_progress(report)
        elif running is self._run_job and report.task.startswith(STEP_TASK):
            step = report.task[len(STEP_TASK) :]
            if step != self._step and not self.runner.cancel_requested:
                self._step = step
                try:
                    title = api.RestoreStep(step).title
                except ValueError:
                    return
                self.host.show_status(f"{TITLE}: {title}…")

    def _job_ended(self, job: Job, outcome: str) -> None:
        # A failure is reported by the runner (an error box); this only says it ended.
        if outcome != "failed":
            return
        if job is self._analysis_job:
            if self.dialog is not None:
                self._forget(self.dialog)
            self.analysis_ended.emit("failed")
        elif job is self._run_job:
            self.ended.emit("failed")
