"""Files: open (dialog, drop, command line, recent files, samples), save and save-as of the
layered document (OpenRaster), export of the flat image, and the unsaved-changes prompt.
Crash-recovery copies are `editor.recovery`'s.

- Open never touches the current document until the new one has been read whole; a file
  that cannot be read is a message box naming it and saying why in one plain line.
- Export writes exactly what the canvas shows (the composite) with the original's alpha
  and metadata, so EXIF, the ICC profile and 16-bit depth survive.
- Open, Save and Export are jobs of the runner: read or written on a worker thread with a
  busy indicator, the window usable meanwhile, any other job refused until they end. Save
  writes from `Document.snapshot()`, export composites from it, so edits made meanwhile
  change neither. With `background` False (tests), and for the save the unsaved-changes
  prompt asks for, the same job runs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QSettings

from editor import dialogs
from editor.doc import Document, engine_meta_factory, load_ora, save_ora
from editor.jobs import STATUS_MS, Feedback, Job, JobRunner, start_job
from editor.settings import recent_files, remember_file
from editor.worker import ProgressCallback, Work, failure_detail, plain_reason
from engine import api

ORA = ".ora"
IMAGE_SUFFIXES = "*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp *.gif"
OPEN_FILTER = (
    f"Photos and documents ({IMAGE_SUFFIXES} *.ora);;OpenRaster documents (*.ora);;"
    f"Photos ({IMAGE_SUFFIXES});;All files (*)"
)
SAVE_FILTER = "OpenRaster document (*.ora)"
EXPORT_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)"
EXPORT_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def read_document(path: Path) -> Document:
    """A new document from an image file or an OpenRaster document (first removing what
    killed saves left in its folder: see `save_ora`)."""
    api.remove_stale_temps(path.parent)
    if path.suffix.lower() == ORA:
        return load_ora(path, meta_factory=engine_meta_factory)
    loaded = api.read_image(path)
    return Document(loaded.pixels, alpha=loaded.alpha, meta=loaded.meta, path=path)


def _suffix_of(name_filter: str) -> str:
    """The suffix a file-dialog filter names: ".png" for "PNG (*.png)"."""
    start = name_filter.find("*.")
    return "" if start < 0 else "." + name_filter[start + 2 :].split()[0].rstrip(")")


def _quietly(function: Callable[[], object]) -> Work:
    """A job's work from a call that reports no progress and cannot stop half-way."""

    def work(_progress: ProgressCallback, _cancel: api.CancelToken) -> object:
        return function()

    return work


class FileHost(Feedback, Protocol):
    """What files need from the window."""

    @property
    def document(self) -> Document | None: ...
    @property
    def is_modified(self) -> bool: ...
    def set_document(self, document: Document, *, unsaved: bool = False) -> None: ...
    def mark_clean(self) -> None: ...


class RecoveryCopy(Protocol):
    """The window's crash-recovery copy (`editor.recovery.RecoveryController`)."""

    def discard(self) -> None: ...


class FileController(QObject):
    # Open/save/export on a thread; tests turn it off to get results at once.
    background = True

    def __init__(
        self, host: FileHost, runner: JobRunner, settings: QSettings, recovery: RecoveryCopy,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.host, self.runner, self.settings, self.recovery = host, runner, settings, recovery
        self.last_dir = ""
        self._job: Job | None = None  # the last file job started

    def _status(self, text: str) -> None:
        self.host.show_status(text, STATUS_MS)

    def _start(self, job: Job, *, wait: bool = False) -> bool:
        """Start `job`; run at once with `wait` (or `background` off), and then True only
        if it succeeded."""
        if self.runner.busy:  # refused: the job running stays the one `wait_for_job` awaits
            self._status(self.runner.refusal())
            return False
        self._job = job
        return start_job(self.runner, job, now=wait or not self.background)

    def _error(self, title: str, text: str, error: BaseException) -> None:
        dialogs.show_error(self.host.dialog_parent, title, text, failure_detail(error))

    def wait_for_job(self) -> None:
        """Wait for the file job in progress and apply its outcome (closing; tests)."""
        while self._job is not None and self.runner.running is self._job:
            self.runner.wait()

    # --- opening -------------------------------------------------------------------------

    def open_dialog(self) -> None:
        path = dialogs.ask_open_path(self.host.dialog_parent, self.last_dir, OPEN_FILTER)
        if path is not None:
            self.open_path(path)

    def open_path(self, path: Path | str) -> bool:
        """Open `path` in this window (after the unsaved-changes prompt). On any failure the
        current document stays as it was."""
        path = Path(path)
        if self.runner.busy:
            self._status(self.runner.refusal())
            return False
        if not self.confirm_discard():
            return False
        had_document = self.host.document is not None

        def failed(error: BaseException) -> None:
            kept = "\n\nThe photo you had open is unchanged." if had_document else ""
            text = f"“{path.name}” could not be opened.\n{plain_reason(error)}{kept}"
            self._error("Cannot open file", text, error)

        work = _quietly(lambda: read_document(path))
        job = Job("Opening", work, lambda d: self._opened(path, d), failed, cancellable=False,
                  reports_progress=False)  # fmt: skip
        return self._start(job)

    def _opened(self, path: Path, document: Document) -> None:
        self.recovery.discard()
        self.host.set_document(document)
        self.last_dir = str(path.parent)
        remember_file(path, self.settings)
        self._status(f"Opened {path}")

    def recent_paths(self) -> list[Path]:
        return recent_files(self.settings)

    # --- saving --------------------------------------------------------------------------

    def save(self, *, wait: bool = False) -> bool:
        """Save the layered document where it came from if that is an .ora, else ask.
        True when the save started (or, with `wait`, succeeded)."""
        document = self.host.document
        if document is None or not self._can_start():
            return False
        if document.path is not None and document.path.suffix.lower() == ORA:
            return self._save_to(document, document.path, wait=wait)
        return self.save_as(wait=wait)

    def save_as(self, *, wait: bool = False) -> bool:
        document = self.host.document
        if document is None or not self._can_start():
            return False
        folder = document.path.parent if document.path else Path(self.last_dir or ".")
        suggested = str(folder / f"{document.name}{ORA}")
        parent = self.host.dialog_parent
        path, _ = dialogs.ask_save_path(parent, "Save As", suggested, SAVE_FILTER)
        if path is None:
            return False
        if path.suffix.lower() != ORA:
            path = path.with_suffix(ORA)  # "scan" or "scan.png" → "scan.ora"
        return self._save_to(document, path, wait=wait)

    def _can_start(self) -> bool:
        if self.runner.busy:
            self._status(self.runner.refusal())
            return False
        return True

    def _save_to(self, document: Document, path: Path, *, wait: bool = False) -> bool:
        snapshot, revision = document.snapshot(), document.revision

        def failed(error: BaseException) -> None:
            text = (
                f"“{path.name}” could not be saved.\n{plain_reason(error)}\n\n"
                "Your work is still open: try another folder or name."
            )
            self._error("Cannot save", text, error)

        def done(_: object) -> None:
            self._saved(document, path, revision)

        work = _quietly(lambda: save_ora(snapshot, path))
        job = Job("Saving", work, done, failed, cancellable=False, reports_progress=False)
        return self._start(job, wait=wait)

    def _saved(self, document: Document, path: Path, revision: int) -> None:
        if document is not self.host.document:
            return  # safeguard: opening another photo is refused while saving
        if document.revision == revision:
            document.mark_saved(path)
            self.host.mark_clean()
            self.recovery.discard()
        else:  # edited while saving: the file holds the earlier state
            document.path, document.name = path, path.stem
        self.last_dir = str(path.parent)
        remember_file(path, self.settings)
        self._status(f"Saved {path}")

    def confirm_discard(self) -> bool:
        """True when the document may be closed or replaced (saved first if asked)."""
        self.wait_for_job()  # a save in progress decides whether there is anything unsaved
        document = self.host.document
        if document is None or not self.host.is_modified:
            return True
        answer = dialogs.ask_unsaved(self.host.dialog_parent, document.name)
        if answer is dialogs.Unsaved.SAVE:
            return self.save(wait=True)
        return answer is dialogs.Unsaved.DISCARD

    # --- exporting -----------------------------------------------------------------------

    def export(self) -> bool:
        """Write the flat image (what the canvas shows) as PNG, JPEG or TIFF."""
        document = self.host.document
        if document is None or not self._can_start():
            return False
        path = self._export_path(document)
        if path is None:
            return False
        quality = 95
        if path.suffix.lower() in (".jpg", ".jpeg"):
            asked = dialogs.ask_quality(self.host.dialog_parent, quality)
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

        def failed(error: BaseException) -> None:
            text = f"“{path.name}” could not be written.\n{plain_reason(error)}"
            self._error("Cannot export", text, error)

        job = Job("Exporting", _quietly(write), done, failed, cancellable=False,
                  reports_progress=False)  # fmt: skip
        return self._start(job)

    def _export_path(self, document: Document) -> Path | None:
        """Where to export (asked), with a suffix export knows; None: cancelled or refused."""
        folder = document.path.parent if document.path else Path(self.last_dir or ".")
        suggested = str(folder / f"{document.name}-restored.png")
        parent = self.host.dialog_parent
        path, chosen = dialogs.ask_save_path(parent, "Export", suggested, EXPORT_FILTER)
        if path is None:
            return None
        if not path.suffix:
            path = path.with_suffix(_suffix_of(chosen) or ".png")
        if path.suffix.lower() not in EXPORT_SUFFIXES:
            dialogs.show_error(
                parent, "Cannot export",
                f"“{path.name}”: export as .png, .jpg or .tif (“{path.suffix}” is not one).",
            )  # fmt: skip
            return None
        return path
