"""Restoration tasks in the background: progress, results, failures, cancel, close."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from editor.main_window import MainWindow
from editor.worker import BackgroundTask, describe_failure
from engine import api


@pytest.fixture
def opened(window: MainWindow, png) -> MainWindow:
    assert window.open_path(png[0])
    return window


def test_denoise_reports_progress_and_updates_the_image(opened: MainWindow, qtbot, monkeypatch):
    seen_threads: list[str] = []

    def fake_denoise(image, *, progress=None, cancel=None, **_):
        seen_threads.append(threading.current_thread().name)
        for done in range(1, 5):
            progress(api.Progress("denoise", done, 4))
        return 255 - image

    monkeypatch.setattr(api, "denoise", fake_denoise)
    original = np.array(opened.document.pixels)
    values: list[int] = []
    opened.progress_bar.valueChanged.connect(values.append)
    with qtbot.waitSignal(opened.task_ended, timeout=5000) as ended:
        opened.denoise_action.trigger()
        assert not opened.denoise_action.isEnabled()  # no second task while one runs
        assert opened.progress_bar.isVisible() and opened.cancel_button.isVisible()
    assert ended.args == ["finished"]
    assert seen_threads and seen_threads[0] != threading.main_thread().name
    assert values[-1] == 1000 and len(values) >= 2
    assert np.array_equal(opened.document.pixels, 255 - original)
    assert np.array_equal(opened.document.original, original)
    assert opened.document.modified and opened.isWindowModified()
    assert opened.denoise_action.isEnabled() and opened.revert_action.isEnabled()
    assert not opened.progress_bar.isVisible() and not opened.cancel_button.isVisible()


def test_colorize_runs_the_colorize_call(opened: MainWindow, qtbot, monkeypatch) -> None:
    monkeypatch.setattr(api, "colorize", lambda image, **_: np.zeros_like(image))
    with qtbot.waitSignal(opened.task_ended, timeout=5000) as ended:
        opened.colorize_action.trigger()
    assert ended.args == ["finished"]
    assert not opened.document.pixels.any()


def test_missing_model_leaves_the_image_and_says_so(
    opened: MainWindow, qtbot, monkeypatch, dialogs
):
    def no_model(image, **_):
        raise api.ModelUnavailable("resources/models/denoise.safetensors not found")

    monkeypatch.setattr(api, "denoise", no_model)
    before = opened.document.pixels
    with qtbot.waitSignal(opened.task_ended, timeout=5000) as ended:
        opened.denoise_action.trigger()
    assert ended.args == ["failed"]
    title, text = dialogs.errors[-1]
    assert title == "Denoise failed"
    assert "No usable denoise model is installed" in text
    assert "denoise.safetensors not found" in text
    assert "The image was not changed." in text
    assert opened.document.pixels is before and not opened.document.modified
    assert opened.denoise_action.isEnabled()


def test_an_engine_bug_is_a_message_not_a_traceback(
    opened: MainWindow, qtbot, monkeypatch, dialogs
):
    def broken(image, **_):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(api, "colorize", broken)
    before = opened.document.pixels
    with qtbot.waitSignal(opened.task_ended, timeout=5000):
        opened.colorize_action.trigger()
    assert "internal error (ZeroDivisionError: division by zero)" in dialogs.last_error
    assert "Traceback" not in dialogs.last_error
    assert opened.document.pixels is before


def test_a_result_of_the_wrong_shape_is_refused(opened: MainWindow, qtbot, monkeypatch, dialogs):
    monkeypatch.setattr(api, "denoise", lambda image, **_: image[:10])
    before = opened.document.pixels
    with qtbot.waitSignal(opened.task_ended, timeout=5000) as ended:
        opened.denoise_action.trigger()
    assert ended.args == ["failed"]
    assert "unusable result" in dialogs.last_error
    assert opened.document.pixels is before


def _wait_for_cancel(image, *, progress=None, cancel=None, **_):
    """Works until cancelled, like the engine: checks the token between "tiles"."""
    done = 0
    while not cancel.cancelled:
        done += 1
        progress(api.Progress("denoise", done % 100, 100))
        time.sleep(0.005)
    raise api.Cancelled("cancelled by the user")


def test_cancel_button_stops_the_task(opened: MainWindow, qtbot, monkeypatch, dialogs) -> None:
    monkeypatch.setattr(api, "denoise", _wait_for_cancel)
    before = opened.document.pixels
    with qtbot.waitSignal(opened.task_ended, timeout=5000) as ended:
        opened.denoise_action.trigger()
        qtbot.waitUntil(lambda: opened.progress_bar.value() > 0)
        assert not opened.open_action.isEnabled() and not opened.colorize_action.isEnabled()
        qtbot.mouseClick(opened.cancel_button, Qt.MouseButton.LeftButton)
    assert ended.args == ["cancelled"]
    assert "Denoise cancelled" in opened.statusBar().currentMessage()
    assert opened.document.pixels is before and not opened.document.modified
    assert dialogs.errors == []
    assert opened.denoise_action.isEnabled() and not opened.cancel_button.isVisible()


def test_closing_the_window_cancels_and_joins_the_task(
    opened: MainWindow, qtbot, monkeypatch, thread_tracker
) -> None:
    monkeypatch.setattr(api, "denoise", _wait_for_cancel)
    opened.denoise_action.trigger()
    qtbot.waitUntil(lambda: opened.progress_bar.value() > 0)
    assert thread_tracker.running()
    assert opened.close()
    assert thread_tracker.running() == []
    assert not opened.busy


def test_a_result_after_cancel_is_not_applied(qtbot) -> None:
    release = threading.Event()

    def job(progress, cancel):
        release.wait(5)
        return np.zeros((2, 2, 3), np.uint8)  # finishes although cancel was asked

    task = BackgroundTask("Denoise", job)
    with qtbot.waitSignal(task.worker.cancelled, timeout=5000):
        task.start()
        task.cancel()
        release.set()
    task.stop(cancel=False)
    assert not task.is_running()


def test_failure_messages_name_the_problem() -> None:
    assert "ran out of memory" in describe_failure("Denoise", api.OutOfMemory("8 GiB"))
    assert "could not use the selected device: cuda:3" in describe_failure(
        "Denoise", api.DeviceUnavailable("cuda:3")
    )
    assert "cannot process this image: 1x1" in describe_failure(
        "Colorize", api.UnsupportedImage("1x1")
    )


def test_the_thread_tracker_sees_a_running_thread(thread_tracker) -> None:
    from PySide6.QtCore import QThread

    thread = QThread()
    thread.start()  # runs an event loop until told to quit
    assert thread_tracker.running() == [thread]
    thread.quit()
    thread.wait()
    assert thread_tracker.running() == []
