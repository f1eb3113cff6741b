"""Crash recovery: autosaved copies of a window's document, and offering them after a crash.

- Autosave: every `AUTOSAVE_MS`, a modified document is copied to a recovery file in the
  recovery folder, as a quiet job of the runner (it never makes the editor busy) from
  `Document.snapshot()` (layers are immutable and shared, only the mask is copied). A save,
  a close or opening another photo discards the copy.
- At the next start, copies left by a crash are offered back (`offer`): Restore, Keep for
  later, or Discard; Enter restores and Escape keeps, so no key deletes work. A copy too
  large for the memory available is not opened (opening it would end the editor at every
  start): it is offered for deletion with one line saying why.
- Copies of other windows of this process are told apart, and so are those of another
  editor process still running: the file name holds the owner's process id, and a copy is
  offered only when that process is gone (`process_alive`; on Windows, where there is no
  harmless probe, every copy not of this process is offered: best effort).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from editor import dialogs
from editor.doc import (
    Document,
    discard,
    engine_meta_factory,
    find_recoveries,
    load_ora,
    recovery_path,
    write_recovery,
)
from editor.doc.recovery import RecoveryInfo, inspect_recovery
from editor.jobs import STATUS_MS, Feedback, Job, JobRunner
from editor.worker import ProgressCallback, failure_detail
from engine import api

AUTOSAVE_MS = 3 * 60 * 1000
_names = itertools.count(1)
# Recovery files of the windows of this process: not leftovers of a crash.
_in_use: set[Path] = set()
_OWNER = re.compile(r"-(\d+)-\d+\.recovery\.ora$")  # "<name>-<pid>-<n>.recovery.ora"


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (POSIX: signal 0 probes without sending anything). On
    Windows os.kill would terminate it, so there the answer is False (best effort)."""
    if pid <= 0 or sys.platform == "win32":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    except OSError:
        return False
    return True


def owner_pid(path: Path) -> int | None:
    """The process id in a recovery file's name (None for a name without one)."""
    found = _OWNER.search(path.name)
    return int(found.group(1)) if found else None


def default_recovery_dir() -> Path:
    location = QStandardPaths.StandardLocation.AppDataLocation
    return Path(QStandardPaths.writableLocation(location)) / "recovery"


def _gigabytes(size: int) -> str:
    return f"{size / 1e9:.1f} GB"


def too_large(info: RecoveryInfo, available: int | None) -> str | None:
    """One plain line saying why the copy cannot be opened here, or None when it fits."""
    if available is None or info.memory_needed <= available:
        return None
    return (
        f"The recovery copy of “{info.name}” ({info.width} × {info.height} px, "
        f"{info.layers} layers) needs about {_gigabytes(info.memory_needed)} of memory to "
        f"open, and only {_gigabytes(available)} is free."
    )


class RecoveryHost(Feedback, Protocol):
    """What recovery needs from the window."""

    @property
    def document(self) -> Document | None: ...
    @property
    def is_modified(self) -> bool: ...
    def set_document(self, document: Document, *, unsaved: bool = False) -> None: ...
    def confirm_discard(self) -> bool: ...


class RecoveryController(QObject):
    def __init__(
        self, host: RecoveryHost, runner: JobRunner, recovery_dir: Path | None = None,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.host, self.runner = host, runner
        self.recovery_dir = recovery_dir or default_recovery_dir()
        self.recovery_file: Path | None = None  # this window's copy (None until written)
        self._revision: int | None = None  # the document revision it holds
        self._job: Job | None = None  # the autosave running, if any
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    # --- this window's copy --------------------------------------------------------------

    def autosave(self) -> bool:
        """Start writing a recovery copy if the document changed since the last one."""
        document = self.host.document
        if document is None or not self.host.is_modified or self._revision == document.revision:
            return False
        if self.recovery_file is None:
            # The process id and a counter keep the copies of several windows apart.
            name = f"{document.name}-{os.getpid()}-{next(_names)}"
            self._set_file(recovery_path(self.recovery_dir, name))
        snapshot, target, revision = document.snapshot(), self.recovery_file, document.revision
        assert target is not None

        def work(_progress: ProgressCallback, _cancel: api.CancelToken) -> None:
            write_recovery(snapshot, target)

        def done(_: object) -> None:
            self._job, self._revision = None, revision
            self.host.show_status("Recovery copy saved.", STATUS_MS)

        def failed(error: BaseException) -> None:
            self._job = None
            self.host.show_status(
                f"Could not write the recovery copy: {failure_detail(error)}", STATUS_MS
            )

        job = Job("Autosave", work, done, failed, cancellable=False, quiet=True)
        if not self.runner.start(job):
            return False  # something else runs: the next tick tries again
        self._job = job
        return True

    def wait_for_autosave(self) -> None:
        if self._job is not None and self.runner.current is self._job:
            self.runner.wait()

    def discard(self) -> None:
        """Delete this window's recovery copy (saved, closed, or replaced by another)."""
        self.wait_for_autosave()
        if self.recovery_file is not None:
            discard(self.recovery_file)
        self._set_file(None)
        self._revision = None

    def stop(self) -> None:
        """The window closes on purpose: nothing to recover."""
        self.autosave_timer.stop()
        self.discard()

    def _set_file(self, path: Path | None) -> None:
        if self.recovery_file is not None:
            _in_use.discard(self.recovery_file)
        self.recovery_file = path
        if path is not None:
            _in_use.add(path)

    # --- copies left by a crash ----------------------------------------------------------

    def leftovers(self) -> list[Path]:
        """Recovery copies no window of this process, nor another editor still running, is
        using: left behind by a crash."""
        me = os.getpid()

        def left_behind(path: Path) -> bool:
            if path in _in_use:
                return False
            pid = owner_pid(path)
            return pid is None or pid == me or not process_alive(pid)

        return [p for p in find_recoveries(self.recovery_dir) if left_behind(p)]

    def offer(self) -> bool:
        """Offer each leftover copy, newest first, until one is restored. True if one was."""
        for path in self.leftovers():
            document = self._read(path)
            if document is None:
                continue
            try:
                stamp = path.stat().st_mtime
            except OSError:  # removed meanwhile (another editor restored it): nothing to offer
                continue
            when = datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
            question = (
                f"The editor closed without saving “{document.name}”. A copy from {when} "
                "was kept. Restore it?"
            )
            answer = dialogs.ask_recovery(self.host.dialog_parent, question)
            if answer is dialogs.Recovery.DISCARD:
                discard(path)
            if answer is not dialogs.Recovery.RESTORE:
                continue
            if not self.host.confirm_discard():
                return False  # the copy stays, to be offered again next time
            self.discard()
            self.host.set_document(document, unsaved=True)
            # The restored copy becomes this window's own (kept until saved or closed).
            self._set_file(path)
            self._revision = document.revision
            self.host.show_status(f"Restored “{document.name}” from its recovery copy.", STATUS_MS)
            return True
        return False

    def _read(self, path: Path) -> Document | None:
        """The copy's document; None when it is not opened (too large, or unreadable)."""
        parent = self.host.dialog_parent
        try:
            reason = too_large(inspect_recovery(path), api.available_memory())
            if reason is None:
                return load_ora(path, meta_factory=engine_meta_factory, restore_identity=True)
        except MemoryError:
            # The estimate fell short: the copy is fine, this computer is not big enough.
            reason = f"“{path.name}” needs more memory than this computer has free."
        except Exception as error:  # DocumentError, or anything: never stops start-up
            dialogs.show_error(
                parent, "Cannot restore", "A recovery copy could not be read; it is deleted.",
                str(error),
            )  # fmt: skip
            discard(path)
            return None
        if dialogs.ask_discard_recovery(parent, reason):
            discard(path)
        return None
