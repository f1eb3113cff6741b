"""Running work off the GUI thread.

- `BackgroundTask`: one engine call (a QObject worker moved to a QThread). The worker turns
  every outcome into exactly one final signal — `finished(result)`, `failed(message,
  detail)` or `cancelled()` — so the window never sees an exception; `message` is written
  for the user, `detail` is the engine's own words (for a "Show Details" box). The task owns
  the thread and makes sure it is stopped and joined before anything is dropped (a QThread
  destroyed while running aborts the process).
- `FunctionThread`: any other one-off call (loading the engine, writing a recovery copy),
  reporting `done(result)` or `error(message)` once the thread has ended.
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
    """A short message for the user naming what went wrong in task `title` ("Denoise");
    the engine's own words go to `failure_detail`."""
    if isinstance(error, api.ModelUnavailable):
        return (
            f"No usable {title.lower()} model is installed, so {title} cannot run. "
            f"The details name the missing or damaged file.\n\n{_UNCHANGED}"
        )
    if isinstance(error, (api.OutOfMemory, MemoryError)):
        return (
            f"{title} ran out of memory, even working on small tiles. Close other programs, "
            f"choose a smaller tile size in Preferences, or try a smaller image.\n\n{_UNCHANGED}"
        )
    if isinstance(error, api.DeviceUnavailable):
        return (
            f"{title} could not use the selected device. Choose another one in "
            f"Preferences.\n\n{_UNCHANGED}"
        )
    if isinstance(error, api.UnsupportedImage):
        return f"{title} cannot process this image.\n\n{_UNCHANGED}"
    if isinstance(error, api.InvalidRequest):
        return f"{title} was given settings it cannot use.\n\n{_UNCHANGED}"
    if isinstance(error, api.EngineError):
        return f"{title} failed.\n\n{_UNCHANGED}"
    return f"{title} stopped because of an internal error.\n\n{_UNCHANGED}"


def failure_detail(error: BaseException) -> str:
    """The error's own message, e.g. "OutOfMemory: denoise: the device ran out of memory"."""
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class TaskWorker(QObject):
    """Runs one job when `run` is called (in the worker thread) and reports how it ended."""

    progress = Signal(float)  # 0..1
    finished = Signal(object)  # the result ndarray
    failed = Signal(str, str)  # a message for the user, the engine's detail
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
            self.failed.emit(describe_failure(self.title, error), failure_detail(error))
            return
        except Exception as error:
            # The thread boundary: an engine bug must reach the user as a message (and the
            # log as a traceback), not end the thread silently with the window still waiting.
            log.exception("%s failed", self.title)
            self.failed.emit(describe_failure(self.title, error), failure_detail(error))
            return
        if self.token.cancelled:
            # The user asked to stop; applying a result they no longer expect would surprise.
            self.cancelled.emit()
        elif not isinstance(result, np.ndarray):
            error = TypeError(f"the result is a {type(result).__name__}, not an image")
            self.failed.emit(describe_failure(self.title, error), failure_detail(error))
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


class FunctionThread(QThread):
    """Runs `function()` once on its own thread.

    `done(result)` or `error(message)` is emitted in the GUI thread after the thread has
    ended (it is relayed from QThread.finished), so a receiver never waits on a live thread.
    """

    done = Signal(object)
    error = Signal(str)

    def __init__(self, name: str, function: Callable[[], object]) -> None:
        super().__init__()
        self.setObjectName(name)
        self._function = function
        self._result: object = None
        self._error: BaseException | None = None
        # self lives in the GUI thread, so this connection is queued to it.
        self.finished.connect(self._report)

    def run(self) -> None:
        try:
            self._result = self._function()
        except Exception as error:
            # The thread boundary: whatever went wrong is reported, never lost with the thread.
            log.exception("%s failed", self.objectName())
            self._error = error

    def _report(self) -> None:
        self.wait()  # `finished` is sent just before the thread really stops
        if self._error is not None:
            self.error.emit(failure_detail(self._error))
        else:
            self.done.emit(self._result)
