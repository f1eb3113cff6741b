"""The editor's smaller parts: the worker threads, failure messages, dialogs' boxes, the
colour check, result names, the canvas adapter, resources, and the None guard."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
from PySide6.QtCore import QThread

from editor import dialogs
from editor.colour import colourfulness, has_colour
from editor.doc import Document
from editor.resources import about_markdown, resources_dir, sample_label, sample_photos
from editor.source import DocumentSource
from editor.tasks import result_name
from editor.worker import BackgroundTask, FunctionThread, describe_failure, failure_detail
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


def test_a_result_after_cancel_is_not_applied(qtbot) -> None:
    release = threading.Event()

    def job(progress, cancel):  # noqa: ANN001, ANN202
        release.wait(5)
        return np.zeros((2, 2, 3), np.uint8)  # finishes although cancel was asked

    task = BackgroundTask("Denoise", job)
    with qtbot.waitSignal(task.worker.cancelled, timeout=5000):
        task.start()
        task.cancel()
        release.set()
    task.stop(cancel=False)
    assert not task.is_running()


def test_an_engine_bug_reaches_the_window_as_a_message(qtbot) -> None:
    def job(progress, cancel):  # noqa: ANN001, ANN202
        raise KeyError("oops")

    task = BackgroundTask("Colorize", job)
    with qtbot.waitSignal(task.worker.failed, timeout=5000) as failed:
        task.start()
    task.stop(cancel=False)
    message, detail = failed.args
    assert "internal error" in message and detail == "KeyError: 'oops'"


def test_a_function_thread_reports_after_it_ended(qtbot) -> None:
    thread = FunctionThread("Sum", lambda: sum(range(10)))
    with qtbot.waitSignal(thread.done, timeout=5000) as done:
        thread.start()
    assert done.args == [45] and not thread.isRunning()
    failing = FunctionThread("Fail", lambda: 1 / 0)
    with qtbot.waitSignal(failing.error, timeout=5000) as error:
        failing.start()
    assert error.args == ["ZeroDivisionError: division by zero"]


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


def test_toned_prints_are_not_colour_photos() -> None:
    ramp = np.linspace(0.0, 1.0, 64 * 48).reshape(48, 64, 1)
    grey = np.repeat(ramp, 3, axis=2)
    sepia = np.concatenate([ramp**0.8, ramp**0.95, ramp**1.25], axis=2)  # warm, uneven tone
    for toned in (grey, sepia):
        assert not has_colour((toned * 255).astype(np.uint8))
        assert not has_colour((toned * 65535).astype(np.uint16))
    # The bundled samples are faded early colour photos: they count as colour...
    samples = sample_photos()
    assert any(sample.stem.endswith("_bw") for sample in samples)
    for sample in samples:
        pixels = api.read_image(sample).pixels
        if sample.stem.endswith("_bw"):  # ...but the black-and-white one, made to colorize
            assert not has_colour(pixels), sample.name
            continue
        assert has_colour(pixels), sample.name
        # ...and the same photos toned to one colour do not.
        tone = pixels.mean(axis=2, keepdims=True) / 255.0
        toned = np.concatenate([tone**0.8, tone**0.95, tone**1.25], axis=2)
        assert colourfulness((toned * 255).astype(np.uint8)) < 2.5, sample.name


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
