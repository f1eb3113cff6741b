"""The editor's one worker type: a `WorkerThread` runs one piece of work off the GUI thread.

The work is called as ``work(progress, cancel)``: it may report `engine.api.Progress` values
through `progress` (relayed to the GUI thread by the `progress` signal) and should check the
`api.CancelToken` between steps (the engine does, between tiles). Whatever happens, the
thread catches it: `ended` is emitted once, in the GUI thread, after the thread has really
stopped, and `outcome` then holds the result or the exception. So a receiver never waits
on a live thread, and an error never ends a thread silently.

`describe_failure` / `failure_detail` / `plain_reason` word an exception for the user: a
short message, the engine's own words for "Show Details…", and one plain line.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QThread, Signal

from engine import api

log = logging.getLogger(__name__)

ProgressCallback = Callable[[api.Progress], None]
Work = Callable[[ProgressCallback, api.CancelToken], object]
"""What a worker runs, with its inputs bound: work(progress, cancel) -> result."""

_UNCHANGED = "The image was not changed."
# Workers started and not yet ended: the tests' teardown checks that none is left.
_running: weakref.WeakSet[WorkerThread] = weakref.WeakSet()


def running_workers() -> list[WorkerThread]:
    return [worker for worker in _running if worker.isRunning()]


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


_PLAIN_OS_ERRORS: tuple[tuple[type[OSError], str], ...] = (
    (FileNotFoundError, "The file does not exist (any more)."),
    (IsADirectoryError, "It is a folder, not a file."),
    (PermissionError, "You are not allowed to read or write it."),
)
_TRAILING_DETAIL = re.compile(r"\s*\([^()]*\)\s*$")  # "... (Truncated File Read)"
_ERROR_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b:?\s*")


def plain_reason(error: BaseException) -> str:
    """One plain line saying why a file could not be read or written, without Python's
    error names: "Not an OpenRaster (ZIP) file.", "The file does not exist (any more)."."""
    for kind, text in _PLAIN_OS_ERRORS:
        if isinstance(error, kind):
            return text
    if isinstance(error, (MemoryError, api.OutOfMemory)):
        return "It is too large for the memory available."
    lines = str(error).strip().splitlines()
    text = _TRAILING_DETAIL.sub("", lines[0] if lines else "")
    # What precedes the last ": " names the file ("cannot open “x.ora”", "/tmp/x.png"): the
    # message around the reason names it already.
    text = _ERROR_NAME.sub("", text.rsplit(": ", 1)[-1]).strip(" .:")
    if not text:
        return "Its content could not be understood."
    return f"{text[0].upper()}{text[1:]}."


@dataclass
class Outcome:
    """How a piece of work ended: exactly one of `result`, `error`, `cancelled`."""

    result: object = None
    error: BaseException | None = None
    cancelled: bool = False


class WorkerThread(QThread):
    """Runs `work(progress, cancel)` once; see the module docstring."""

    progress = Signal(object)  # an api.Progress, queued to the GUI thread
    ended = Signal()  # in the GUI thread, once the thread has stopped; see `outcome`

    def __init__(self, title: str, work: Work) -> None:
        super().__init__()
        self.setObjectName(title)
        self.title = title
        self.token = api.CancelToken()
        self.outcome = Outcome()
        self._work = work
        # self lives in the GUI thread, so this connection is queued to it.
        self.finished.connect(self._relay)

    def start_work(self) -> None:
        _running.add(self)
        self.start()

    def cancel(self) -> None:
        """Ask the work to stop; the engine checks between tiles, so this may take a moment."""
        self.token.cancel()

    def run(self) -> None:
        try:
            result = self._work(self.progress.emit, self.token)
        except api.Cancelled:
            self.outcome = Outcome(cancelled=True)
        except Exception as error:
            # The thread boundary: whatever went wrong is reported, never lost with the thread.
            log.exception("%s failed", self.title)
            self.outcome = Outcome(error=error)
        else:
            # Stopped on request but finished anyway: a result nobody expects any more.
            self.outcome = Outcome(cancelled=True) if self.token.cancelled else Outcome(result)

    def join(self) -> None:
        """Wait until the thread has stopped (the work has returned)."""
        self.wait()
        _running.discard(self)

    def _relay(self) -> None:
        self.join()  # `finished` is sent just before the thread really stops
        self.ended.emit()
