"""Shared fixtures for the editor's tests (pytest-qt, offscreen).

- Tests never need trained weights: they replace engine functions on the `engine.api` module.
- Every test fails if it leaves a QThread running.
- Message boxes and file dialogs never block: they are recorded and answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from editor_support import write_png
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QFileDialog, QMessageBox


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
    leftover = tracker.running()
    names = [t.objectName() or repr(t) for t in leftover]
    for thread in leftover:  # stop them anyway, so the next test starts clean
        thread.quit()
        thread.wait(5000)
    tracker.started.clear()
    if leftover:
        pytest.fail(f"test left QThreads running: {names}")


@dataclass
class Dialogs:
    """What message boxes were shown, and how the unsaved-changes question is answered."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    unsaved_answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Discard
    save_name: str = ""  # what the Save As dialog "chooses"; empty = the user cancels
    save_calls: int = 0

    @property
    def last_error(self) -> str:
        assert self.errors, "no error message was shown"
        return self.errors[-1][1]


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    record = Dialogs()

    def critical(_parent: object, title: str, text: str, *_: object) -> object:
        record.errors.append((title, text))
        return QMessageBox.StandardButton.Ok

    def warning(_parent: object, _title: str, text: str, *_: object) -> object:
        record.questions.append(text)
        return record.unsaved_answer

    def get_save_file_name(*_: object, **__: object) -> tuple[str, str]:
        record.save_calls += 1
        return record.save_name, "PNG (*.png)"

    def unexpected(*_: object, **__: object) -> object:
        raise AssertionError("a dialog the test did not expect was opened")

    monkeypatch.setattr(QMessageBox, "critical", critical)
    monkeypatch.setattr(QMessageBox, "warning", warning)
    monkeypatch.setattr(QMessageBox, "information", unexpected)
    monkeypatch.setattr(QMessageBox, "question", unexpected)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", get_save_file_name)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", unexpected)
    return record


@pytest.fixture
def png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    path = tmp_path / "photo.png"
    return path, write_png(path)


@pytest.fixture
def window(qtbot):  # noqa: ANN001, ANN201 (pytest-qt's types)
    from editor.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    return win
