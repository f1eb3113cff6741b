"""The window's actions (menu items, shortcuts, panel buttons) and its menu bar."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol

from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QWidget

from editor.canvas import CanvasView
from editor.editing import EditController
from editor.files import FileController
from editor.hinting import HintController
from editor.jobs import JobRunner
from editor.mask_files import MaskFileController
from editor.resources import APP_NAME, sample_label, sample_photos
from editor.restore_photo import RestorePhotoController
from editor.tasks import TaskController

Keys = QKeySequence
Shortcut = str | Keys.StandardKey | list[str]


class MenuHost(Protocol):
    """What the actions and menus are connected to: the window's parts and commands."""

    @property
    def files(self) -> FileController: ...
    @property
    def tasks(self) -> TaskController: ...
    @property
    def restore_photo(self) -> RestorePhotoController: ...
    @property
    def hints(self) -> HintController: ...
    @property
    def edits(self) -> EditController: ...
    @property
    def masks(self) -> MaskFileController: ...
    @property
    def runner(self) -> JobRunner: ...
    @property
    def canvas(self) -> CanvasView: ...
    @property
    def history(self) -> QUndoStack: ...
    @property
    def docks(self) -> list[QDockWidget]: ...

    recent_menu: QMenu | None
    samples_menu: QMenu | None

    def menuBar(self) -> QMenuBar: ...
    def close(self) -> bool: ...
    def edit_preferences(self) -> None: ...
    def show_about(self) -> None: ...
    def step_brush(self, up: bool) -> None: ...
    def fill_recent_menu(self) -> None: ...


def _with_shortcut(action: QAction, tip: str) -> None:
    """A tooltip that names the action's shortcut, as the menus do."""
    key = action.shortcut().toString(Keys.SequenceFormat.NativeText)
    action.setToolTip(f"{tip} ({key})" if key else tip)
    action.setStatusTip(tip)


class WindowActions:
    """Every action of a window, as attributes, connected to the window's controllers."""

    def __init__(self, window: MenuHost, parent: QWidget) -> None:
        self._parent = parent
        files, tasks, edits, canvas = window.files, window.tasks, window.edits, window.canvas
        # File
        self.open = self._make("&Open…", files.open_dialog, Keys.StandardKey.Open)
        # Spelled out: the platform's standard keys are empty for these on some systems.
        self.save = self._make("&Save", files.save, "Ctrl+S")
        self.save_as = self._make("Save &As…", files.save_as, "Ctrl+Shift+S")
        self.export = self._make("&Export…", files.export, "Ctrl+E")
        self.quit = self._make("&Quit", window.close, "Ctrl+Q")
        # Edit
        self.undo = window.history.createUndoAction(parent, "&Undo")
        self.undo.setShortcut(Keys(Keys.StandardKey.Undo))
        self.redo = window.history.createRedoAction(parent, "&Redo")
        self.redo.setShortcuts([Keys("Ctrl+Shift+Z"), Keys("Ctrl+Y")])
        self.preferences = self._make("&Preferences…", window.edit_preferences, "Ctrl+,")
        # View
        self.zoom_in = self._make("Zoom &In", canvas.zoom_in, ["Ctrl+=", "Ctrl++"])
        self.zoom_out = self._make("Zoom &Out", canvas.zoom_out, "Ctrl+-")
        self.fit = self._make("&Fit in Window", canvas.fit, "Ctrl+0")
        self.actual_size = self._make("&Actual Size (100 %)", canvas.actual_size, "Ctrl+1")
        self.split = self._toggle("&Before/After Split", canvas.set_split, False, "Ctrl+B")
        self.show_mask = self._toggle("Show &Mask", canvas.set_mask_visible, True, "M")
        # Mask
        self.eraser = self._toggle("&Eraser", canvas.set_eraser, False, "E")
        self.bigger_brush = self._make("&Bigger Brush", partial(window.step_brush, True), "]")
        self.smaller_brush = self._make("&Smaller Brush", partial(window.step_brush, False), "[")
        self.clear_mask = self._make("&Clear Mask", edits.clear_mask)
        self.invert_mask = self._make("&Invert Mask", edits.invert_mask, "Ctrl+I")
        self.detect = self._make("Auto-detect &Damage", tasks.detect_damage)
        self.import_mask = self._make("I&mport Mask…", window.masks.import_dialog)
        self.export_mask = self._make("E&xport Mask…", window.masks.export_dialog)
        # Restore
        self.restore_photo = self._make(
            "&Restore Photo…", window.restore_photo.open_dialog, "Ctrl+Shift+R"
        )
        self.denoise = self._make("&Denoise", tasks.run_denoise, "Ctrl+Shift+D")
        self.inpaint = self._make("&Inpaint", tasks.run_inpaint, "Ctrl+Shift+I")
        self.colorize = self._make("&Colorize", tasks.run_colorize, "Ctrl+Shift+C")
        hints = window.hints
        self.hint_tool = self._toggle("Colour &Hint Tool", hints.set_active, False, "H")
        self.remove_pin = self._make("&Remove Selected Pin", hints.remove_selected)
        self.clear_pins = self._make("C&lear Colour Pins", hints.clear)
        # Escape reaches it only while a job runs: the action is disabled otherwise.
        self.cancel = self._make("C&ancel", window.runner.cancel, "Esc")
        # Help
        self.about = self._make(f"&About {APP_NAME}", window.show_about)
        self.eraser.setToolTip("Left-drag erases the mask (right-drag always erases)")
        self.split.setToolTip(
            "Original left of the divider, result right; hold \\ for the original"
        )
        self.split.setStatusTip(self.split.toolTip())
        _with_shortcut(
            self.detect, "Add cracks, scratches, dust and stains to the mask, to edit and inpaint"
        )
        _with_shortcut(
            self.import_mask,
            "Replace the mask with an image of the photo's size (white = hole); undoable",
        )
        _with_shortcut(
            self.export_mask, "Save the mask as a grey PNG of the photo's size (white = hole)"
        )
        _with_shortcut(
            self.restore_photo,
            "Find what the photo needs and run those steps at once, each as a new layer",
        )
        _with_shortcut(self.denoise, "Reduce grain and noise; the result is a new layer")
        _with_shortcut(self.inpaint, "Fill the areas painted in the mask")
        _with_shortcut(self.colorize, "Add colour to a black-and-white photo")
        _with_shortcut(
            self.hint_tool, "Click the photo to pin a colour for Colorize; drag a pin to move it"
        )
        _with_shortcut(self.remove_pin, "Remove the selected colour pin (Delete on the canvas)")
        _with_shortcut(self.clear_pins, "Remove every colour pin (one undo step)")
        _with_shortcut(self.cancel, "Stop the running job; the image is not changed")

    def _make(
        self, text: str, slot: Callable[[], object], shortcut: Shortcut | None = None
    ) -> QAction:
        action = QAction(text, self._parent)
        if isinstance(shortcut, list):
            action.setShortcuts([Keys(key) for key in shortcut])
        elif shortcut is not None:
            action.setShortcut(Keys(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _toggle(
        self, text: str, slot: Callable[[bool], object], on: bool, shortcut: str
    ) -> QAction:
        action = QAction(text, self._parent)
        action.setCheckable(True)
        action.setChecked(on)
        action.setShortcut(Keys(shortcut))
        action.toggled.connect(slot)
        return action

    def needing_document(self) -> list[QAction]:
        return [
            self.save, self.save_as, self.export, self.zoom_in, self.zoom_out, self.fit,
            self.actual_size, self.split, self.clear_mask, self.invert_mask, self.import_mask,
            self.export_mask, self.hint_tool, self.remove_pin, self.clear_pins,
        ]  # fmt: skip

    def needing_idle_document(self) -> list[QAction]:
        """Disabled while a task runs (one at a time) or with no document."""
        return [self.detect, self.restore_photo, self.denoise, self.inpaint, self.colorize]


def build_menus(window: MenuHost, actions: WindowActions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(actions.open)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    samples = window.samples_menu = file_menu.addMenu("Open Sa&mple Photo")
    for path in sample_photos():
        samples.addAction(sample_label(path), _opener(window, path))
    samples.setEnabled(bool(samples.actions()))
    file_menu.addSeparator()
    file_menu.addActions([actions.save, actions.save_as, actions.export])
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)

    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([actions.undo, actions.redo])
    edit_menu.addSeparator()
    edit_menu.addAction(actions.preferences)

    view_menu = bar.addMenu("&View")
    view_menu.addActions([actions.zoom_in, actions.zoom_out, actions.fit, actions.actual_size])
    view_menu.addSeparator()
    view_menu.addActions([actions.split, actions.show_mask])
    view_menu.addSeparator()
    panels = view_menu.addMenu("&Panels")
    for dock in window.docks:
        panels.addAction(dock.toggleViewAction())

    mask_menu = bar.addMenu("&Mask")
    mask_menu.addActions([actions.eraser, actions.bigger_brush, actions.smaller_brush])
    mask_menu.addSeparator()
    mask_menu.addActions([actions.clear_mask, actions.invert_mask, actions.detect])
    mask_menu.addSeparator()
    mask_menu.addActions([actions.import_mask, actions.export_mask])

    restore_menu = bar.addMenu("&Restore")
    restore_menu.addAction(actions.restore_photo)
    restore_menu.addSeparator()
    restore_menu.addActions([actions.denoise, actions.inpaint, actions.colorize])
    restore_menu.addSeparator()
    restore_menu.addActions([actions.hint_tool, actions.remove_pin, actions.clear_pins])
    restore_menu.addSeparator()
    restore_menu.addAction(actions.cancel)

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(actions.about)


def _opener(window: MenuHost, path: Path) -> Callable[[], object]:
    return lambda *_: window.files.open_path(path)  # *_: triggered may pass `checked`


def fill_recent(menu: QMenu, window: MenuHost) -> None:
    menu.clear()
    paths = window.files.recent_paths()
    for number, path in enumerate(paths, 1):
        action = menu.addAction(f"&{number} {path.name}", _opener(window, path))
        action.setToolTip(str(path))
        action.setData(str(path))
    if not paths:
        menu.addAction("No recent files").setEnabled(False)
