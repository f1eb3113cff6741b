"""The editor's main window: open, restore (denoise, colorize), save.

The window owns a `Document` and redraws whenever it changes; engine calls run on a
`BackgroundTask` so the window stays responsive and can cancel them. Every failure ends in a
message box naming the problem, and never costs the user the image they had.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtGui import QKeySequence as Keys
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from editor.display import to_qimage
from editor.document import Change, Document
from editor.image_view import ImageView
from editor.worker import BackgroundTask
from editor.worker import ProgressCallback as Progress
from engine import api

EngineCall = Callable[[np.ndarray, Progress, api.CancelToken], np.ndarray]

APP_NAME = "Rebuilding Image"
OPEN_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;All files (*)"
_PROGRESS_STEPS = 1000
_STATUS_MS = 8000


def _dropped_path(mime: QMimeData) -> Path | None:
    """The single local file being dragged, if that is what it is."""
    urls = mime.urls() if mime.hasUrls() else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    return Path(urls[0].toLocalFile())


def _suffix_from_filter(name_filter: str) -> str:
    """'.png' from 'PNG (*.png)'; '' for 'All files (*)'."""
    start = name_filter.find("*.")
    if start < 0:
        return ""
    return "." + name_filter[start + 2 :].split()[0].rstrip(")")


class MainWindow(QMainWindow):
    """One document, one view, one background task at a time."""

    # "finished", "failed" or "cancelled", after the outcome has been applied and reported.
    task_ended = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = Document()
        self._task: BackgroundTask | None = None
        self._source: np.ndarray | None = None  # the pixels the running task started from
        self._last_dir = ""
        self.view = ImageView(self)
        self.setCentralWidget(self.view)
        self._build_actions()
        self._build_menus()
        self._build_status_bar()
        self.setAcceptDrops(True)
        self.document.subscribe(self._on_document_changed)
        self.resize(1100, 800)
        self._refresh()

    # --- construction ------------------------------------------------------------------

    def _action(
        self,
        text: str,
        slot: Callable[[], object],
        shortcut: str | Keys.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(Keys(shortcut))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("&Open…", self.open_dialog, Keys.StandardKey.Open)
        # Spelled out: the platform's standard SaveAs/Quit keys are empty on some systems.
        self.save_as_action = self._action("Save &As…", self.save_as, "Ctrl+Shift+S")
        self.revert_action = self._action("&Revert to Original", self.revert)
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.denoise_action = self._action("&Denoise", self.run_denoise)
        self.colorize_action = self._action("&Colorize", self.run_colorize)
        self.fit_action = self._action("&Fit", self.view.fit, "Ctrl+0")
        self.actual_size_action = self._action("&Actual Size", self.view.actual_size, "Ctrl+1")

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_action, self.save_as_action, self.revert_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        restore_menu = bar.addMenu("&Restore")
        restore_menu.addActions([self.denoise_action, self.colorize_action])
        view_menu = bar.addMenu("&View")
        view_menu.addActions([self.fit_action, self.actual_size_action])

    def _build_status_bar(self) -> None:
        self.info_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, _PROGRESS_STEPS)
        self.progress_bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_task)
        status = self.statusBar()
        status.addPermanentWidget(self.progress_bar)
        status.addPermanentWidget(self.cancel_button)
        status.addPermanentWidget(self.info_label)
        self.progress_bar.hide()
        self.cancel_button.hide()

    # --- state shown -------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None

    def _on_document_changed(self, change: Change) -> None:
        doc = self.document
        if change in (Change.LOADED, Change.PIXELS):
            self.view.set_image(None if doc.pixels is None else to_qimage(doc.pixels, doc.alpha))
        self._refresh()

    def _refresh(self) -> None:
        doc = self.document
        name = doc.path.name if doc.path is not None else "Untitled"
        self.setWindowTitle(APP_NAME if doc.is_empty else f"{name}[*] — {APP_NAME}")
        self.setWindowModified(doc.modified)
        if doc.is_empty:
            self.info_label.setText("")
        else:
            channels = "RGBA" if doc.alpha is not None else "RGB"
            self.info_label.setText(
                f"{doc.width} × {doc.height} px · {doc.bit_depth}-bit {channels}"
            )
        has_image, idle = not doc.is_empty, not self.busy
        self.open_action.setEnabled(idle)
        self.save_as_action.setEnabled(has_image)
        self.revert_action.setEnabled(idle and doc.can_revert)
        for action in (self.denoise_action, self.colorize_action):
            action.setEnabled(idle and has_image)
        self.fit_action.setEnabled(has_image)
        self.actual_size_action.setEnabled(has_image)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    # --- files -------------------------------------------------------------------------

    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Image", self._last_dir, OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path | str) -> bool:
        """Open `path`, replacing the current image; on any failure the current one stays."""
        path = Path(path)
        if self.busy:
            self.statusBar().showMessage("Wait for the running task to end first.", _STATUS_MS)
            return False
        if not self.confirm_discard():
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            loaded = api.read_image(path)
            self.document.load(loaded.pixels, alpha=loaded.alpha, meta=loaded.meta, path=path)
        except (api.EngineError, OSError, ValueError, MemoryError) as error:
            QApplication.restoreOverrideCursor()
            kept = "" if self.document.is_empty else "\n\nThe image you had open is unchanged."
            self.show_error("Cannot open image", f"{path.name} could not be opened: {error}{kept}")
            return False
        QApplication.restoreOverrideCursor()
        self._last_dir = str(path.parent)
        self.statusBar().showMessage(f"Opened {path}", _STATUS_MS)
        return True

    @Slot()
    def save_as(self) -> bool:
        """Ask for a file name and write the current image there. True if it was saved."""
        doc = self.document
        if doc.pixels is None:
            return False
        suggested = ""
        if doc.path is not None:
            suggested = str(doc.path.with_name(f"{doc.path.stem}-restored{doc.path.suffix}"))
        name, chosen_filter = QFileDialog.getSaveFileName(
            self, "Save As", suggested or self._last_dir, SAVE_FILTER
        )
        if not name:
            return False
        path = Path(name)
        if not path.suffix:
            # PNG keeps 8 and 16 bits, so it is a safe default when the filter says nothing.
            path = path.with_suffix(_suffix_from_filter(chosen_filter) or ".png")
        if not api.is_supported_image_path(path):
            self.show_error(
                "Cannot save image",
                f"{path.name} cannot be saved: “{path.suffix}” is not a supported image type. "
                "Choose a .png, .tif or .jpg name.",
            )
            return False
        try:
            api.write_image(path, doc.pixels, alpha=doc.alpha, meta=doc.meta)
        except (api.EngineError, OSError, ValueError, MemoryError) as error:
            self.show_error(
                "Cannot save image",
                f"{path.name} could not be saved: {error}\n\n"
                "Your image is still open; try another folder or file name.",
            )
            return False
        doc.mark_saved(path)
        self._last_dir = str(path.parent)
        self.statusBar().showMessage(f"Saved {path}", _STATUS_MS)
        return True

    @Slot()
    def revert(self) -> None:
        if not self.busy:
            self.document.revert()

    def confirm_discard(self) -> bool:
        """True if the current image may be replaced or closed (saving it first if asked)."""
        doc = self.document
        if not doc.modified:
            return True
        name = doc.path.name if doc.path is not None else "The image"
        answer = QMessageBox.warning(
            self,
            "Unsaved changes",
            f"{name} has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save_as()
        return answer == QMessageBox.StandardButton.Discard

    # --- restoration tasks -------------------------------------------------------------

    @Slot()
    def run_denoise(self) -> None:
        self._start_task("Denoise", self._denoise)

    @Slot()
    def run_colorize(self) -> None:
        self._start_task("Colorize", self._colorize)

    # Looked up on `api` at call time, so tests can replace the engine's functions.
    @staticmethod
    def _denoise(image: np.ndarray, progress: Progress, cancel: api.CancelToken) -> np.ndarray:
        return api.denoise(image, progress=progress, cancel=cancel)

    @staticmethod
    def _colorize(image: np.ndarray, progress: Progress, cancel: api.CancelToken) -> np.ndarray:
        return api.colorize(image, progress=progress, cancel=cancel)

    def _start_task(self, title: str, call: EngineCall) -> None:
        """Run `call(image, progress, cancel)` on the current pixels in the background."""
        source = self.document.pixels
        if self.busy or source is None:
            return

        def job(progress: Progress, cancel: api.CancelToken) -> np.ndarray:
            return call(source, progress, cancel)

        task = BackgroundTask(title, job)
        task.worker.progress.connect(self._on_task_progress)
        task.worker.finished.connect(self._on_task_finished)
        task.worker.failed.connect(self._on_task_failed)
        task.worker.cancelled.connect(self._on_task_cancelled)
        self._task, self._source = task, source
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.statusBar().showMessage(f"{title}…")
        self._refresh()
        task.start()

    @Slot()
    def cancel_task(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.statusBar().showMessage(f"Cancelling {self._task.title.lower()}…")

    def _end_task(self) -> tuple[str, np.ndarray | None] | None:
        """Join the finished task's thread and restore the idle UI; None if no task ran
        (a late signal from a task that `closeEvent` already stopped)."""
        task, source = self._task, self._source
        if task is None:
            return None
        self._task = self._source = None
        task.stop(cancel=False)  # the worker has sent its last signal; this returns at once
        self.progress_bar.hide()
        self.cancel_button.hide()
        self.statusBar().clearMessage()
        self._refresh()
        return task.title, source

    @Slot(float)
    def _on_task_progress(self, fraction: float) -> None:
        if self._task is not None:
            self.progress_bar.setValue(round(min(max(fraction, 0.0), 1.0) * _PROGRESS_STEPS))

    @Slot(object)
    def _on_task_finished(self, result: object) -> None:
        ended = self._end_task()
        if ended is None:
            return
        title, source = ended
        if self.document.pixels is not source:
            # Cannot happen while restore/open are disabled, but a result for other pixels
            # must never land on the wrong image.
            self.statusBar().showMessage(f"{title} result discarded: the image changed.")
            self.task_ended.emit("cancelled")
            return
        try:
            self.document.apply(result)  # type: ignore[arg-type]
        except ValueError as error:
            message = f"{title} returned an unusable result: {error}\n\nThe image was not changed."
            self.show_error(f"{title} failed", message)
            self.task_ended.emit("failed")
            return
        self.statusBar().showMessage(f"{title} done.", _STATUS_MS)
        self.task_ended.emit("finished")

    @Slot(str)
    def _on_task_failed(self, message: str) -> None:
        ended = self._end_task()
        if ended is None:
            return
        self.show_error(f"{ended[0]} failed", message)
        self.task_ended.emit("failed")

    @Slot()
    def _on_task_cancelled(self) -> None:
        ended = self._end_task()
        if ended is None:
            return
        self.statusBar().showMessage(f"{ended[0]} cancelled; the image was not changed.")
        self.task_ended.emit("cancelled")

    # --- window events -----------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard():
            event.ignore()
            return
        task = self._task
        if task is not None:
            # Stop the engine at its next tile and join the thread: a QThread must not
            # outlive its window, and a result nobody will see is not worth waiting for.
            self._task = self._source = None
            self.statusBar().showMessage(f"Cancelling {task.title.lower()}…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                task.stop(cancel=True)
            finally:
                QApplication.restoreOverrideCursor()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        path = _dropped_path(event.mimeData())
        if path is not None and not self.busy and api.is_supported_image_path(path):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Opened after the drop returns: a dialog shown inside a drop would keep the source
        # application's drag waiting on some platforms.
        QTimer.singleShot(0, self, lambda: self.open_path(path))
