"""The editor's main window: the canvas in the centre, docks around it, one document.

The window assembles the parts and keeps the views in step with the document; the work is
done by its controllers, each given only what it needs (the window serves as their host,
see the Protocols in their modules): `files` (open/save/export), `masks` (mask files),
`recovery` (autosave, crash recovery), `edits` (undoable edits), `tasks` (restorations),
`restore_photo` (the whole pipeline in one run), all working in the background through one
`runner`, and `hints` (the Colour Hint tool, its
preview on a thread of its own). One photo per window: opening another replaces it (after
the unsaved-changes prompt); several files at once open in one window each.

Nothing here imports torch: the window shows first, then `start_engine_loading`
(`editor.engine_status`) imports the engine's heavy parts on a background thread (the
status bar says "Loading engine…", then the device in use).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QSlider, QUndoView, QWidget

from editor import dialogs, mask_files, menus
from editor import settings as settings_module
from editor.canvas import CanvasView
from editor.canvas.drops import local_paths
from editor.doc import Change, ChangeKind, Document
from editor.editing import EditController
from editor.engine_status import EngineStatusMixin
from editor.files import FileController
from editor.hinting import HintController
from editor.history import DEFAULT_BUDGET, History
from editor.jobs import JobProgress, JobRunner
from editor.panels import HintsPanel, LayersPanel, RestorePanel, ToolsPanel
from editor.recovery import RecoveryController
from editor.resources import APP_NAME, about_markdown
from editor.restore_photo import RestorePhotoController
from editor.settings import Preferences
from editor.source import CANVAS_KIND, DocumentSource
from editor.tasks import TaskController
from editor.worker import WorkerThread
from engine import api

MASK_STATE_DELAY_MS = 150  # "is the mask empty?" reads 24 MB: not on every brush segment

# Windows opened by other windows (several files dropped at once): kept alive until closed.
_spawned: set[MainWindow] = set()


class MainWindow(EngineStatusMixin, QMainWindow):
    def __init__(
        self,
        *,
        settings: QSettings | None = None,
        recovery_dir: Path | None = None,
        engine_resources: Path | None = None,
        devices: list[str] | None = None,
        history_budget: int = DEFAULT_BUDGET,
        parent: QWidget | None = None,
    ) -> None:
        """`settings`, `recovery_dir`: where preferences, recent files and recovery copies
        live (tests pass temporary ones). `engine_resources`: another resources folder for
        the engine's models (tests: tiny weights). `devices`: already known (else loaded by
        `start_engine_loading`)."""
        super().__init__(parent)
        self.settings = settings if settings is not None else settings_module.settings()
        self.preferences = Preferences.load(self.settings)
        self.engine_resources = engine_resources
        self.devices = devices
        self.engine_error: str | None = None
        self.document: Document | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._unsaved_without_history = False  # a restored recovery copy: never saved
        # Not a job of the runner: opening a photo need not wait for torch to import.
        self._loader: WorkerThread | None = None

        self.history = History(self, budget=history_budget)
        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.runner = JobRunner(self, self)
        self.edits = EditController(self, self.history, self)
        self.tasks = TaskController(self, self.runner, self.edits, self)
        self.restore_photo = RestorePhotoController(self, self.runner, self.edits, self)
        self.hints = HintController(self, self)
        self.recovery = RecoveryController(self, self.runner, recovery_dir, self)
        self.files = FileController(self, self.runner, self.settings, self.recovery, self)
        self.masks = mask_files.MaskFileController(self, self.runner, self.edits, self.settings)
        self.act = menus.WindowActions(self, self)
        self._build_panels()
        self.recent_menu: QMenu | None = None
        self.samples_menu: QMenu | None = None
        menus.build_menus(self, self.act)
        self._build_status_bar()
        self._connect()
        self._mask_timer = QTimer(self, singleShot=True, interval=MASK_STATE_DELAY_MS)
        self._mask_timer.timeout.connect(self._refresh_mask_state)
        self.setAcceptDrops(True)
        self.resize(1360, 860)
        self._refresh()

    # --- construction --------------------------------------------------------------------

    def _build_panels(self) -> None:
        act = self.act
        self.restore_photo.mask_replaced.connect(lambda: act.show_mask.setChecked(False))
        self.tools_panel = ToolsPanel(
            eraser=act.eraser, show_mask=act.show_mask, clear_mask=act.clear_mask,
            invert_mask=act.invert_mask, detect=act.detect,
        )  # fmt: skip
        self.restore_panel = RestorePanel(
            restore_photo=act.restore_photo, denoise=act.denoise, inpaint=act.inpaint,
            colorize=act.colorize,
        )  # fmt: skip
        self.layers_panel = LayersPanel()
        self.hint_panel = HintsPanel(
            tool=act.hint_tool, remove=act.remove_pin, clear=act.clear_pins
        )
        self.hints.attach(self.hint_panel, self.restore_panel.colorize_strength)
        self.history_view = QUndoView(self.history)
        self.history_view.setEmptyLabel("No photo open")
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.docks: list[QDockWidget] = []
        for title, widget, area in (
            ("Tools", self.tools_panel, left),
            ("Restore", self.restore_panel, left),
            ("Layers", self.layers_panel, right),
            ("Colour Hints", self.hint_panel, right),
            ("History", self.history_view, right),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title}Dock")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self.docks.append(dock)
        # The brush size of the last session. (The panel's `size` slider shadows QWidget.size.)
        slider = cast(QSlider, self.tools_panel.size)
        remembered = settings_module.brush_size(self.settings)
        if remembered is not None:
            slider.setValue(remembered)
        slider.valueChanged.connect(
            lambda size: settings_module.remember_brush_size(size, self.settings)
        )
        self.canvas.set_brush(self.tools_panel.radius, self.tools_panel.hardness_fraction)

    def _build_status_bar(self) -> None:
        self.job_progress = JobProgress(self.runner)
        self.statusBar().addPermanentWidget(self.job_progress)
        self.info_label, self.zoom_label, self.device_label = QLabel(), QLabel(), QLabel()
        for label in (self.info_label, self.zoom_label, self.device_label):
            self.statusBar().addPermanentWidget(label)
        self._refresh_device()

    def _connect(self) -> None:
        canvas, edits, layers = self.canvas, self.edits, self.layers_panel
        canvas.filesDropped.connect(self._dropped)
        canvas.strokeStarted.connect(edits.stroke_started)
        canvas.strokeSegment.connect(edits.stroke_segment)
        canvas.strokeFinished.connect(edits.stroke_finished)
        canvas.zoomChanged.connect(self._refresh_zoom)
        self.tools_panel.brushChanged.connect(canvas.set_brush)
        layers.visibilityChanged.connect(edits.set_visible)
        layers.renamed.connect(edits.rename)
        layers.moved.connect(edits.move)
        layers.opacityChanged.connect(edits.set_opacity)
        layers.duplicateRequested.connect(edits.duplicate)
        layers.deleteRequested.connect(edits.delete)
        layers.mergeDownRequested.connect(edits.merge_down)
        layers.flattenRequested.connect(edits.flatten)
        self.history.cleanChanged.connect(self._refresh_title)
        self.history.indexChanged.connect(self._refresh_title)
        self.runner.busy_changed.connect(self.refresh_actions)

    # --- what the controllers need (their Protocols) ---------------------------------------

    @property
    def dialog_parent(self) -> QWidget:
        return self

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        if text:
            self.statusBar().showMessage(text, timeout_ms)
        else:
            self.statusBar().clearMessage()

    def confirm_discard(self) -> bool:
        return self.files.confirm_discard()

    # --- the document --------------------------------------------------------------------

    def set_document(self, document: Document, *, unsaved: bool = False) -> None:
        """Show `document` instead of the current one, with a fresh history. `unsaved`: it
        has changes no file holds (a restored recovery copy)."""
        self.edits.cancel_stroke()
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.history.clear()
        self.document = document
        self._unsaved_without_history = unsaved
        self._unsubscribe = document.subscribe(self._changed)
        self.canvas.set_source(DocumentSource(document))
        self.hints.document_set(document)
        self.refresh_layers()
        self._refresh_mask_state()
        self.restore_panel.set_has_colour(api.has_colour(document.original.pixels))
        shown = document.path.name if document.path is not None else document.name
        self.history_view.setEmptyLabel(f"Opened {shown}")
        self._refresh()

    @property
    def is_modified(self) -> bool:
        return self.document is not None and (
            self._unsaved_without_history or not self.history.isClean()
        )

    def mark_clean(self) -> None:
        """The document as it is now is saved."""
        self._unsaved_without_history = False
        self.history.setClean()
        self._refresh_title()

    def _changed(self, change: Change) -> None:
        if change.kind is ChangeKind.HINTS:
            self.hints.pins_changed()
            return
        if change.kind is not ChangeKind.MASK and change.visual:
            self.hints.image_changed()  # the composite: the preview's small copy is old
        if change.kind is ChangeKind.LAYERS and change.region is None:
            if change.visual:  # the visible part now, the rest band by band
                self.canvas.refresh_composite()
        else:
            self.canvas.update_region(CANVAS_KIND[change.kind], change.region)
        if change.kind is ChangeKind.LAYERS:
            self.refresh_layers()
        elif change.kind is ChangeKind.MASK:
            self._mask_timer.start()

    def refresh_layers(self) -> None:
        if self.document is not None:
            self.layers_panel.set_layers(self.document.layers)

    def _refresh_mask_state(self) -> None:
        if self.document is not None:
            self.restore_panel.set_mask_empty(self.document.mask_is_empty())

    # --- state shown ---------------------------------------------------------------------

    def _refresh(self) -> None:
        document = self.document
        if document is None:
            self.info_label.setText("")
        else:
            channels = "RGBA" if document.alpha is not None else "RGB"
            self.info_label.setText(
                f"{document.width} × {document.height} px · {document.bit_depth}-bit {channels}"
            )
        self._refresh_zoom()
        self._refresh_title()
        self.refresh_actions()

    def _refresh_title(self) -> None:
        if self.document is None:
            self.setWindowTitle(APP_NAME)
        else:
            self.setWindowTitle(f"{self.document.name}[*] — {APP_NAME}")
        self.setWindowModified(self.is_modified)

    def _refresh_zoom(self, *_: float) -> None:
        shown = self.document is not None
        self.zoom_label.setText(f"{round(self.canvas.zoom * 100)} %" if shown else "")

    def refresh_actions(self) -> None:
        has_document = self.document is not None
        for action in self.act.needing_document():
            action.setEnabled(has_document)
        busy = self.runner.busy
        for action in self.act.needing_idle_document():
            action.setEnabled(has_document and not busy)
        job = self.runner.running
        cancellable = job is not None and job.cancellable and not self.runner.cancel_requested
        self.act.cancel.setEnabled(cancellable)

    def set_history_enabled(self, enabled: bool) -> None:
        """Off during a brush stroke: undo must not change the mask under it."""
        self.history_view.setEnabled(enabled)
        self.act.undo.setEnabled(enabled and self.history.canUndo())
        self.act.redo.setEnabled(enabled and self.history.canRedo())

    def step_brush(self, up: bool) -> None:
        self.tools_panel.step_size(up)

    # --- dialogs -------------------------------------------------------------------------

    def edit_preferences(self) -> None:
        chosen = dialogs.edit_preferences(self, self.preferences, self.devices)
        if chosen is not None:
            chosen.save(self.settings)
            self.preferences = chosen
            self._refresh_device()

    def show_about(self) -> None:
        dialogs.show_about(self, f"About {APP_NAME}", about_markdown())

    def fill_recent_menu(self) -> None:
        if self.recent_menu is not None:
            menus.fill_recent(self.recent_menu, self)

    # --- several files, drops ------------------------------------------------------------

    def open_paths(self, paths: Sequence[Path | str], *, here: bool = True) -> None:
        """Open the first path in this window (if `here`), every other in a new window."""
        paths = [Path(p) for p in paths]
        if here and paths:
            self.files.open_path(paths.pop(0))
        for path in paths:
            self.spawn().files.open_path(path)

    def spawn(self) -> MainWindow:
        """A new window like this one (same settings and engine), shown."""
        window = MainWindow(
            settings=self.settings, recovery_dir=self.recovery.recovery_dir,
            engine_resources=self.engine_resources, devices=self.devices,
        )  # fmt: skip
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _spawned.add(window)
        window.show()
        window.start_engine_loading()
        return window

    def _dropped(self, paths: list[str]) -> None:
        # Opened after the drop returns: a dialog inside a drop keeps the source waiting.
        QTimer.singleShot(0, self, lambda: self.open_paths(paths))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self._dropped(paths)

    # --- closing -------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        # A running restoration would refuse the save the prompt below may ask for; its
        # result could not land in a closing window anyway.
        self.runner.cancel()
        self.runner.wait()
        if not self.files.confirm_discard():
            event.ignore()
            return
        # No thread may outlive the window: a QThread destroyed while running aborts.
        self.runner.shutdown()
        self.hints.shutdown()
        self.recovery.stop()  # closed on purpose: nothing to recover
        if self._loader is not None:
            self._loader.join()  # an import cannot be interrupted; it ends soon
            self._loader = None
        self.edits.cancel_stroke()
        _spawned.discard(self)
        event.accept()
