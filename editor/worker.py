"""Running one engine call off the GUI thread (a QObject worker moved to a QThread).

The worker turns every outcome into exactly one final signal — `finished(result)`,
`failed(message)` or `cancelled()` — so the window never sees an exception, and the message
in `failed` is written for the user. `BackgroundTask` owns the thread and makes sure it is
stopped and joined before anything is dropped (a QThread destroyed while running aborts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from engine import api

log = logging.getLogger(__name__)

ProgressCallback = Callable[[api.Progress], None]
Job = Callable[[ProgressCallback, api.CancelToken], np.ndarray]
"""An engine call with its image and settings bound: job(progress, cancel) -> result."""

_UNCHANGED = "The image was not changed."


def describe_failure(title: str, error: BaseException) -> str:
    """A message for the user naming what went wrong in task `title` (e.g. "Denoise")."""
    detail = str(error) or type(error).__name__
    if isinstance(error, api.ModelUnavailable):
        # The engine's detail says which file is missing or damaged and how to get one.
        return (
            f"No usable {title.lower()} model is installed, so {title} cannot run.\n\n"
            f"{detail}\n\n{_UNCHANGED}"
        )
    if isinstance(error, (api.OutOfMemory, MemoryError)):
        return (
            f"{title} ran out of memory, even working on small tiles. Close other programs "
            f"or try a smaller image. ({detail})\n\n{_UNCHANGED}"
        )
    if isinstance(error, api.DeviceUnavailable):
        return f"{title} could not use the selected device: {detail}\n\n{_UNCHANGED}"
    if isinstance(error, api.UnsupportedImage):
        return f"{title} cannot process this image: {detail}\n\n{_UNCHANGED}"
    if isinstance(error, api.InvalidRequest):
        return f"{title} was given settings it cannot use: {detail}\n\n{_UNCHANGED}"
    if isinstance(error, api.EngineError):
        return f"{title} failed: {detail}\n\n{_UNCHANGED}"
    return (
        f"{title} stopped because of an internal error ({type(error).__name__}: {detail}).\n\n"
        f"{_UNCHANGED}"
    )


class TaskWorker(QObject):
    """Runs one job when `run` is called (in the worker thread) and reports how it ended."""

    progress = Signal(float)  # 0..1
    finished = Signal(object)  # the result ndarray
    failed = Signal(str)  # a message for the user
    cancelled = Signal()

    def __init__(self, title: str, job: Job) -> None:
        super().__init__()
        self.title = title
        self._job = job
        self.token = api.CancelToken()

    def cancel(self) -> None:
        """Ask the job to stop; the engine checks between tiles, so this may take a moment."""
        self.token.cancel()

    @Slot()
    def run(self) -> None:
        try:
            result = self._job(self._report, self.token)
        except api.Cancelled:
            self.cancelled.emit()
            return
        except (api.EngineError, MemoryError) as error:
            self.failed.emit(describe_failure(self.title, error))
            return
        except Exception as error:
            # The thread boundary: an engine bug must reach the user as a message (and the
            # log as a traceback), not end the thread silently with the window still waiting.
            log.exception("%s failed", self.title)
            self.failed.emit(describe_failure(self.title, error))
            return
        if self.token.cancelled:
            # The user asked to stop; applying a result they no longer expect would surprise.
            self.cancelled.emit()
        elif not isinstance(result, np.ndarray):
            self.failed.emit(
                describe_failure(self.title, TypeError(f"got {type(result).__name__}"))
            )
        else:
            self.finished.emit(result)

    def _report(self, progress: api.Progress) -> None:
        # Called in the worker thread; the signal is queued to the GUI thread.
        self.progress.emit(float(progress.fraction))


class BackgroundTask:
    """One worker on its own QThread. Connect to `worker`'s signals, then `start()`."""

    def __init__(self, title: str, job: Job) -> None:
        self.title = title
        self.worker = TaskWorker(title, job)
        # Kept here too: the worker's C++ side is deleted when the thread ends.
        self.token = self.worker.token
        self.thread = QThread()
        self.thread.setObjectName(f"{title} task")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # The worker lives in the task's thread, so it must also be deleted there.
        self.thread.finished.connect(self.worker.deleteLater)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self.token.cancelled

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop(self, *, cancel: bool) -> None:
        """Wait for the thread to end (after the job returns), cancelling the job first if
        asked. Safe to call more than once and after the job has already finished."""
        if cancel:
            self.cancel()
        # quit() before the event loop starts is remembered, so this cannot miss.
        self.thread.quit()
        self.thread.wait()
