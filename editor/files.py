"""Files: open (dialog, drop, command line, recent files, samples), save and save-as of the
layered document (OpenRaster), export of the flat image, the unsaved-changes prompt, and
crash recovery.

- Open never touches the current document until the new one has been read whole; a file
  that cannot be read is a message box naming it.
- Export writes exactly what the canvas shows (the composite) with the original's alpha
  and metadata, so EXIF, the ICC profile and 16-bit depth survive.
- Autosave: every `AUTOSAVE_MS`, a modified document is copied to a recovery file in the
  recovery folder. The copy is written on a `FunctionThread` from `Document.snapshot()`
  (layers are immutable and shared, only the mask is copied), so the window does not wait
  for the PNG encoding. A save, a close or opening another photo discards the copy; at the
  next start, copies left by a crash are offered back (`FileController.offer_recovery`).
  Copies of other windows of this process are told apart, and so are those of another
  editor process still running: the file name holds the owner's process id, and a copy is
  offered only when that process is gone (`process_alive`; on Windows, where there is no
  harmless probe, every copy not of this process is offered: best effort).
- Open, Save and Export read or write on a `FunctionThread` too (`_start_job`): the status
  bar shows a busy bar meanwhile and the window stays usable; a second file job, or a
  restoration, is refused until it ends. Save writes from `Document.snapshot()`, export
  composites from it, so edits made meanwhile change neither. With `background` False (tests,
  and the save asked for by the unsaved-changes prompt) the same job runs at once.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QStandardPaths, Qt, QTimer
from PySide6.QtWidgets import QApplication, QProgressBar

from editor import dialogs
from editor.doc import (
    Document,
    DocumentError,
    discard,
    engine_meta_factory,
    find_recoveries,
    load_ora,
    recovery_path,
    save_ora,
    write_recovery,
)
from editor.settings import recent_files, remember_file
from editor.worker import FunctionThread, failure_detail
from engine import api

if TYPE_CHECKING:
    from editor.main_window import MainWindow

AUTOSAVE_MS = 3 * 60 * 1000
STATUS_MS = 8000
ORA = ".ora"
IMAGE_SUFFIXES = "*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp"
OPEN_FILTER = (
    f"Photos and documents ({IMAGE_SUFFIXES} *.ora);;OpenRaster documents (*.ora);;"
    f"Photos ({IMAGE_SUFFIXES});;All files (*)"
)
SAVE_FILTER = "OpenRaster document (*.ora)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)"
EXPORT_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
READ_ERRORS = (api.EngineError, DocumentError, OSError, ValueError, MemoryError)
_recovery_names = itertools.count(1)
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


def read_document(path: Path) -> Document:
    """A new document from an image file or an OpenRaster document."""
    if path.suffix.lower() == ORA:
        return load_ora(path, meta_factory=engine_meta_factory)
    loaded = api.read_image(path)
    return Document(loaded.pixels, alpha=loaded.alpha, meta=loaded.meta, path=path)


def _suffix_of(name_filter: str) -> str:
    """The suffix a file-dialog filter names: ".png" for "PNG (*.png)"."""
    start = name_filter.find("*.")
    return "" if start < 0 else "." + name_filter[start + 2 :].split()[0].rstrip(")")


class WaitCursor:
    """A busy cursor while a file is read or written on the GUI thread."""

    def __enter__(self) -> None:
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *_: object) -> None:
        QApplication.restoreOverrideCursor()


class FileController(QObject):
    # Open/save/export on a thread; tests turn it off to get results at once.
    background = True

    def __init__(self, window: MainWindow, recovery_dir: Path | None) -> None:
        super().__init__(window)
        self.window = window
        self._job: FunctionThread | None = None
        self._job_title = ""
        self.job_bar = QProgressBar()
        self.job_bar.setRange(0, 0)  # no progress reports: a busy indicator
        self.job_bar.setMaximumWidth(120)
        window.statusBar().addPermanentWidget(self.job_bar)
        self.job_bar.hide()
        self.recovery_dir = recovery_dir or default_recovery_dir()
        self.recovery_file: Path | None = None  # this window's copy (None until written)
        self._recovery_revision: int | None = None  # the document revision it holds
        self._autosave: FunctionThread | None = None
        self.last_dir = ""
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, STATUS_MS)

    # --- file jobs (open, save, export) off the GUI thread -------------------------------

    @property
    def busy(self) -> bool:
        return self._job is not None

    @property
    def running_title(self) -> str:
        return self._job_title

    def _can_start(self) -> bool:
        if self._job is None:
            return True
        self._status(f"Wait for {self._job_title.lower()} to finish.")
        return False

    def _start_job(
        self,
        title: str,
        function: Callable[[], object],
        done: Callable[[object], None],
        failed: Callable[[str], None],
        *,
        wait: bool = False,
    ) -> bool:
        """Run `function` on a thread, then `done(result)` or `failed(detail)` in the GUI
        thread. With `wait` (or `background` off) it runs at once, under a wait cursor."""
        if not self._can_start():
            return False
        if wait or not self.background:
            try:
                with WaitCursor():
                    result = function()
            except Exception as error:
                failed(failure_detail(error))
                return False
            done(result)
            return True
        thread = FunctionThread(title, function)
        thread.done.connect(lambda result: self._job_ended(thread, done, result))
        thread.error.connect(lambda detail: self._job_ended(thread, failed, detail))
        self._job, self._job_title = thread, title
        self.job_bar.show()
        self.window.statusBar().showMessage(f"{title}…")
        self.window.refresh_actions()
        thread.start()
        return True

    def _job_ended(
        self, thread: FunctionThread, then: Callable[[object], None], arg: object
    ) -> None:
        if thread is not self._job:
            return
        self._job, self._job_title = None, ""
        self.job_bar.hide()
        self.window.statusBar().clearMessage()
        self.window.refresh_actions()
        then(arg)

    def wait_for_job(self) -> None:
        """Wait for the file job in progress and apply its outcome (closing; tests)."""
        thread = self._job
        if thread is not None:
            thread.wait()
            # FunctionThread reports through a queued signal: deliver it now.
            QCoreApplication.sendPostedEvents(thread)
            if self._job is thread:  # not delivered (should not happen): drop it quietly
                self._job, self._job_title = None, ""
                self.job_bar.hide()
                self.window.refresh_actions()

    # --- opening -------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = dialogs.ask_open_path(self.window, self.last_dir, OPEN_FILTER)
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path | str) -> bool:
        """Open `path` in this window (after the unsaved-changes prompt). On any failure the
        current document stays as it was."""
        path = Path(path)
        window = self.window
        if window.tasks.busy:
            self._status(f"Wait for {window.tasks.running_title} to finish, or cancel it.")
            return False
        if not self._can_start() or not self.confirm_discard():
            return False

        def failed(detail: str) -> None:
            kept = "" if window.document is None else "\n\nThe photo you had open is unchanged."
            dialogs.show_error(
                window, "Cannot open file", f"“{path.name}” could not be opened.{kept}", detail
            )

        return self._start_job(
            "Opening", lambda: read_document(path), lambda d: self._opened(path, d), failed
        )

    def _opened(self, path: Path, document: Document) -> None:
        window = self.window
        if window.tasks.busy:  # started while the file was read: keep the current photo
            self._status(f"“{path.name}” was not opened: {window.tasks.running_title} runs.")
            return
        self.discard_recovery()
        window.set_document(document)
        self.last_dir = str(path.parent)
        remember_file(path, window.settings)
        self._status(f"Opened {path}")

    # --- saving --------------------------------------------------------------------------

    def save(self, *, wait: bool = False) -> bool:
        """Save the layered document where it came from if that is an .ora, else ask.
        True when the save started (or, with `wait`, succeeded)."""
        document = self.window.document
        if document is None or not self._can_start():
            return False
        if document.path is not None and document.path.suffix.lower() == ORA:
            return self._save_to(document.path, wait=wait)
        return self.save_as(wait=wait)

    def save_as(self, *, wait: bool = False) -> bool:
        document = self.window.document
        if document is None or not self._can_start():
            return False
        folder = document.path.parent if document.path else Path(self.last_dir or ".")
        suggested = str(folder / f"{document.name}{ORA}")
        path, _ = dialogs.ask_save_path(self.window, "Save As", suggested, SAVE_FILTER)
        if path is None:
            return False
        if path.suffix.lower() != ORA:
            path = path.with_suffix(ORA)  # "scan" or "scan.png" → "scan.ora"
        return self._save_to(path, wait=wait)

    def _save_to(self, path: Path, *, wait: bool = False) -> bool:
        document = self.window.document
        assert document is not None
        snapshot, revision = document.snapshot(), document.revision

        def failed(detail: str) -> None:
            dialogs.show_error(
                self.window, "Cannot save", f"“{path.name}” could not be saved. Your work is "
                "still open: try another folder or name.", detail,
            )  # fmt: skip

        return self._start_job(
            "Saving", lambda: save_ora(snapshot, path),
            lambda _: self._saved(document, path, revision), failed, wait=wait,
        )  # fmt: skip

    def _saved(self, document: Document, path: Path, revision: int) -> None:
        if document is not self.window.document:
            return  # safeguard: opening another photo is refused while saving
        if document.revision == revision:
            document.mark_saved(path)
            self.window.mark_clean()
            self.discard_recovery()
        else:  # edited while saving: the file holds the earlier state
            document.path, document.name = path, path.stem
        self.last_dir = str(path.parent)
        remember_file(path, self.window.settings)
        self._status(f"Saved {path}")

    def export(self) -> bool:
        """Write the flat image (what the canvas shows) as PNG, JPEG or TIFF."""
        document = self.window.document
        if document is None or not self._can_start():
            return False
        folder = document.path.parent if document.path else Path(self.last_dir or ".")
        suggested = str(folder / f"{document.name}-restored.png")
        path, chosen = dialogs.ask_save_path(self.window, "Export", suggested, EXPORT_FILTER)
        if path is None:
            return False
        if not path.suffix:
            path = path.with_suffix(_suffix_of(chosen) or ".png")
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            dialogs.show_error(
                self.window, "Cannot export",
                f"“{path.name}”: export as .png, .jpg or .tif (“{path.suffix}” is not one).",
            )  # fmt: skip
            return False
        quality = 95
        if path.suffix.lower() in (".jpg", ".jpeg"):
            asked = dialogs.ask_quality(self.window, quality)
            if asked is None:
                return False
            quality = asked
        meta = document.meta if isinstance(document.meta, api.ImageMeta) else None
        snapshot = document.snapshot()  # immutable layers: composited on the thread

        def write() -> None:
            pixels = snapshot.composite()
            api.write_image(path, pixels, alpha=snapshot.alpha, meta=meta, quality=quality)

        def done(_: object) -> None:
            self.last_dir = str(path.parent)
            self._status(f"Exported {path}")

        def failed(detail: str) -> None:
            dialogs.show_error(
                self.window, "Cannot export", f"“{path.name}” could not be written.", detail
            )

        return self._start_job("Exporting", write, done, failed)

    def confirm_discard(self) -> bool:
        """True when the document may be closed or replaced (saved first if asked)."""
        self.wait_for_job()  # a save in progress decides whether there is anything unsaved
        document = self.window.document
        if document is None or not self.window.is_modified:
            return True
        answer = dialogs.ask_unsaved(self.window, document.name)
        if answer is dialogs.Unsaved.SAVE:
            return self.save(wait=True)
        return answer is dialogs.Unsaved.DISCARD

    def recent_paths(self) -> list[Path]:
        return recent_files(self.window.settings)

    # --- crash recovery ------------------------------------------------------------------

    def autosave(self) -> bool:
        """Start writing a recovery copy if the document changed since the last one."""
        window, document = self.window, self.window.document
        if document is None or not window.is_modified or self._autosave is not None:
            return False
        if self._recovery_revision == document.revision:
            return False
        if self.recovery_file is None:
            # The process id and a counter keep the copies of several windows apart.
            name = f"{document.name}-{os.getpid()}-{next(_recovery_names)}"
            self._set_recovery_file(recovery_path(self.recovery_dir, name))
        snapshot, target, revision = document.snapshot(), self.recovery_file, document.revision
        thread = FunctionThread("Autosave", lambda: write_recovery(snapshot, target))
        # Emitted in the GUI thread once the thread has ended (see FunctionThread).
        thread.done.connect(lambda _: self._autosaved(thread, revision))
        thread.error.connect(lambda detail: self._autosave_failed(thread, detail))
        self._autosave = thread
        thread.start()
        return True

    def _autosaved(self, thread: FunctionThread, revision: int) -> None:
        if thread is self._autosave:  # else: a copy already discarded
            self._autosave = None
            self._recovery_revision = revision
            self._status("Recovery copy saved.")

    def _autosave_failed(self, thread: FunctionThread, detail: str) -> None:
        if thread is self._autosave:
            self._autosave = None
            self._status(f"Could not write the recovery copy: {detail}")

    def _set_recovery_file(self, path: Path | None) -> None:
        if self.recovery_file is not None:
            _in_use.discard(self.recovery_file)
        self.recovery_file = path
        if path is not None:
            _in_use.add(path)

    def wait_for_autosave(self) -> None:
        thread, self._autosave = self._autosave, None
        if thread is not None:
            thread.wait()

    def discard_recovery(self) -> None:
        """Delete this window's recovery copy (saved, closed, or replaced by another)."""
        self.wait_for_autosave()
        if self.recovery_file is not None:
            discard(self.recovery_file)
        self._set_recovery_file(None)
        self._recovery_revision = None

    def leftover_recoveries(self) -> list[Path]:
        """Recovery copies no window of this process, nor another editor still running, is
        using: left behind by a crash."""
        me = os.getpid()

        def left_behind(path: Path) -> bool:
            if path in _in_use:
                return False
            pid = owner_pid(path)
            return pid is None or pid == me or not process_alive(pid)

        return [p for p in find_recoveries(self.recovery_dir) if left_behind(p)]

    def offer_recovery(self) -> bool:
        """Offer each leftover copy, newest first: Yes restores it (and stops asking), No
        deletes it. True if a document was restored."""
        window = self.window
        for path in self.leftover_recoveries():
            try:
                document = load_ora(path, meta_factory=engine_meta_factory, restore_identity=True)
                when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            except Exception as error:  # DocumentError, or anything: never stops start-up
                dialogs.show_error(
                    window, "Cannot restore", "A recovery copy could not be read; it is "
                    "deleted.", str(error),
                )  # fmt: skip
                discard(path)
                continue
            question = (
                f"The editor closed without saving “{document.name}”. A copy from {when} "
                "was kept. Restore it?\n\n(No deletes the copy.)"
            )
            if not dialogs.confirm(window, "Restore unsaved work?", question):
                discard(path)
                continue
            if not self.confirm_discard():
                return False  # the copy stays, to be offered again next time
            self.discard_recovery()
            window.set_document(document, unsaved=True)
            # The restored copy becomes this window's own (kept until saved or closed).
            self._set_recovery_file(path)
            self._recovery_revision = document.revision
            self._status(f"Restored “{document.name}” from its recovery copy.")
            return True
        return False
