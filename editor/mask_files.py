"""Mask files: Mask → Export Mask… and Import Mask….

The mask is exported as an 8-bit grey PNG of the photo's size (white = hole, the brush's
soft edge as grey levels) and imported from any image the engine reads, with the engine's
rule for mask files (see `editor.doc.mask_io`). Importing replaces the whole mask in one
undo step; a file of another size is refused with one line naming both sizes, the mask
unchanged. Both are file jobs of the runner (read or written on a worker thread, other jobs
refused meanwhile), and the folder last used for a mask is remembered across sessions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QSettings

from editor import dialogs
from editor.doc import Document
from editor.doc.holes import has_holes
from editor.doc.mask_io import MaskSizeError, read_mask_file, write_mask_file
from editor.files import IMAGE_SUFFIXES
from editor.jobs import STATUS_MS, Feedback, Job, JobRunner, start_job
from editor.settings import mask_folder, remember_mask_folder
from editor.worker import ProgressCallback, failure_detail, plain_reason
from engine import api

PNG = ".png"
EXPORT_FILTER = "PNG mask, white = hole (*.png)"
IMPORT_FILTER = f"Images ({IMAGE_SUFFIXES});;All files (*)"


class MaskFileHost(Feedback, Protocol):
    """What mask files need from the window."""

    @property
    def document(self) -> Document | None: ...


class MaskEdits(Protocol):
    """Where an imported mask goes: the undoable edits (`editor.editing.EditController`)."""

    def replace_mask(self, mask: np.ndarray, text: str) -> None: ...


class MaskFileController(QObject):
    # On a thread; tests turn it off to get results at once (as for `FileController`).
    background = True

    def __init__(
        self, host: MaskFileHost, runner: JobRunner, edits: MaskEdits, settings: QSettings,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.host, self.runner, self.edits, self.settings = host, runner, edits, settings

    def _folder(self, document: Document) -> Path:
        """Where the dialogs start: the last mask folder, else the photo's."""
        remembered = mask_folder(self.settings)
        if remembered:
            return Path(remembered)
        return document.path.parent if document.path is not None else Path(".")

    def _ready(self) -> Document | None:
        """The document, when a mask file job may start now."""
        document = self.host.document
        if document is not None and self.runner.busy:
            self.host.show_status(self.runner.refusal(), STATUS_MS)
            return None
        return document

    def _error(self, title: str, text: str, error: BaseException) -> None:
        dialogs.show_error(self.host.dialog_parent, title, text, failure_detail(error))

    # --- export --------------------------------------------------------------------------

    def export_dialog(self) -> bool:
        """Ask where, then export; a name without ".png" gets it."""
        document = self._ready()
        if document is None:
            return False
        suggested = str(self._folder(document) / f"{document.name}-mask{PNG}")
        parent = self.host.dialog_parent
        path, _ = dialogs.ask_save_path(parent, "Export Mask", suggested, EXPORT_FILTER)
        if path is None:
            return False
        if path.suffix.lower() != PNG:
            path = path.with_name(path.name + PNG)  # "mask" → "mask.png", "a.v2" → "a.v2.png"
        return self.export_to(path)

    def export_to(self, path: Path) -> bool:
        """Write the mask as it is now to `path` (a PNG). True when the export started (or,
        run at once, succeeded)."""
        document = self._ready()
        if document is None:
            return False
        mask = document.mask.copy()  # strokes painted while it is written are not in it

        def work(_progress: ProgressCallback, _cancel: api.CancelToken) -> None:
            write_mask_file(path, mask)

        def done(_: object) -> None:
            remember_mask_folder(path, self.settings)
            self.host.show_status(f"Exported the mask to {path}", STATUS_MS)

        def failed(error: BaseException) -> None:
            text = f"“{path.name}” could not be written.\n{plain_reason(error)}"
            self._error("Cannot export the mask", text, error)

        job = Job("Exporting the mask", work, done, failed, cancellable=False,
                  reports_progress=False)  # fmt: skip
        return start_job(self.runner, job, now=not self.background)

    # --- import --------------------------------------------------------------------------

    def import_dialog(self) -> bool:
        document = self._ready()
        if document is None:
            return False
        parent, folder = self.host.dialog_parent, str(self._folder(document))
        path = dialogs.ask_open_path(parent, folder, IMPORT_FILTER, "Import Mask")
        return path is not None and self.import_path(path)

    def import_path(self, path: Path) -> bool:
        """Replace the mask with the one in the image file at `path`, as one undo step."""
        document = self._ready()
        if document is None:
            return False
        path, shape = Path(path), (document.height, document.width)

        def work(_progress: ProgressCallback, _cancel: api.CancelToken) -> np.ndarray:
            return read_mask_file(path, shape)

        def done(mask: np.ndarray) -> None:
            remember_mask_folder(path, self.settings)
            if document is not self.host.document:
                return  # safeguard: opening another photo is refused while this runs
            self.edits.replace_mask(mask, "Import mask")
            empty = "" if has_holes(mask) else " (it marks nothing: no white pixels)"
            self.host.show_status(f"Imported the mask from {path}{empty}", STATUS_MS)

        job = Job("Importing a mask", work, done, lambda e: self._import_failed(path, e),
                  cancellable=False, reports_progress=False)  # fmt: skip
        return start_job(self.runner, job, now=not self.background)

    def _import_failed(self, path: Path, error: BaseException) -> None:
        if isinstance(error, MaskSizeError):
            found, expected = error.found, error.expected
            text = (
                f"“{path.name}” is {found[1]} × {found[0]} pixels but the photo is "
                f"{expected[1]} × {expected[0]}: a mask must be the photo's size."
            )
        else:
            text = f"“{path.name}” could not be read as a mask.\n{plain_reason(error)}"
        self._error("Cannot import the mask", text, error)
