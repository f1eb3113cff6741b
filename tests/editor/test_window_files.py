"""Files from the window: OpenRaster save/load, export keeping metadata and depth, the
unsaved-changes prompt, autosave and crash recovery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from editor_support import write_png
from PIL import Image, ImageCms

from editor import files, recovery
from editor.dialogs import Recovery, Unsaved
from editor.doc import Document, find_recoveries, load_ora, recovery_path, write_recovery
from editor.main_window import MainWindow
from engine import api

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _modify(window: MainWindow) -> None:
    mask = np.zeros(window.document.shape[:2], bool)
    mask[2:6, 3:9] = True
    window.edits.add_to_mask(mask, "Paint mask")
    pixels = np.full(window.document.shape, 7, window.document.dtype)
    window.edits.add_result(pixels, "Denoise (auto, 100%)", None, clear_mask=False)
    assert window.is_modified and window.isWindowModified()


def test_save_as_ora_and_open_it_again(opened: MainWindow, tmp_path: Path, dialogs) -> None:
    _modify(opened)
    opened.document.set_opacity(opened.document.layers[1].id, 0.5)
    composite, mask = opened.document.composite(), opened.document.mask.copy()
    dialogs.save_path = tmp_path / "restored.png"  # the suffix becomes .ora
    opened.act.save.trigger()  # never saved as .ora: Save asks for a name
    saved = tmp_path / "restored.ora"
    assert saved.is_file() and dialogs.save_captions == ["Save As"]
    assert not opened.is_modified and opened.windowTitle().startswith("restored")
    assert opened.document.path == saved
    # Save again goes to the same file without asking.
    opened.act.save.trigger()
    assert dialogs.save_captions == ["Save As"]
    photo = tmp_path / "photo.png"
    assert opened.files.open_path(photo)
    assert opened.document.path == photo
    assert opened.files.open_path(saved)
    document = opened.document
    assert [x.name for x in document.layers] == ["Original", "Denoise (auto, 100%)"]
    assert document.layers[1].opacity == 0.5
    assert np.array_equal(document.composite(), composite)
    assert np.array_equal(document.mask, mask)
    assert isinstance(document.meta, api.ImageMeta)  # rebuilt by engine_meta_factory
    assert not opened.is_modified and opened.history.count() == 0


def test_export_keeps_exif_icc_and_16_bit(window: MainWindow, tmp_path: Path, dialogs) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x013B] = "Ansel Adams"
    pixels = np.random.default_rng(5).integers(0, 65536, (24, 32, 3), dtype=np.uint16)
    source = tmp_path / "deep.png"
    meta = api.ImageMeta("PNG", "RGB;16", 16, False, exif.tobytes(), SRGB_ICC)
    api.write_image(source, pixels, meta=meta)
    assert window.files.open_path(source)
    assert "16-bit RGB" in window.info_label.text()
    layer = np.full(pixels.shape, 1000, np.uint16)
    coverage = np.zeros(pixels.shape[:2], np.uint8)
    coverage[:, :16] = 255
    window.edits.add_result(layer, "Left half", coverage, clear_mask=False)
    dialogs.save_path, dialogs.save_filter = tmp_path / "out", "TIFF (*.tif *.tiff)"
    window.act.export.trigger()
    out = tmp_path / "out.tif"
    back = api.read_image(out)
    expected = pixels.copy()
    expected[:, :16] = 1000
    assert back.pixels.dtype == np.uint16 and np.array_equal(back.pixels, expected)
    assert back.meta.icc_profile == SRGB_ICC
    assert back.meta.exif is not None
    read_exif = Image.Exif()
    read_exif.load(back.meta.exif[6:] if back.meta.exif.startswith(b"Exif") else back.meta.exif)
    assert read_exif[0x013B] == "Ansel Adams" and read_exif[0x010F] == "Canon"
    assert window.is_modified  # an export is not a save of the layered document


def test_export_jpeg_asks_the_quality_and_refuses_other_types(
    opened: MainWindow, tmp_path: Path, dialogs
) -> None:
    dialogs.save_path, dialogs.quality = tmp_path / "small.jpg", 40
    assert opened.files.export()
    low = (tmp_path / "small.jpg").stat().st_size
    dialogs.save_path, dialogs.quality = tmp_path / "big.jpg", 100
    assert opened.files.export()
    assert (tmp_path / "big.jpg").stat().st_size > low
    dialogs.quality = None  # cancelled
    dialogs.save_path = tmp_path / "none.jpg"
    assert not opened.files.export() and not (tmp_path / "none.jpg").exists()
    dialogs.save_path = tmp_path / "out.gif"
    assert not opened.files.export()
    assert "export as .png, .jpg or .tif" in dialogs.last_error[1]


def test_unsaved_changes_cancel_keeps_everything(
    opened: MainWindow, tmp_path: Path, dialogs
) -> None:
    _modify(opened)
    document = opened.document
    other = tmp_path / "other.png"
    write_png(other, seed=1)
    dialogs.unsaved_answer = Unsaved.CANCEL
    assert not opened.files.open_path(other)
    assert opened.document is document
    assert not opened.close() and opened.isVisible()
    assert dialogs.unsaved == ["photo", "photo"]


def test_unsaved_changes_save_saves_first(opened: MainWindow, tmp_path: Path, dialogs) -> None:
    _modify(opened)
    other = tmp_path / "other.png"
    write_png(other, seed=1)
    dialogs.unsaved_answer = Unsaved.SAVE
    dialogs.save_path = tmp_path / "kept.ora"
    assert opened.files.open_path(other)
    kept = load_ora(tmp_path / "kept.ora")
    assert [x.name for x in kept.layers] == ["Original", "Denoise (auto, 100%)"]
    assert opened.document.path == other and not opened.is_modified
    # Save cancelled in its dialog: nothing is replaced.
    _modify(opened)
    dialogs.save_path = None
    document = opened.document
    assert not opened.files.open_path(tmp_path / "kept.ora")
    assert opened.document is document


def test_a_failed_save_says_why_and_keeps_the_work(
    opened: MainWindow, tmp_path: Path, dialogs
) -> None:
    _modify(opened)
    dialogs.save_path = tmp_path / "missing-folder" / "x.ora"
    assert not opened.files.save_as()
    title, text, detail = dialogs.last_error
    assert title == "Cannot save" and "could not be saved" in text and detail
    assert opened.is_modified


def test_autosave_writes_a_recovery_copy_and_a_clean_close_discards_it(
    opened: MainWindow, recovery_dir: Path, qtbot, thread_tracker
) -> None:
    assert recovery.AUTOSAVE_MS == 3 * 60 * 1000 and opened.recovery.autosave_timer.isActive()
    assert not opened.recovery.autosave()  # nothing changed: nothing to recover
    _modify(opened)
    assert opened.recovery.autosave()
    assert [t.objectName() for t in thread_tracker.started] == ["Autosave"]
    qtbot.waitUntil(lambda: not opened.runner.active)
    (copy,) = find_recoveries(recovery_dir)
    restored = load_ora(copy, restore_identity=True)
    assert restored.name == "photo" and len(restored.layers) == 2
    assert not opened.recovery.autosave()  # no change since the copy
    assert opened.close()
    assert find_recoveries(recovery_dir) == []


def test_saving_discards_the_recovery_copy(
    opened: MainWindow, recovery_dir: Path, tmp_path: Path, qtbot, dialogs
) -> None:
    _modify(opened)
    opened.recovery.autosave()
    qtbot.waitUntil(lambda: not opened.runner.active)
    assert find_recoveries(recovery_dir)
    dialogs.save_path = tmp_path / "saved.ora"
    assert opened.files.save()
    assert find_recoveries(recovery_dir) == []


def _dead_pid() -> int:
    """The id of a process that has ended."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _crash_leftover(recovery_dir: Path, png: Path, pid: int | None = None) -> Path:
    """What a crash leaves: a recovery copy of a modified document (of process `pid`)."""
    loaded = api.read_image(png)
    document = Document(loaded.pixels, meta=loaded.meta, path=png)
    document.add_layer(255 - loaded.pixels, "Colorize (100%)")
    path = recovery_path(recovery_dir, f"photo-{_dead_pid() if pid is None else pid}-1")
    write_recovery(document, path)
    return path


def test_recovery_is_offered_after_a_crash_and_restores(
    make_window, recovery_dir: Path, png, dialogs
) -> None:
    leftover = _crash_leftover(recovery_dir, png[0])
    window = make_window()
    assert window.recovery.offer()
    (question,) = dialogs.recoveries
    assert "closed without saving “photo”" in question
    document = window.document
    assert [x.name for x in document.layers] == ["Original", "Colorize (100%)"]
    assert document.path == png[0]  # its own identity, not the recovery file's
    assert window.is_modified and window.isWindowModified()
    assert window.recovery.recovery_file == leftover and leftover.exists()
    # Another window of this process does not offer it again: it is in use.
    assert make_window().recovery.offer() is False and len(dialogs.recoveries) == 1
    assert window.close()  # Discard (the recorder's answer): the copy goes too
    assert not leftover.exists()


def test_keeping_recovery_for_later_keeps_the_copy_and_discard_deletes_it(
    make_window, recovery_dir, png, dialogs
) -> None:
    leftover = _crash_leftover(recovery_dir, png[0])
    dialogs.recovery_answer = Recovery.KEEP  # also what Escape answers
    window = make_window()
    assert not window.recovery.offer()
    assert window.document is None and leftover.exists()
    dialogs.recovery_answer = Recovery.DISCARD
    assert not make_window().recovery.offer()
    assert len(dialogs.recoveries) == 2 and not leftover.exists()


def test_an_unreadable_recovery_copy_is_reported_and_deleted(
    make_window, recovery_dir: Path, dialogs
) -> None:
    recovery_dir.mkdir()
    broken = recovery_path(recovery_dir, "broken")
    broken.write_bytes(b"not an ora file")
    window = make_window()
    assert not window.recovery.offer()
    assert dialogs.last_error[0] == "Cannot restore" and not broken.exists()


def test_the_default_recovery_folder_is_under_app_data() -> None:
    folder = recovery.default_recovery_dir()
    assert folder.name == "recovery" and folder.is_absolute()


def test_save_export_and_open_run_on_a_thread(
    opened: MainWindow, tmp_path: Path, dialogs, qtbot, monkeypatch, thread_tracker
) -> None:
    monkeypatch.setattr(files.FileController, "background", True)
    _modify(opened)
    dialogs.save_path = tmp_path / "saved.ora"
    assert opened.files.save_as()
    assert opened.runner.busy and opened.job_progress.isVisibleTo(opened)
    assert [t.objectName() for t in thread_tracker.started] == ["Saving"]
    # Meanwhile: no second file job, no restoration, the Restore actions are off.
    assert not opened.files.export() and not opened.tasks.run_denoise()
    assert not opened.act.denoise.isEnabled()
    qtbot.waitUntil(lambda: not opened.runner.busy)
    assert (tmp_path / "saved.ora").is_file() and not opened.is_modified
    assert opened.act.denoise.isEnabled() and not opened.job_progress.isVisibleTo(opened)

    dialogs.save_path, dialogs.save_filter = tmp_path / "flat.png", "PNG (*.png)"
    expected = opened.document.composite()
    assert opened.files.export()
    opened.document.set_opacity(opened.document.layers[1].id, 0.1)  # after: not exported
    qtbot.waitUntil(lambda: not opened.runner.busy)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "flat.png")), expected)

    before = opened.document
    assert opened.files.open_path(tmp_path / "saved.ora")
    assert opened.document is before  # untouched until the new one is whole
    qtbot.waitUntil(lambda: not opened.runner.busy)
    assert opened.document is not before and opened.document.path == tmp_path / "saved.ora"


def test_an_edit_during_a_background_save_keeps_the_document_modified(
    opened: MainWindow, tmp_path: Path, dialogs, qtbot, monkeypatch
) -> None:
    monkeypatch.setattr(files.FileController, "background", True)
    _modify(opened)
    dialogs.save_path = tmp_path / "saved.ora"
    assert opened.files.save_as()
    opened.edits.clear_mask()  # while the snapshot is being written
    qtbot.waitUntil(lambda: not opened.runner.busy)
    assert (tmp_path / "saved.ora").is_file()
    assert opened.is_modified and opened.document.path == tmp_path / "saved.ora"


def test_a_failed_background_save_says_why(
    opened: MainWindow, tmp_path: Path, dialogs, qtbot, monkeypatch
) -> None:
    monkeypatch.setattr(files.FileController, "background", True)
    _modify(opened)
    dialogs.save_path = tmp_path / "missing-folder" / "x.ora"
    assert opened.files.save_as()
    qtbot.waitUntil(lambda: not opened.runner.busy)
    assert dialogs.last_error[0] == "Cannot save" and opened.is_modified


def test_a_crafted_recovery_copy_never_stops_start_up(
    make_window, recovery_dir: Path, png, dialogs
) -> None:
    from editor_support import craft_ora

    leftover = _crash_leftover(recovery_dir, png[0])
    craft_ora(leftover, '{"meta": {"class": null, "fields": {"icc": {"$bytes": 5}}}}')
    window = make_window()
    assert not window.recovery.offer()
    title, _text, detail = dialogs.last_error
    assert title == "Cannot restore" and leftover.name in detail
    assert not leftover.exists() and window.document is None


def test_copies_of_another_running_editor_are_not_offered(
    make_window, recovery_dir: Path, png, dialogs
) -> None:
    import os

    live = _crash_leftover(recovery_dir, png[0], pid=os.getppid())  # a process that runs
    assert recovery.process_alive(os.getppid()) and not recovery.process_alive(_dead_pid())
    window = make_window()
    assert window.recovery.leftovers() == []
    assert not window.recovery.offer() and dialogs.recoveries == [] and live.exists()
    dead = _crash_leftover(recovery_dir, png[0], pid=_dead_pid())
    assert window.recovery.leftovers() == [dead]
