"""The editor's smaller parts: the worker thread, failure messages, dialogs' boxes, result
names, the canvas adapter, resources, and the None guard."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
from PySide6.QtCore import QThread

from editor import dialogs
from editor.doc import Document
from editor.resources import about_markdown, resources_dir, sample_label
from editor.source import DocumentSource
from editor.tasks import result_name
from editor.worker import (
    WorkerThread,
    describe_failure,
    failure_detail,
    plain_reason,
    running_workers,
)
from engine import api


def test_failure_messages_are_short_and_the_detail_is_the_engine_s() -> None:
    error = api.OutOfMemory("denoise: the device ran out of memory")
    assert "ran out of memory" in describe_failure("Denoise", error)
    assert "the device ran out" not in describe_failure("Denoise", error)
    assert failure_detail(error) == "OutOfMemory: denoise: the device ran out of memory"
    assert "selected device" in describe_failure("Denoise", api.DeviceUnavailable("cuda:3"))
    assert "cannot process this image" in describe_failure("Colorize", api.UnsupportedImage(""))
    assert "internal error" in describe_failure("Inpaint", ZeroDivisionError("x"))
    assert failure_detail(ZeroDivisionError()) == "ZeroDivisionError"


def _run(worker: WorkerThread, qtbot) -> None:  # noqa: ANN001
    with qtbot.waitSignal(worker.ended, timeout=5000):
        worker.start_work()
    assert not worker.isRunning() and running_workers() == []


def test_a_result_after_cancel_is_not_applied(qtbot) -> None:
    release = threading.Event()

    def work(progress, cancel):  # noqa: ANN001, ANN202
        release.wait(5)
        return np.zeros((2, 2, 3), np.uint8)  # finishes although cancel was asked

    worker = WorkerThread("Denoise", work)
    worker.cancel()
    release.set()
    _run(worker, qtbot)
    assert worker.outcome.cancelled and worker.outcome.result is None


def test_an_engine_bug_reaches_the_window_as_an_outcome(qtbot) -> None:
    def work(progress, cancel):  # noqa: ANN001, ANN202
        raise KeyError("oops")

    worker = WorkerThread("Colorize", work)
    _run(worker, qtbot)
    error = worker.outcome.error
    assert isinstance(error, KeyError) and failure_detail(error) == "KeyError: 'oops'"
    assert "internal error" in describe_failure("Colorize", error)


def test_a_worker_reports_progress_and_its_result_after_it_ended(qtbot) -> None:
    reports: list[api.Progress] = []

    def work(progress, cancel):  # noqa: ANN001, ANN202
        for done in range(1, 4):
            progress(api.Progress("sum", done, 3))
        return 45

    worker = WorkerThread("Sum", work)
    worker.progress.connect(reports.append)
    _run(worker, qtbot)
    qtbot.waitUntil(lambda: len(reports) == 3)
    assert worker.outcome.result == 45 and reports[-1].fraction == 1.0


def test_plain_reasons_name_no_python_errors() -> None:
    cases = {
        FileNotFoundError(2, "No such file"): "The file does not exist (any more).",
        api.UnsupportedImage("/tmp/x.png: cannot decode image (Truncated File Read)"):
            "Cannot decode image.",
        ValueError("cannot open “b.ora”: not an OpenRaster (ZIP) file"):
            "Not an OpenRaster (ZIP) file.",
        ValueError("cannot open “b.ora”: damaged file (BadZipFile: Bad CRC-32)"):
            "Damaged file.",
        MemoryError(): "It is too large for the memory available.",
        KeyError(): "Its content could not be understood.",
    }  # fmt: skip
    for error, expected in cases.items():
        assert plain_reason(error) == expected


def test_the_thread_tracker_sees_a_running_thread(thread_tracker) -> None:
    thread = QThread()
    thread.start()  # runs an event loop until told to quit
    assert thread_tracker.running() == [thread]
    thread.quit()
    thread.wait()
    assert thread_tracker.running() == []


def test_the_error_box_puts_the_detail_behind_show_details(qtbot) -> None:
    box = dialogs.error_box(None, "Denoise failed", "No model.", "ModelUnavailable: x.pt")
    qtbot.addWidget(box)
    assert box.text() == "No model." and box.detailedText() == "ModelUnavailable: x.pt"
    assert dialogs.error_box(None, "t", "text").detailedText() == ""
    about = dialogs.about_box(None, "About", about_markdown())
    qtbot.addWidget(about)
    assert "Bringing-Old-Photos-Back-to-Life" in about.text()


def test_result_names_say_the_task_and_settings() -> None:
    assert result_name("Denoise", ["auto", "100%"], False) == "Denoise (auto, 100%)"
    assert result_name("Colorize", ["80%"], True) == "Colorize (80%, in mask)"
    assert result_name("Inpaint", [], False) == "Inpaint"


def test_the_canvas_adapter_reads_the_document(qapp) -> None:
    pixels = np.random.default_rng(1).integers(0, 65536, (10, 12, 3), dtype=np.uint16)
    document = Document(pixels)
    document.add_layer(np.zeros_like(pixels), "Black")
    source = DocumentSource(document)
    assert (source.width, source.height) == (12, 10)
    assert not source.composite_rgb8((0, 5, 0, 6)).any()
    original = source.original_rgb8((2, 4, 3, 5))
    assert original.dtype == np.uint8 and original.shape == (2, 2, 3)
    assert np.array_equal(original, ((pixels[2:4, 3:5].astype(np.uint32) + 128) // 257))
    assert source.mask is not None and source.mask.shape == (10, 12)


def test_resources_and_sample_labels() -> None:
    assert (resources_dir() / "samples" / "CREDITS.md").is_file()
    assert sample_label(resources_dir() / "samples" / "old_photo_g.png") == "Old photo G"
    bw = sample_label(resources_dir() / "samples" / "old_photo_b_bw.png")
    assert bw == "Old photo B (black and white)"
    text = about_markdown()
    assert "MIT" in text and "### Sample photos" in text


def test_void_qt_calls_do_not_exhaust_none() -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call and aborts
    the interpreter after a few thousand (why pyproject pins PySide6 below 6.12)."""
    code = (
        "from PySide6.QtWidgets import QApplication, QLabel\n"
        "app = QApplication([])\n"
        "label = QLabel()\n"
        "for _ in range(30_000): app.processEvents(); label.setText('x'); label.update()\n"
        "print('alive')\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and "alive" in result.stdout, result.stderr[-500:]
