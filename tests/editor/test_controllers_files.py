"""The file and recovery controllers without a window: a fake host, a real job runner,
real files under tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_support import FakeHost, write_png
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest

from editor import dialogs as dialogs_module
from editor import recovery
from editor.dialogs import Recovery
from editor.doc import Document, load_ora, recovery_path, write_recovery
from editor.doc import ora as ora_module
from editor.doc.recovery import inspect_recovery
from editor.files import OPEN_FILTER, FileController
from editor.jobs import Job, JobRunner
from editor.recovery import RecoveryController


class CopyRecorder:
    def __init__(self) -> None:
        self.discards = 0

    def discard(self) -> None:
        self.discards += 1


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def runner(qtbot, host: FakeHost) -> JobRunner:  # noqa: ANN001
    return JobRunner(host)


@pytest.fixture
def copies() -> CopyRecorder:
    return CopyRecorder()


@pytest.fixture
def files(host, runner, copies, settings_file: QSettings) -> FileController:  # noqa: ANN001
    return FileController(host, runner, settings_file, copies)


def test_open_save_and_reopen(files: FileController, host, copies, tmp_path, png, dialogs):  # noqa: ANN001
    assert files.open_path(png[0])
    assert host.document.path == png[0] and copies.discards == 1
    assert files.recent_paths() == [png[0].resolve()]
    host.modified = True
    dialogs.save_path = tmp_path / "kept"
    assert files.save()
    assert (tmp_path / "kept.ora").is_file() and host.clean_marks == 1 and copies.discards == 2
    assert np.array_equal(load_ora(tmp_path / "kept.ora").composite(), png[1])


def test_a_file_that_will_not_open_says_why_in_the_message(
    files: FileController,
    host,
    tmp_path: Path,
    dialogs,  # noqa: ANN001
) -> None:
    broken = tmp_path / "x.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    for path in (broken, tmp_path / "missing.png", tmp_path / "x.ora"):
        if path.suffix == ".ora":
            path.write_bytes(b"PK\x03\x04 not a zip")
        assert not files.open_path(path)
        title, text, detail = dialogs.last_error
        first, reason = text.split("\n")[:2]
        assert title == "Cannot open file" and first == f"“{path.name}” could not be opened."
        assert reason and reason.endswith(".") and "Error" not in reason and "(" not in reason[:1]
        assert detail  # the engine's own words, behind Show Details
    assert host.document is None
    reasons = [text.split("\n")[1] for _title, text, _detail in dialogs.errors]
    assert reasons == ["Cannot decode image.", "File not found.", "Not an OpenRaster (ZIP) file."]


def test_a_gif_opens_as_its_first_frame(files: FileController, host, tmp_path: Path) -> None:  # noqa: ANN001
    everything, _ora, photos, _all = OPEN_FILTER.split(";;")
    assert "*.gif" in everything and "*.gif" in photos
    frames = [Image.new("RGB", (12, 10), colour) for colour in ((200, 30, 30), (30, 30, 200))]
    path = tmp_path / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with pytest.warns(Warning, match="only its first frame is read"):
        assert files.open_path(path)
    pixels = host.document.layers[0].pixels
    assert pixels.shape == (10, 12, 3) and bool(np.all(pixels == (200, 30, 30)))


def test_files_wait_for_a_restoration(files: FileController, runner, host, png) -> None:  # noqa: ANN001
    runner.start(Job("Denoise", lambda p, c: None, lambda _: None))
    assert not files.open_path(png[0])
    assert host.messages[-1] == "Denoise is still running: wait for it to finish or cancel it."
    runner.wait()


def test_open_on_a_worker_thread(files: FileController, host, png, qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(FileController, "background", True)
    assert files.open_path(png[0])
    assert host.document is None and files.runner.busy
    qtbot.waitUntil(lambda: host.document is not None)
    assert not files.runner.busy


# --- recovery ------------------------------------------------------------------------------


def _leftover(folder: Path, png: Path, pid: int = 999_999_999) -> Path:
    document = Document(write_png(png), path=png)
    document.add_layer(np.zeros(document.shape, np.uint8), "Colorize (100%)")
    path = recovery_path(folder, f"photo-{pid}-1")
    write_recovery(document, path)
    return path


@pytest.fixture
def rescue(host, runner, recovery_dir: Path) -> RecoveryController:  # noqa: ANN001
    return RecoveryController(host, runner, recovery_dir)


def test_autosave_is_a_quiet_job(rescue: RecoveryController, host, runner, qtbot, png) -> None:  # noqa: ANN001
    host.document = Document(png[1], path=png[0])
    assert not rescue.autosave()  # unmodified: nothing to recover
    host.modified = True
    assert rescue.autosave() and runner.active and not runner.busy
    qtbot.waitUntil(lambda: not runner.active)
    assert rescue.recovery_file.is_file() and not rescue.autosave()  # no change since
    rescue.stop()
    assert rescue.recovery_file is None and not rescue.autosave_timer.isActive()


@pytest.mark.parametrize("answer", list(Recovery))
def test_offer_restores_keeps_or_discards(
    rescue: RecoveryController,
    host,
    recovery_dir,
    tmp_path,
    dialogs,
    answer,  # noqa: ANN001
) -> None:
    leftover = _leftover(recovery_dir, tmp_path / "photo.png")
    dialogs.recovery_answer = answer
    assert rescue.offer() is (answer is Recovery.RESTORE)
    assert "closed without saving “photo”" in dialogs.recoveries[0]
    assert leftover.exists() is (answer is not Recovery.DISCARD)
    if answer is Recovery.RESTORE:
        assert host.document.name == "photo" and host.is_modified
        assert rescue.recovery_file == leftover


def test_the_recovery_question_defaults_to_keeping_the_copy(qtbot) -> None:  # noqa: ANN001
    box, buttons = dialogs_module.recovery_box(None, "Restore it?")
    qtbot.addWidget(box)
    assert box.defaultButton() is buttons[Recovery.RESTORE]
    assert box.escapeButton() is buttons[Recovery.KEEP]
    assert [b.text() for b in buttons.values()] == ["Restore", "Keep for Later", "Discard"]
    box.show()
    QTest.keyClick(box, Qt.Key.Key_Escape)
    assert box.clickedButton() is buttons[Recovery.KEEP]
    large, large_buttons = dialogs_module.large_recovery_box(None, "Too large.")
    qtbot.addWidget(large)
    assert large.defaultButton() is large.escapeButton() is large_buttons[Recovery.KEEP]


def test_a_copy_too_large_for_memory_is_not_opened(
    rescue: RecoveryController,
    host,
    recovery_dir,
    tmp_path,
    dialogs,
    monkeypatch,  # noqa: ANN001
) -> None:
    leftover = _leftover(recovery_dir, tmp_path / "photo.png")
    info = inspect_recovery(leftover)
    assert (info.name, info.width, info.height, info.layers) == ("photo", 64, 48, 3)
    monkeypatch.setattr(recovery.api, "available_memory", lambda: info.memory_needed - 1)
    monkeypatch.setattr(recovery, "load_ora", lambda *a, **k: pytest.fail("opened"))
    assert not rescue.offer()
    (reason,) = dialogs.too_large
    assert "\n" not in reason and "“photo”" in reason and "memory" in reason
    assert leftover.exists() and dialogs.recoveries == []  # kept (the default answer)
    dialogs.discard_too_large = True
    assert not rescue.offer() and not leftover.exists()


def test_a_copy_that_runs_out_of_memory_while_opening_is_kept(
    rescue: RecoveryController,
    recovery_dir,
    tmp_path,
    dialogs,
    monkeypatch,  # noqa: ANN001
) -> None:
    """The estimate can fall short: the copy is fine, so it is offered again, not deleted."""
    leftover = _leftover(recovery_dir, tmp_path / "photo.png")

    def out_of_memory(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise MemoryError

    monkeypatch.setattr(recovery, "load_ora", out_of_memory)
    assert not rescue.offer()
    (reason,) = dialogs.too_large
    assert "memory" in reason and leftover.exists()  # kept: the default answer


def test_a_copy_the_loader_finds_too_large_for_memory_is_kept(
    rescue: RecoveryController,
    recovery_dir,
    tmp_path,
    dialogs,
    monkeypatch,  # noqa: ANN001
) -> None:
    """The loader's own estimate (`editor.doc.ora_limits`) refuses with a MemoryError too:
    offered to keep, never deleted as if it were damaged."""
    leftover = _leftover(recovery_dir, tmp_path / "photo.png")
    monkeypatch.setattr(ora_module, "memory_needed", lambda *_args: 1 << 60)
    assert not rescue.offer()
    (reason,) = dialogs.too_large
    assert "memory" in reason and leftover.exists() and dialogs.errors == []


def test_a_declared_size_is_read_without_decoding(tmp_path: Path, recovery_dir) -> None:  # noqa: ANN001
    from editor_support import craft_stack

    leftover = _leftover(recovery_dir, tmp_path / "photo.png")
    craft_stack(leftover, 'w="200000" h="100000"')
    info = inspect_recovery(leftover)
    assert info.width == 200000 and info.memory_needed > 10**11
    assert recovery.too_large(info, 8 * 10**9) is not None
    assert recovery.too_large(info, None) is None  # unknown memory: opened as before
