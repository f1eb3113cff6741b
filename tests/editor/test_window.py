"""The main window: start-up, empty state, menus and shortcuts, opening by drop, dialog,
command line, recent files and samples, preferences, the engine loading in the background."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from editor_support import write_png
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication

from editor import app, main_window, recovery
from editor.main_window import MainWindow
from editor.resources import sample_photos
from editor.settings import Preferences

ROOT = Path(__file__).resolve().parents[2]


def _drop(target, paths: list[Path], cls=QDropEvent):  # noqa: ANN001, ANN202
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    # QDragEnterEvent takes an integer QPoint, QDropEvent a QPointF.
    position = QPointF(30, 30) if cls is QDropEvent else QPoint(30, 30)
    event = cls(
        position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(target, event)
    return event, mime  # the mime data must outlive the event


def test_the_empty_window_invites_a_drop_and_offers_samples(window: MainWindow) -> None:
    assert window.document is None and window.windowTitle() == "Restoration Editor"
    assert window.canvas.source is None
    assert window.canvas.INVITATION == "Drop a photo here, or open a sample"
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(menus) == ["File", "Edit", "View", "Mask", "Restore", "Help"]
    file_items = [a.text().replace("&", "") for a in menus["File"].actions()]
    assert "Open Sample Photo" in file_items and "Open Recent" in file_items
    assert [a.text() for a in window.samples_menu.actions()] == [
        "Old photo A", "Old photo B", "Old photo B (black and white)", "Old photo G",
        "Old photo H",
    ]  # fmt: skip
    # Nothing to restore, save or zoom before a photo is open.
    for action in (window.act.denoise, window.act.save, window.act.export, window.act.fit):
        assert not action.isEnabled()
    docks = {dock.windowTitle(): dock.isVisible() for dock in window.docks}
    assert docks == {
        "Tools": True, "Restore": True, "Layers": True, "Colour Hints": True, "History": True
    }  # fmt: skip


def test_a_sample_photo_opens_from_the_menu(window: MainWindow) -> None:
    window.samples_menu.actions()[1].trigger()
    assert window.document is not None and window.document.name == "old_photo_b"
    assert window.document.shape == (900, 644, 3)
    assert "644 × 900 px · 8-bit RGB" in window.info_label.text()
    assert window.canvas.source is not None and window.act.denoise.isEnabled()


def test_about_shows_the_sample_photos_credits(window: MainWindow, dialogs) -> None:
    window.act.about.trigger()
    (text,) = dialogs.abouts
    assert "Restoration Editor" in text
    assert "microsoft/Bringing-Old-Photos-Back-to-Life" in text and "MIT" in text


def test_dropping_a_file_on_the_canvas_opens_it(window: MainWindow, png, qtbot) -> None:
    path, pixels = png
    enter, _keep = _drop(window.canvas, [path], QDragEnterEvent)
    assert enter.isAccepted()
    _event, _keep2 = _drop(window.canvas, [path])
    qtbot.waitUntil(lambda: window.document is not None)
    assert window.document.path == path
    assert np.array_equal(window.document.original.pixels, pixels)
    assert window.windowTitle().startswith("photo")


def test_dropping_on_the_window_and_several_files_at_once(
    window: MainWindow, png, tmp_path: Path, qtbot
) -> None:
    second = tmp_path / "second.png"
    write_png(second, seed=3)
    enter, _keep = _drop(window, [png[0], second], QDragEnterEvent)
    assert enter.isAccepted()  # Qt delivers a drop only after an accepted enter
    _event, _keep2 = _drop(window, [png[0], second])
    qtbot.waitUntil(lambda: window.document is not None)
    assert window.document.path == png[0]
    # One photo per window: the second file got a window of its own.
    others = [w for w in main_window._spawned if w is not window]
    assert len(others) == 1
    other = others[0]  # deleted on close (WA_DeleteOnClose): not given to qtbot
    try:
        assert other.document is not None and other.document.path == second
        assert other.isVisible() and other.devices == window.devices
    finally:
        assert other.close()
    assert other not in main_window._spawned


def test_open_dialog_and_recent_files(window: MainWindow, png, tmp_path, dialogs) -> None:
    second = tmp_path / "second.png"
    write_png(second, seed=2)
    dialogs.open_path = png[0]
    window.act.open.trigger()
    assert window.document.path == png[0]
    assert window.files.open_path(second)
    window.fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert texts == ["&1 second.png", "&2 photo.png"]
    window.recent_menu.actions()[1].trigger()  # reopen photo.png from the menu
    assert window.document.path == png[0]
    # Recent files live in the injected settings file, not the user's.
    window.settings.sync()
    assert "photo.png" in Path(window.settings.fileName()).read_text()


def test_a_corrupt_file_shows_an_error_and_keeps_the_document(
    opened: MainWindow, tmp_path: Path, dialogs
) -> None:
    document = opened.document
    pixels = np.array(document.original.pixels)
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    assert not opened.files.open_path(corrupt)
    title, text, detail = dialogs.last_error
    assert title == "Cannot open file"
    assert text.startswith("“broken.png” could not be opened.\nCannot decode image.\n")
    assert "unchanged" in text
    assert detail and "Traceback" not in text + detail
    assert opened.document is document
    assert np.array_equal(opened.document.original.pixels, pixels)
    bad_ora = tmp_path / "broken.ora"
    bad_ora.write_bytes(b"PK\x03\x04 not a zip")
    assert not opened.files.open_path(bad_ora)
    assert "“broken.ora” could not be opened" in dialogs.last_error[1]
    assert opened.document is document


def test_zoom_shortcuts_and_view_toggles(opened: MainWindow) -> None:
    act, canvas = opened.act, opened.canvas
    assert act.zoom_in.shortcuts() == [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")]
    assert act.zoom_out.shortcut() == QKeySequence("Ctrl+-")
    assert act.fit.shortcut() == QKeySequence("Ctrl+0")
    assert act.actual_size.shortcut() == QKeySequence("Ctrl+1")
    assert act.undo.shortcut() == QKeySequence("Ctrl+Z")
    assert act.redo.shortcuts() == [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
    act.actual_size.trigger()
    assert canvas.zoom == 1.0 and opened.zoom_label.text() == "100 %"
    act.zoom_in.trigger()
    assert canvas.zoom > 1.0
    act.zoom_out.trigger()
    act.zoom_out.trigger()
    assert canvas.zoom < 1.0
    act.fit.trigger()
    assert canvas.fitting
    act.split.trigger()
    assert canvas.split_enabled
    act.show_mask.trigger()
    assert not canvas.mask_visible


def test_preferences_offer_the_known_devices_and_change_the_device(
    window: MainWindow, dialogs, settings_file
) -> None:
    assert window.device_label.text() == "CPU"
    dialogs.preferences = Preferences(device="cuda", tile=512, threads=2)
    window.act.preferences.trigger()
    assert dialogs.preferences_asked == [["cpu"]]
    assert Preferences.load(settings_file) == Preferences(device="cuda", tile=512, threads=2)
    assert window.run_options().tile == 512 and window.run_options().threads == 2
    assert window.device_label.text() == "CPU (CUDA GPU is not available; using Auto)"
    assert window.run_options().device == "auto"  # not "cuda": every run would fail
    window.devices = ["cpu", "cuda"]
    assert window.run_options().device == "cuda"


def test_the_tile_size_is_automatic_or_at_least_64(qtbot, settings_file) -> None:
    from editor.settings import PreferencesDialog

    dialog = PreferencesDialog(Preferences(tile=0), None)
    qtbot.addWidget(dialog)
    assert dialog.tile.text() == "Automatic" and dialog.preferences().tile == 0
    for typed, kept in ((1, 0), (31, 0), (63, 0), (64, 64), (512, 512), (9999, 4096)):
        dialog.tile.setValue(typed)
        assert dialog.preferences().tile == kept
    dialog.tile.setValue(63)
    dialog.tile.stepBy(1)
    assert dialog.preferences().tile == 64
    dialog.tile.stepBy(1)
    assert dialog.preferences().tile == 128
    dialog.tile.stepBy(-2)
    assert dialog.tile.text() == "Automatic" and dialog.preferences().tile == 0
    settings_file.setValue("engine/tile", 16)  # written by an older version
    assert Preferences.load(settings_file).tile == 0
    assert Preferences(tile=16).run_options().tile is None


def test_precision_is_a_preference_that_reaches_the_engine(qtbot, settings_file) -> None:
    from editor.settings import PreferencesDialog
    from engine import api

    dialog = PreferencesDialog(Preferences(), None)
    qtbot.addWidget(dialog)
    assert dialog.preferences().precision == "auto"
    dialog.precision.setCurrentIndex(dialog.precision.findData("full"))
    chosen = dialog.preferences()
    chosen.save(settings_file)
    assert Preferences.load(settings_file).run_options().precision is api.Precision.FULL
    settings_file.setValue("engine/precision", "quarter")  # unknown: back to the default
    assert Preferences.load(settings_file).precision == "auto"


def test_the_preferences_dialog_enables_only_available_devices(qtbot) -> None:
    from editor.settings import PreferencesDialog

    dialog = PreferencesDialog(Preferences(), ["cpu"])
    qtbot.addWidget(dialog)
    model = dialog.device.model()
    enabled = {dialog.device.itemData(i): model.item(i).isEnabled() for i in range(4)}
    assert enabled == {"auto": True, "cuda": False, "mps": False, "cpu": True}


def test_the_engine_loads_in_the_background_after_the_window_shows(
    make_window, qtbot, thread_tracker
) -> None:
    window = make_window(devices=None)
    assert window.device_label.text() == ""
    window.start_engine_loading()
    assert window.device_label.text() == "Loading engine…"
    assert [t.objectName() for t in thread_tracker.running()] == ["Engine loader"]
    qtbot.waitUntil(lambda: window.devices is not None, timeout=30000)
    assert "cpu" in window.devices
    assert window.device_label.text() in ("CPU", "CUDA GPU", "Apple GPU (MPS)")


def test_the_window_is_created_without_importing_torch(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        import editor.main_window
        app = QApplication([])
        settings = QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat)
        window = editor.main_window.MainWindow(
            settings=settings, recovery_dir=Path({str(tmp_path / "rec")!r})
        )
        window.show()
        window.files.open_path(Path({str(ROOT / "resources/samples/old_photo_a.png")!r}))
        assert window.runner.busy  # read on a thread
        window.files.wait_for_job()
        assert window.document is not None
        assert "torch" not in sys.modules, "torch was imported before the engine loads"
        print("ok")
        """
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_command_line_files_open_at_start(qtbot, png, tmp_path, monkeypatch) -> None:
    # create_window makes a MainWindow with the default places: point them at tmp_path.
    ini = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(main_window.settings_module, "settings", lambda: ini)
    monkeypatch.setattr(recovery, "default_recovery_dir", lambda: tmp_path / "recovery")
    monkeypatch.setattr(MainWindow, "start_engine_loading", lambda self: None)
    window = app.create_window([png[0]])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.document is not None)
    assert window.document.path == png[0]


def test_command_line_help_and_errors(capsys) -> None:
    assert app.main(["editor", "--help"]) == 0
    assert "usage: python -m editor [FILES...]" in capsys.readouterr().out
    assert app.main(["editor", "--bogus"]) == 2
    assert "unknown option: --bogus" in capsys.readouterr().err


def test_samples_exist_and_are_listed() -> None:
    names = [p.name for p in sample_photos()]
    assert names == [
        "old_photo_a.png", "old_photo_b.png", "old_photo_b_bw.png", "old_photo_g.png",
        "old_photo_h.png",
    ]  # fmt: skip


def test_restorations_and_cancel_have_shortcuts_shown_in_menus_and_tooltips(
    window: MainWindow,
) -> None:
    act = window.act
    expected = {
        act.denoise: "Ctrl+Shift+D", act.inpaint: "Ctrl+Shift+I", act.colorize: "Ctrl+Shift+C",
        act.cancel: "Esc",
    }  # fmt: skip
    for action, key in expected.items():
        assert action.shortcut() == QKeySequence(key)
        native = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
        assert action.toolTip().endswith(f"({native})")
    # No two actions of the window share a shortcut.
    keys = [key.toString() for action in window.findChildren(QAction) for key in action.shortcuts()]
    assert len(keys) == len(set(keys)), sorted(keys)
    restore = {a.text().replace("&", ""): a for a in window.menuBar().actions()}["Restore"]
    assert act.denoise in restore.menu().actions()  # the menu shows its shortcut


def test_the_brush_size_is_remembered_across_sessions(make_window, settings_file) -> None:
    first = make_window()
    first.tools_panel.size.setValue(37)
    assert first.close()
    second = make_window()
    assert second.tools_panel.size.value() == 37 and second.canvas.brush_radius == 18.5


def test_history_names_the_opened_photo(window: MainWindow, png) -> None:
    assert window.history_view.emptyLabel() == "No photo open"
    assert window.files.open_path(png[0])
    assert window.history_view.emptyLabel() == "Opened photo.png"
    window.samples_menu.actions()[1].trigger()
    assert window.history_view.emptyLabel() == "Opened old_photo_b.png"


def test_a_thread_count_above_this_machine_is_clamped_so_runs_still_work(
    qtbot, settings_file
) -> None:
    from editor.settings import PreferencesDialog
    from engine import api

    settings_file.setValue("engine/threads", api.thread_limit() + 7)  # from a bigger machine
    loaded = Preferences.load(settings_file)
    assert loaded.threads == api.thread_limit()
    assert loaded.run_options().threads == api.thread_limit()  # within the engine's range
    settings_file.setValue("engine/threads", -3)
    assert Preferences.load(settings_file).threads == 0  # torch's default
    dialog = PreferencesDialog(Preferences(), None)
    qtbot.addWidget(dialog)
    assert dialog.threads.maximum() == api.thread_limit()
