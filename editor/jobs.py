"""The editor's job runner: every piece of work off the GUI thread goes through it.

Restorations, damage detection, open/save/export (of masks too) and autosave are each a
`Job`: a title, the work (``work(progress, cancel)``, run on a `WorkerThread`) and what to
do with its outcome in the GUI thread. The runner holds the editor's ONE busy state: one
job the user asked for at a time; a second is refused with a status message. Progress (as
`engine.api.Progress`), Cancel and errors are handled here once: the `JobProgress` widget
shows the running job, a failure becomes an error box unless the job words it itself.

A *quiet* job (autosave) never makes the editor busy and shows nothing: it starts only when
the runner is idle, and a job the user asks for meanwhile waits for it (it is short) and
starts as soon as it ends — busy from the moment it was asked for.

`start(job, wait=True)` runs the same job at once on the GUI thread, under a wait cursor
(the save the unsaved-changes prompt asks for; tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QProgressBar, QPushButton, QWidget

from editor import dialogs
from editor.worker import Outcome, Work, WorkerThread, describe_failure, failure_detail
from engine import api

PROGRESS_STEPS = 1000
STATUS_MS = 8000


class Feedback(Protocol):
    """Where a controller's messages go: the status bar, and the parent of its dialogs."""

    @property
    def dialog_parent(self) -> QWidget | None: ...

    def show_status(self, text: str, timeout_ms: int = 0) -> None: ...


@dataclass
class Job:
    """One piece of work and what follows it. `failed(error)` words the error itself
    (default: "<title> failed" with `describe_failure`); `cancelled()` likewise (default: a
    status message). `reports_progress` False: a busy indicator instead of a bar."""

    title: str
    work: Work
    done: Callable[[Any], None]
    failed: Callable[[BaseException], None] | None = None
    cancelled: Callable[[], None] | None = None
    cancellable: bool = True
    reports_progress: bool = True
    quiet: bool = False


def start_job(runner: JobRunner, job: Job, *, now: bool) -> bool:
    """Start `job`. With `now` it runs at once on this thread (a save the unsaved-changes
    prompt waits for; tests), and True then means it succeeded, not only that it started."""
    if not now:
        return runner.start(job)
    succeeded: list[bool] = []
    then = job.done

    def done(result: object) -> None:
        succeeded.append(True)
        then(result)

    return runner.start(replace(job, done=done), wait=True) and bool(succeeded)


class JobRunner(QObject):
    busy_changed = Signal(bool)
    started = Signal(object)  # the Job the user now waits for
    progress = Signal(object)  # api.Progress of that job
    ended = Signal(object, str)  # a Job the user asked for; "finished", "failed", "cancelled"

    def __init__(self, feedback: Feedback, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.feedback = feedback
        self._worker: WorkerThread | None = None
        self._job: Job | None = None  # the job of `_worker`
        self._pending: Job | None = None  # asked for while a quiet job runs

    # --- state ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A job the user asked for runs or is about to: the one busy state of the editor."""
        return self._pending is not None or (self._job is not None and not self._job.quiet)

    @property
    def running(self) -> Job | None:
        """The job the user waits for (None when idle or only a quiet job runs)."""
        if self._pending is not None:
            return self._pending
        return self._job if self._job is not None and not self._job.quiet else None

    @property
    def current(self) -> Job | None:
        """The job running now, quiet or not."""
        return self._job

    @property
    def active(self) -> bool:
        """Any job at all, quiet ones included, is running."""
        return self._worker is not None

    @property
    def cancel_requested(self) -> bool:
        return self._worker is not None and self._worker.token.cancelled

    def refusal(self) -> str:
        """Why another job cannot start now (a status message)."""
        job = self.running
        if job is None:
            return ""
        if job.cancellable:
            return f"{job.title} is still running: wait for it to finish or cancel it."
        return f"Wait for {job.title.lower()} to finish."

    # --- starting, cancelling, waiting ---------------------------------------------------

    def start(self, job: Job, *, wait: bool = False) -> bool:
        """Start `job`; False (with a status message) while another job the user asked for
        runs. A quiet job is skipped silently unless the runner is idle."""
        if self.busy or (job.quiet and self.active):
            if not job.quiet:
                self.feedback.show_status(self.refusal(), STATUS_MS)
            return False
        if wait:
            self.wait()
            self._run_now(job)
            return True
        if self.active:  # only a quiet job: this one follows it
            self._pending = job
            self._announce(job)
            return True
        self._launch(job)
        return True

    def cancel(self) -> None:
        """Ask the job the user waits for to stop; the engine stops within one tile."""
        job = self.running
        if job is None or not job.cancellable:
            return
        if job is self._pending:  # never started: nothing to stop
            self._pending = None
            self.feedback.show_status("")
            self.busy_changed.emit(False)
            self._deliver(job, Outcome(cancelled=True))
            return
        assert self._worker is not None
        self._worker.cancel()
        self.feedback.show_status(f"Cancelling {job.title.lower()}…")
        self.busy_changed.emit(True)  # the Cancel button goes off

    def wait(self) -> None:
        """Wait for the running job and apply its outcome now (closing; a save deciding
        whether there is anything unsaved; tests). A job pending behind it starts."""
        worker = self._worker
        if worker is not None:
            worker.join()
            self._finished(worker)

    def shutdown(self) -> None:
        """Cancel whatever runs and wait for it (the window is closing)."""
        self._pending = None
        worker, self._worker, self._job = self._worker, None, None
        if worker is not None:
            worker.cancel()
            worker.join()
            self.busy_changed.emit(False)

    def report_failure(self, title: str, error: BaseException) -> None:
        """The error box a failed job gets unless it words its failure itself."""
        dialogs.show_error(
            self.feedback.dialog_parent, f"{title} failed",
            describe_failure(title, error), failure_detail(error),
        )  # fmt: skip

    # --- running -------------------------------------------------------------------------

    def _announce(self, job: Job) -> None:
        self.started.emit(job)
        self.feedback.show_status(f"{job.title}…")
        self.busy_changed.emit(True)

    def _launch(self, job: Job) -> None:
        worker = WorkerThread(job.title, job.work)
        # Queued explicitly: reports come from the worker thread, the bar lives in this one.
        worker.progress.connect(self._progress, Qt.ConnectionType.QueuedConnection)
        worker.ended.connect(lambda: self._finished(worker))
        self._worker, self._job = worker, job
        if not job.quiet:
            self._announce(job)
        worker.start_work()

    def _run_now(self, job: Job) -> None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            outcome = Outcome(result=job.work(lambda _progress: None, api.CancelToken()))
        except api.Cancelled:
            outcome = Outcome(cancelled=True)
        except Exception as error:  # the same boundary as a worker thread's
            outcome = Outcome(error=error)
        finally:
            QApplication.restoreOverrideCursor()
        self._deliver(job, outcome)

    def _progress(self, report: object) -> None:
        worker = self._worker
        if (
            worker is not None
            and self.sender() in (worker, None)
            and isinstance(report, api.Progress)
        ):
            self.progress.emit(report)

    def _finished(self, worker: WorkerThread) -> None:
        if worker is not self._worker:
            return  # already delivered by `wait`, or dropped by `shutdown`
        job = self._job
        assert job is not None
        self._worker = self._job = None
        if not job.quiet:
            self.feedback.show_status("")
            self.busy_changed.emit(self.busy)
        self._deliver(job, worker.outcome)
        pending, self._pending = self._pending, None
        if pending is not None and not self.active:
            self._launch(pending)

    def _deliver(self, job: Job, outcome: Outcome) -> None:
        if outcome.cancelled:
            if job.cancelled is not None:
                job.cancelled()
            elif not job.quiet:
                self.feedback.show_status(f"{job.title} cancelled.", STATUS_MS)
            word = "cancelled"
        elif outcome.error is not None:
            if job.failed is not None:
                job.failed(outcome.error)
            elif not job.quiet:
                self.report_failure(job.title, outcome.error)
            word = "failed"
        else:
            job.done(outcome.result)
            word = "finished"
        if not job.quiet:
            self.ended.emit(job, word)


class JobProgress(QWidget):
    """The status bar's part of the runner: a progress bar and Cancel for the running job."""

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(200)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(runner.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        runner.started.connect(self._started)
        runner.progress.connect(self._progress)
        runner.busy_changed.connect(self._busy_changed)
        self.hide()

    def _started(self, job: Job) -> None:
        # No progress reports: a busy indicator (range 0..0) instead of a bar.
        self.bar.setRange(0, PROGRESS_STEPS if job.reports_progress else 0)
        self.bar.setValue(0)
        self.cancel_button.setVisible(job.cancellable)
        self.cancel_button.setEnabled(True)
        self.show()

    def _progress(self, report: api.Progress) -> None:
        if self.bar.maximum() > 0:
            fraction = min(max(report.fraction, 0.0), 1.0)
            self.bar.setValue(round(fraction * PROGRESS_STEPS))

    def _busy_changed(self, busy: bool) -> None:
        self.setVisible(busy)
        self.cancel_button.setEnabled(busy and not self.runner.cancel_requested)
