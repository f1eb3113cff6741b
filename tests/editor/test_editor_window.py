"""The main window: opening, saving, drag-and-drop, unsaved-changes prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_support import write_png
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QMessageBox

from editor import app
from editor.main_window import MainWindow
from engine import api


def test_opening_a_png_shows_it_and_its_size(window: MainWindow, png) -> None:
    path, pixels = png
    assert window.open_path(path)
    assert np.array_equal(window.document.pixels, pixels)
    assert "64 × 48 px" in window.info_label.text()
    assert "8-bit RGB" in window.info_label.text()
    assert window.view.has_image
    assert window.windowTitle().startswith("photo.png")
    assert window.denoise_action.isEnabled() and window.save_as_action.isEnabled()


def test_a_16_bit_image_is_reported_as_such(window: MainWindow, monkeypatch, tmp_path) -> None:
    deep = np.full((30, 40, 3), 40000, np.uint16)
    loaded = api.LoadedImage(pixels=deep, alpha=None, meta=None)
    monkeypatch.setattr(api, "read_image", lambda _path: loaded)
    assert window.open_path(tmp_path / "deep.tif")
    assert "40 × 30 px · 16-bit RGB" in window.info_label.text()
    # Shown at 8 bits: 40000 * 255 / 65535 ≈ 155.6, rounded.
    shown = window.view._item.pixmap().toImage().pixelColor(0, 0)
    assert shown.red() == 156


def test_a_corrupt_file_is_reported_and_the_previous_image_kept(
    window: MainWindow, png, tmp_path: Path, dialogs
) -> None:
    path, pixels = png
    window.open_path(path)
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    assert not window.open_path(corrupt)
    title, text = dialogs.errors[-1]
    assert title == "Cannot open image"
    assert "broken.png could not be opened" in text
    assert "Traceback" not in text
    assert np.array_equal(window.document.pixels, pixels)
    assert window.document.path == path
    assert "64 × 48 px" in window.info_label.text()


def test_save_as_writes_a_file_that_reads_back(window: MainWindow, png, tmp_path, dialogs) -> None:
    path, pixels = png
    window.open_path(path)
    out = tmp_path / "saved"  # no suffix: the chosen filter's is added
    dialogs.save_name = str(out)
    window.save_as_action.trigger()
    saved = tmp_path / "saved.png"
    assert saved.is_file()
    assert np.array_equal(np.asarray(Image.open(saved).convert("RGB")), pixels)
    assert np.array_equal(api.read_image(saved).pixels, pixels)
    assert window.document.path == saved and not window.document.modified
    assert dialogs.errors == []


def test_a_failed_save_keeps_the_image_and_says_why(
    window: MainWindow, png, tmp_path, dialogs, monkeypatch
) -> None:
    path, pixels = png
    window.open_path(path)

    def refuse(*_args, **_kwargs) -> None:
        raise api.ImageWriteError("the disk is full")

    monkeypatch.setattr(api, "write_image", refuse)
    dialogs.save_name = str(tmp_path / "out.png")
    assert not window.save_as()
    assert "out.png could not be saved: the disk is full" in dialogs.last_error
    assert np.array_equal(window.document.pixels, pixels)
    assert window.document.path == path


def test_save_as_refuses_an_unknown_file_type(window: MainWindow, png, tmp_path, dialogs) -> None:
    window.open_path(png[0])
    dialogs.save_name = str(tmp_path / "out.xyz")
    assert not window.save_as()
    assert "not a supported image type" in dialogs.last_error
    assert not (tmp_path / "out.xyz").exists()


def _modify(window: MainWindow) -> None:
    pixels = window.document.pixels
    window.document.apply(255 - pixels)
    assert window.document.modified and window.isWindowModified()


def test_unsaved_changes_cancel_stops_open_and_close(window: MainWindow, png, tmp_path, dialogs):
    window.open_path(png[0])
    _modify(window)
    changed = window.document.pixels
    other = tmp_path / "other.png"
    write_png(other, seed=1)
    dialogs.unsaved_answer = QMessageBox.StandardButton.Cancel
    assert not window.open_path(other)
    assert window.document.pixels is changed
    assert not window.close()
    assert window.isVisible()
    assert len(dialogs.questions) == 2 and "not saved" in dialogs.questions[0]


def test_unsaved_changes_save_answer_saves_before_opening(
    window: MainWindow, png, tmp_path, dialogs
) -> None:
    window.open_path(png[0])
    _modify(window)
    changed = np.array(window.document.pixels)
    other = tmp_path / "other.png"
    other_pixels = write_png(other, seed=1)
    dialogs.unsaved_answer = QMessageBox.StandardButton.Save
    dialogs.save_name = str(tmp_path / "kept.png")
    assert window.open_path(other)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "kept.png")), changed)
    assert np.array_equal(window.document.pixels, other_pixels)


def test_unsaved_changes_discard_lets_the_window_close(window: MainWindow, png, dialogs) -> None:
    window.open_path(png[0])
    _modify(window)
    dialogs.unsaved_answer = QMessageBox.StandardButton.Discard
    assert window.close()
    assert not window.isVisible()


def test_revert_restores_the_loaded_pixels(window: MainWindow, png) -> None:
    path, pixels = png
    window.open_path(path)
    assert not window.revert_action.isEnabled()
    _modify(window)
    assert window.revert_action.isEnabled()
    window.revert_action.trigger()
    assert np.array_equal(window.document.pixels, pixels)
    assert not window.document.modified and not window.isWindowModified()


def _drop_event(cls, path: Path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = cls(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier(0),
    )
    return event, mime  # the mime data must outlive the event


def test_dropping_an_image_file_opens_it(window: MainWindow, png, qtbot) -> None:
    path, pixels = png
    enter, _keep = _drop_event(QDragEnterEvent, path)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop, _keep2 = _drop_event(QDropEvent, path)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: window.document.path == path)
    assert np.array_equal(window.document.pixels, pixels)


def test_dragging_a_non_image_is_refused(window: MainWindow, tmp_path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    enter, _keep = _drop_event(QDragEnterEvent, text)
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_fit_scales_the_image_into_the_view(window: MainWindow, tmp_path, qtbot) -> None:
    big = tmp_path / "big.png"
    write_png(big, width=3000, height=1000)
    window.open_path(big)
    window.view.actual_size()
    assert window.view.scale_factor() == pytest.approx(1.0)
    window.fit_action.trigger()
    shown = window.view.mapFromScene(window.view.sceneRect()).boundingRect()
    viewport = window.view.viewport().rect()
    assert shown.width() <= viewport.width() + 2
    assert shown.width() >= viewport.width() - 4  # the wide image fills the width


def test_command_line_image_is_opened_at_start(qtbot, png) -> None:
    path, pixels = png
    win = app.create_window(path)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.document.path == path)
    assert np.array_equal(win.document.pixels, pixels)


def test_command_line_help_and_errors(capsys) -> None:
    assert app.main(["editor", "--help"]) == 0
    assert "usage: python -m editor [IMAGE]" in capsys.readouterr().out
    assert app.main(["editor", "a.png", "b.png"]) == 2
    assert "at most one image" in capsys.readouterr().err
    assert app.main(["editor", "--bogus"]) == 2
    assert "unknown option: --bogus" in capsys.readouterr().err


def test_menus_and_shortcuts(window: MainWindow) -> None:
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "Restore", "View"]
    items = {name: [a.text().replace("&", "") for a in m.actions()] for name, m in menus.items()}
    assert items["File"][:2] == ["Open…", "Save As…"] and items["File"][-1] == "Quit"
    assert items["Restore"] == ["Denoise", "Colorize"]
    assert "Fit" in items["View"]
    assert window.open_action.shortcut() == QKeySequence("Ctrl+O")
    assert window.save_as_action.shortcut() == QKeySequence("Ctrl+Shift+S")
    # Nothing to restore or save before an image is open.
    assert not window.denoise_action.isEnabled() and not window.save_as_action.isEnabled()


def test_display_conversion_keeps_colour_and_alpha(qtbot) -> None:
    from editor.display import to_8bit, to_qimage

    deep = np.array([0, 257, 32896, 65535], np.uint16)
    assert to_8bit(deep).tolist() == [0, 1, 128, 255]
    pixels = np.zeros((2, 3, 3), np.uint8)
    pixels[1, 2] = (10, 20, 30)
    alpha = np.full((2, 3), 200, np.uint8)
    image = to_qimage(pixels, alpha)
    assert (image.width(), image.height()) == (3, 2) and image.hasAlphaChannel()
    colour = image.pixelColor(2, 1)
    assert (colour.red(), colour.green(), colour.blue(), colour.alpha()) == (10, 20, 30, 200)
