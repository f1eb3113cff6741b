"""Colour pins and the colorizer: the live preview (a tiny hint-conditioned model, real
worker threads), stale previews cancelled, and Colorize passing the pins as hints — or
saying in one line that the installed colorizer takes none, keeping the pins."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from editor import hint_support
from editor.hint_support import NO_HINTS
from editor.main_window import MainWindow
from editor.preview import PREVIEW_PIXELS, PreviewRequest, PreviewRunner, scaled_hints, small_copy
from engine import api
from engine.archs import build_arch
from engine.weights import ModelEntry, save_weights, sha256_of, write_manifest

TIMEOUT_MS = 30000


@pytest.fixture(autouse=True)
def _fresh_hint_answers():
    hint_support.forget()
    yield
    hint_support.forget()


@pytest.fixture(scope="session")
def hint_resources(tmp_path_factory) -> Path:
    """A resources/ folder whose colorizer is a tiny hint-conditioned network."""
    root = tmp_path_factory.mktemp("hint_resources")
    folder = root / "weights"
    folder.mkdir()
    torch.manual_seed(0)
    net = build_arch("colorize_hint", base_channels=4, max_channels=8).eval()
    with torch.no_grad():  # a new network ignores its hints (their weight starts at 0)
        for name, parameter in net.named_parameters():
            if "hint" in name:
                parameter.normal_(0.0, 0.5)
    path = folder / "colorize.pt"
    save_weights(path, net, task="colorize", meta={"resolution": 256})
    entry = ModelEntry(
        "colorize", "colorize", "blind", path.name, sha256_of(path), path.stat().st_size
    )
    write_manifest(folder, [entry])
    return root


def _grey_photo(window: MainWindow, tmp_path: Path) -> MainWindow:
    ramp = np.linspace(0, 255, 48 * 64).reshape(48, 64, 1)
    grey = np.repeat(ramp, 3, axis=2).astype(np.uint8)
    path = tmp_path / "grey.png"
    api.write_image(path, grey)
    assert window.files.open_path(path)
    return window


def _place(window: MainWindow, qtbot, x: float, y: float) -> None:  # noqa: ANN001
    pos = window.canvas.map_from_image(QPointF(x, y)).toPoint()
    qtbot.mouseClick(window.canvas, Qt.MouseButton.LeftButton, pos=pos)


def _next_preview(window: MainWindow, qtbot, change) -> np.ndarray:  # noqa: ANN001
    with qtbot.waitSignal(window.hints.preview.ready, timeout=TIMEOUT_MS):
        change()
    qtbot.waitUntil(lambda: window.canvas.preview_pixels is not None, timeout=TIMEOUT_MS)
    return window.canvas.preview_pixels.copy()


def test_the_preview_follows_the_pins_with_a_hint_model(
    make_window, hint_resources: Path, tmp_path: Path, qtbot
) -> None:
    window = _grey_photo(make_window(engine_resources=hint_resources), tmp_path)
    automatic = _next_preview(window, qtbot, window.act.hint_tool.trigger)
    assert automatic.shape == (48, 64, 3) and automatic.dtype == np.uint8
    assert window.document.layers[0].name == "Original" and len(window.document.layers) == 1
    window.hint_panel.palette_button("Brick").click()
    pinned = _next_preview(window, qtbot, lambda: _place(window, qtbot, 20.5, 20.5))
    assert not np.array_equal(pinned, automatic)  # the pin changed the colours
    assert "Preview 64×48" in window.hint_panel.note.text()
    undone = _next_preview(window, qtbot, window.act.undo.trigger)
    assert np.array_equal(undone, automatic)  # the same input gives the same preview
    window.act.hint_tool.trigger()  # the tool off: the photo itself again
    assert window.canvas.preview_pixels is None


def test_colorize_passes_the_pins_as_hints_at_full_resolution(
    make_window, hint_resources: Path, tmp_path: Path, qtbot, monkeypatch
) -> None:
    window = _grey_photo(make_window(engine_resources=hint_resources), tmp_path)
    window.hint_panel.preview.setChecked(False)
    window.act.hint_tool.trigger()
    _place(window, qtbot, 10.5, 20.5)
    _place(window, qtbot, 40.5, 30.5)
    calls: list[dict] = []
    real_colorize = api.colorize

    def colorize(image: np.ndarray, **kwargs: object) -> np.ndarray:
        calls.append({"shape": image.shape, **kwargs})
        return real_colorize(image, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(api, "colorize", colorize)
    with qtbot.waitSignal(window.tasks.ended, timeout=TIMEOUT_MS) as ended:
        window.act.colorize.trigger()
    assert ended.args == ["finished"]
    (call,) = calls
    assert call["shape"] == (48, 64, 3)  # the whole photo, not the preview's copy
    assert call["hints"] == window.document.colour_hints() and len(call["hints"]) == 2
    assert [x.name for x in window.document.layers] == ["Original", "Colorize (100%, 2 pins)"]
    assert window.document.layers[1].pixels.shape == (48, 64, 3)


def test_with_a_colorizer_that_takes_no_hints_pins_stay_and_one_line_says_so(
    engine_window: MainWindow, tmp_path: Path, qtbot, dialogs
) -> None:
    window = _grey_photo(engine_window, tmp_path)
    window.hint_panel.preview.setChecked(False)
    window.act.hint_tool.trigger()
    _place(window, qtbot, 10.5, 20.5)
    with qtbot.waitSignal(window.hints.preview.ready, timeout=TIMEOUT_MS):
        window.hint_panel.preview.setChecked(True)  # the worker finds out: no hints
    assert len(window.document.pins) == 1  # kept in the document
    assert window.canvas.preview_pixels is None
    assert window.hint_panel.note.text() == NO_HINTS
    assert window.statusBar().currentMessage() == NO_HINTS
    _next_preview(window, qtbot, window.act.undo.trigger)  # no pins: the automatic preview
    assert window.hint_panel.note.text().startswith("Preview 64×48")
    window.act.redo.trigger()  # known by now: no run, the line at once
    qtbot.waitUntil(lambda: window.hint_panel.note.text() == NO_HINTS, timeout=TIMEOUT_MS)
    assert window.canvas.preview_pixels is None and not window.hints.preview.busy
    window.statusBar().clearMessage()
    window.act.colorize.trigger()  # refused at once, no job
    assert not window.runner.busy and window.statusBar().currentMessage() == NO_HINTS
    assert len(window.document.layers) == 1 and dialogs.errors == []


def test_colorize_not_yet_knowing_the_model_refuses_the_pins_in_one_line(
    engine_window: MainWindow, tmp_path: Path, qtbot, dialogs
) -> None:
    window = _grey_photo(engine_window, tmp_path)
    window.hint_panel.preview.setChecked(False)
    window.act.hint_tool.trigger()
    _place(window, qtbot, 10.5, 20.5)
    with qtbot.waitSignal(window.tasks.ended, timeout=TIMEOUT_MS) as ended:
        window.act.colorize.trigger()
    assert ended.args == ["failed"] and dialogs.errors == []
    assert window.statusBar().currentMessage() == NO_HINTS
    assert len(window.document.layers) == 1 and len(window.document.pins) == 1


def test_a_newer_request_cancels_the_stale_preview(qtbot, monkeypatch) -> None:
    from editor.doc import Document

    started = threading.Event()
    calls: list[tuple[api.ColourHint, ...]] = []

    def colorize(image: np.ndarray, *, hints=(), cancel=None, **_: object) -> np.ndarray:  # noqa: ANN001
        calls.append(tuple(hints))
        if len(calls) == 1:  # the first run waits until it is cancelled
            started.set()
            for _ in range(500):
                cancel.raise_if_cancelled()
                threading.Event().wait(0.01)
        return image

    monkeypatch.setattr(api, "colorize", colorize)
    monkeypatch.setattr("editor.preview.colorizer_takes_hints", lambda _options: True)
    document = Document(np.zeros((30, 40, 3), np.uint8))
    runner = PreviewRunner()
    results: list[object] = []
    runner.ready.connect(results.append)
    hint = api.ColourHint(5, 5, (200, 0, 0))
    runner.request(PreviewRequest(document, (), 1.0, api.RunOptions()))
    assert started.wait(10)
    newer = PreviewRequest(document, (hint,), 1.0, api.RunOptions())
    runner.request(newer)
    newest = PreviewRequest(document, (hint, hint), 1.0, api.RunOptions())
    runner.request(newest)  # replaces `newer`, which never runs
    qtbot.waitUntil(lambda: bool(results) and not runner.busy, timeout=TIMEOUT_MS)
    assert [r.request for r in results] == [newest]  # type: ignore[attr-defined]
    assert calls == [(), (hint, hint)]


def test_closing_the_window_stops_a_running_preview(
    make_window, hint_resources: Path, tmp_path: Path, qtbot
) -> None:
    window = _grey_photo(make_window(engine_resources=hint_resources), tmp_path)
    window.act.hint_tool.trigger()
    qtbot.waitUntil(lambda: window.hints.preview.busy, timeout=TIMEOUT_MS)
    window.close()  # joins the preview thread: the fixture finds none running
    assert not window.hints.preview.busy


def test_the_small_copy_is_at_most_a_megapixel_and_8_bit() -> None:
    big = np.full((1500, 2000, 3), 40000, np.uint16)
    small = small_copy(big)
    assert small.dtype == np.uint8 and small.shape[0] * small.shape[1] <= PREVIEW_PIXELS
    assert small.shape[:2] == (866, 1154) and int(small[0, 0, 0]) == round(40000 / 257)
    tiny = np.zeros((10, 20, 3), np.uint8)
    assert small_copy(tiny).shape == (10, 20, 3)
    hints = scaled_hints((api.ColourHint(1999.99, 0, (1, 2, 3)),), (2000, 1500), (1154, 866))
    assert hints[0].x < 1154 and hints[0].y == 0
