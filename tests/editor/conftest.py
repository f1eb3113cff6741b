"""Shared fixtures for the editor's tests (pytest-qt, offscreen).

- Restorations run the real engine with tiny weights (`tiny_resources`, tests/conftest.py)
  or a fake put on the `engine.api` module.
- Every test fails if it leaves a QThread (or an editor worker) running.
- Every question the editor asks goes through `editor.dialogs`, replaced here by recorders
  that answer at once; a Qt dialog opened any other way fails the test instead of hanging.
- Windows get their own settings file and recovery folder under tmp_path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from editor_support import write_png
from PySide6.QtCore import QSettings, QThread
from PySide6.QtWidgets import QColorDialog, QDialog, QFileDialog, QInputDialog, QMessageBox

from editor import dialogs as dialogs_module
from editor.settings import Preferences
from editor.worker import running_workers


@dataclass
class ThreadTracker:
    """Remembers every QThread started during a test."""

    started: list[QThread] = field(default_factory=list)

    def running(self) -> list[QThread]:
        # A thread whose C++ side is already deleted has certainly finished.
        return [t for t in self.started if shiboken6.isValid(t) and t.isRunning()]


@pytest.fixture(autouse=True)
def thread_tracker(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadTracker]:
    """Fails the test if a QThread it started is still running once widgets are closed."""
    tracker = ThreadTracker()
    original_start = QThread.start

    def start(thread: QThread, *args: object) -> None:
        tracker.started.append(thread)
        original_start(thread, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield tracker
    leftover = tracker.running() + [w for w in running_workers() if w not in tracker.started]
    names = [t.objectName() or repr(t) for t in leftover]
    for thread in leftover:  # stop them anyway, so the next test starts clean
        thread.quit()
        thread.wait(5000)
    tracker.started.clear()
    if leftover:
        pytest.fail(f"test left QThreads running: {names}")


@dataclass
class Dialogs:
    """What the editor asked, and how each question is answered."""

    errors: list[tuple[str, str, str]] = field(default_factory=list)  # title, text, detail
    infos: list[tuple[str, str]] = field(default_factory=list)
    confirms: list[str] = field(default_factory=list)
    confirm_answer: bool = True
    recoveries: list[str] = field(default_factory=list)  # questions asked about copies
    recovery_answer: dialogs_module.Recovery = dialogs_module.Recovery.RESTORE
    too_large: list[str] = field(default_factory=list)  # reasons a copy was not opened
    discard_too_large: bool = False
    unsaved: list[str] = field(default_factory=list)  # document names asked about
    unsaved_answer: dialogs_module.Unsaved = dialogs_module.Unsaved.DISCARD
    open_path: Path | None = None
    open_asked: list[tuple[str, str]] = field(default_factory=list)  # (caption, folder)
    save_path: Path | None = None  # what a Save As / Export dialog "chooses"; None: cancel
    save_filter: str = ""
    save_captions: list[str] = field(default_factory=list)
    quality: int | None = 90
    preferences: Preferences | None = None
    preferences_asked: list[list[str] | None] = field(default_factory=list)
    abouts: list[str] = field(default_factory=list)
    colour: tuple[int, int, int] | None = None  # what the colour dialog "chooses"; None: cancel
    colours_asked: list[tuple[int, int, int]] = field(default_factory=list)  # initial colours

    @property
    def last_error(self) -> tuple[str, str, str]:
        assert self.errors, "no error message was shown"
        return self.errors[-1]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    record = Dialogs()

    def ask_save_path(_parent: object, caption: str, *_: object) -> tuple[Path | None, str]:
        record.save_captions.append(caption)
        return record.save_path, record.save_filter

    def edit_preferences(_parent: object, _prefs: object, available: list[str] | None):
        record.preferences_asked.append(available)
        return record.preferences

    def ask_open_path(_p: object, folder: str, _f: str, caption: str = "Open") -> Path | None:
        record.open_asked.append((caption, folder))
        return record.open_path

    def unexpected(*_: object, **__: object) -> object:
        raise AssertionError("a Qt dialog was opened outside editor.dialogs")

    patch = monkeypatch.setattr
    patch(dialogs_module, "show_error", lambda _p, *args: record.errors.append(tuple(args)))
    patch(dialogs_module, "inform", lambda _p, title, text: record.infos.append((title, text)))
    patch(
        dialogs_module,
        "confirm",
        lambda _p, _title, text: record.confirms.append(text) or record.confirm_answer,
    )
    patch(
        dialogs_module,
        "ask_unsaved",
        lambda _p, name: record.unsaved.append(name) or record.unsaved_answer,
    )
    patch(
        dialogs_module,
        "ask_recovery",
        lambda _p, text: record.recoveries.append(text) or record.recovery_answer,
    )
    patch(
        dialogs_module,
        "ask_discard_recovery",
        lambda _p, reason: record.too_large.append(reason) or record.discard_too_large,
    )
    patch(dialogs_module, "ask_open_path", ask_open_path)
    patch(dialogs_module, "ask_save_path", ask_save_path)
    patch(dialogs_module, "ask_quality", lambda *_: record.quality)
    patch(dialogs_module, "edit_preferences", edit_preferences)
    patch(dialogs_module, "show_about", lambda _p, _title, text: record.abouts.append(text))
    patch(
        dialogs_module,
        "ask_colour",
        lambda _p, rgb: record.colours_asked.append(rgb) or record.colour,
    )
    for cls, name in (
        (QMessageBox, "exec"), (QMessageBox, "critical"), (QMessageBox, "warning"),
        (QMessageBox, "question"), (QMessageBox, "information"), (QDialog, "exec"),
        (QFileDialog, "getOpenFileName"), (QFileDialog, "getSaveFileName"),
        (QInputDialog, "getInt"), (QColorDialog, "getColor"),
    ):  # fmt: skip
        patch(cls, name, unexpected)
    return record


@pytest.fixture(autouse=True)
def files_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Open/save/export (of masks too) run at once (the same code, no thread) unless a test
    turns `background` back on to test the threaded path."""
    from editor.files import FileController
    from editor.mask_files import MaskFileController

    monkeypatch.setattr(FileController, "background", False)
    monkeypatch.setattr(MaskFileController, "background", False)


@pytest.fixture
def engine_detect_damage(monkeypatch: pytest.MonkeyPatch) -> Callable[..., np.ndarray]:
    """The engine's `api.detect_damage`; where this engine has none yet, its classical
    scratch detector behind the same signature."""
    from engine import api

    if not hasattr(api, "detect_damage"):

        def detect_damage(
            image: np.ndarray, *, sensitivity: float = 0.5, options: object = None,
            progress: object = None, cancel: object = None,
        ) -> np.ndarray:  # fmt: skip
            return api.detect_scratches(image, sensitivity=sensitivity, cancel=cancel)

        monkeypatch.setattr(api, "detect_damage", detect_damage, raising=False)
    return api.detect_damage


@pytest.fixture
def png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "photo.png"
    return path, write_png(path)


@pytest.fixture
def settings_file(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def recovery_dir(tmp_path: Path) -> Path:
    return tmp_path / "recovery"


WindowFactory = Callable[..., object]


@pytest.fixture
def make_window(qtbot, settings_file: QSettings, recovery_dir: Path):  # noqa: ANN001, ANN201
    """Build a shown MainWindow with the test's settings and recovery folder."""
    from editor.main_window import MainWindow

    def make(**kwargs: object) -> MainWindow:
        kwargs.setdefault("settings", settings_file)
        kwargs.setdefault("recovery_dir", recovery_dir)
        kwargs.setdefault("devices", ["cpu"])  # known: no engine loading unless a test asks
        win = MainWindow(**kwargs)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        return win

    return make


@pytest.fixture
def window(make_window):  # noqa: ANN001, ANN201
    return make_window()


@pytest.fixture
def engine_window(make_window, tiny_resources: Path):  # noqa: ANN001, ANN201
    """A window whose restorations run the real engine with the tiny fixture weights."""
    return make_window(engine_resources=tiny_resources)


@pytest.fixture
def opened(window, png):  # noqa: ANN001, ANN201
    assert window.files.open_path(png[0])
    return window
