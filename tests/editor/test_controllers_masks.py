"""Mask files without a window: a fake host, a real job runner, History, edits and document,
real files under tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from editor_support import FakeHost
from PIL import Image
from PySide6.QtCore import QSettings

from editor.doc import Document
from editor.doc.mask_io import grey_levels, read_mask_file
from editor.editing import EditController
from editor.history import History
from editor.jobs import Job, JobRunner
from editor.mask_files import MaskFileController
from engine import api

HEIGHT, WIDTH = 24, 32


@pytest.fixture
def parts(qtbot, settings_file: QSettings, tmp_path: Path):  # noqa: ANN001, ANN201
    pixels = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    host = FakeHost(Document(pixels, path=tmp_path / "photo.png"))
    history = History()
    runner = JobRunner(host)
    edits = EditController(host, history)
    return host, history, MaskFileController(host, runner, edits, settings_file)


def _soft_mask() -> np.ndarray:
    """A hole with a soft edge (values either side of the hole threshold) and a hard one."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[4:10, 4:12] = 255
    mask[3, 4:12], mask[10, 4:12], mask[4:10, 12] = 60, 127, 128
    mask[15:20, 20:30] = 200
    return mask


def _write(path: Path, pixels: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(pixels, mode).save(path)
    return path


def test_export_writes_the_mask_as_a_grey_png_of_the_photo_size(parts, tmp_path, dialogs):  # noqa: ANN001
    host, history, masks = parts
    host.document.set_mask(_soft_mask())
    dialogs.save_path = tmp_path / "out" / "scan-mask"  # no suffix: ".png" is added
    (tmp_path / "out").mkdir()
    assert masks.export_dialog()
    assert dialogs.save_captions == ["Export Mask"]
    with Image.open(tmp_path / "out" / "scan-mask.png") as written:
        assert written.format == "PNG" and written.mode == "L"
        assert written.size == (WIDTH, HEIGHT)
        assert np.array_equal(np.asarray(written), _soft_mask())  # the soft edge kept
    assert history.count() == 0 and "Exported the mask" in host.messages[-1]


def test_export_and_import_remember_the_mask_folder(parts, tmp_path, dialogs):  # noqa: ANN001
    host, _history, masks = parts
    dialogs.open_path = None  # cancelled: nothing happens
    assert not masks.import_dialog()
    assert dialogs.open_asked == [("Import Mask", str(tmp_path))]  # the photo's folder first
    elsewhere = tmp_path / "masks"
    elsewhere.mkdir()
    assert masks.export_to(elsewhere / "m.png")
    assert not masks.import_dialog()
    assert dialogs.open_asked[-1] == ("Import Mask", str(elsewhere.resolve()))


def test_import_replaces_the_mask_as_one_step_and_undo_restores_it(parts, tmp_path) -> None:  # noqa: ANN001
    host, history, masks = parts
    old = np.zeros((HEIGHT, WIDTH), np.uint8)
    old[0:3, 0:3] = 255
    host.document.set_mask(old)
    new = np.zeros((HEIGHT, WIDTH), np.uint8)
    new[10:14, 5:25] = 255
    assert masks.import_path(_write(tmp_path / "new.png", new))
    assert np.array_equal(host.document.mask, new)  # replaced, not added to
    assert history.count() == 1 and history.text(0) == "Import mask"
    history.undo()
    assert np.array_equal(host.document.mask, old)
    history.redo()
    assert np.array_equal(host.document.mask, new)


def test_a_mask_of_another_size_is_refused_naming_both_sizes(parts, tmp_path, dialogs) -> None:  # noqa: ANN001
    host, history, masks = parts
    host.document.set_mask(_soft_mask())
    path = _write(tmp_path / "big.png", np.full((30, 40), 255, np.uint8))
    assert not masks.import_path(path)
    title, text, _detail = dialogs.last_error
    assert title == "Cannot import the mask"
    assert text == (
        "“big.png” is 40 × 30 pixels but the photo is 32 × 24: a mask must be the photo's size."
    )
    assert np.array_equal(host.document.mask, _soft_mask()) and history.count() == 0


def test_an_unreadable_file_is_refused_and_nothing_changes(parts, tmp_path, dialogs) -> None:  # noqa: ANN001
    host, history, masks = parts
    path = tmp_path / "broken.png"
    path.write_bytes(b"not a picture")
    assert not masks.import_path(path)
    assert "“broken.png” could not be read as a mask." in dialogs.last_error[1]
    assert not host.document.mask.any() and history.count() == 0


def test_export_then_import_gives_the_same_mask(parts, tmp_path) -> None:  # noqa: ANN001
    host, history, masks = parts
    host.document.set_mask(_soft_mask())
    holes = host.document.hole_mask()
    assert masks.export_to(tmp_path / "round.png")
    host.document.clear_mask()
    assert masks.import_path(tmp_path / "round.png")
    assert np.array_equal(host.document.hole_mask(), holes)
    assert np.array_equal(host.document.mask, _soft_mask())  # the soft edge too
    # The engine reads the exported file with the same holes (e.g. `inpaint --mask`).
    assert np.array_equal(api.read_mask(tmp_path / "round.png"), holes)


def test_a_colour_or_16_bit_mask_agrees_with_the_engine_on_every_hole(tmp_path) -> None:  # noqa: ANN001
    grey = np.arange(HEIGHT * WIDTH, dtype=np.uint32).reshape(HEIGHT, WIDTH) * 65535 // 767
    rgb = np.stack([grey, grey[::-1], grey[:, ::-1]], axis=2).astype(np.uint16)
    path = tmp_path / "colour16.png"
    api.write_image(path, rgb)
    levels = read_mask_file(path, (HEIGHT, WIDTH))
    assert levels.dtype == np.uint8 and 0 < (levels > 127).mean() < 1
    assert np.array_equal(levels > 127, api.read_mask(path))


def test_strokes_on_a_transparent_layer_are_holes(tmp_path) -> None:  # noqa: ANN001
    rgba = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    rgba[5:8, 2:30] = (200, 30, 30, 255)  # red strokes, any colour: visible = hole
    levels = read_mask_file(_write(tmp_path / "strokes.png", rgba, "RGBA"), (HEIGHT, WIDTH))
    assert set(np.unique(levels)) == {0, 255} and levels[6, 10] == 255 and levels[0, 0] == 0


def test_grey_levels_keep_each_side_of_the_threshold() -> None:
    pixels = np.zeros((1, 4, 3), np.uint8)
    pixels[0, :, :] = np.array([[0], [127], [128], [255]], np.uint8)
    holes = np.array([[False, True, False, True]])  # two disagree: moved just across
    assert grey_levels(pixels, holes).tolist() == [[0, 128, 127, 255]]


def test_mask_files_wait_for_a_running_job(parts, tmp_path) -> None:  # noqa: ANN001
    host, _history, masks = parts
    masks.runner.start(Job("Denoise", lambda p, c: None, lambda _: None))
    assert not masks.export_to(tmp_path / "m.png") and not masks.import_path(tmp_path / "m.png")
    assert host.messages[-1] == "Denoise is still running: wait for it to finish or cancel it."
    masks.runner.wait()
    assert not (tmp_path / "m.png").exists()


def test_import_on_a_worker_thread(parts, tmp_path, qtbot, monkeypatch) -> None:  # noqa: ANN001
    host, history, masks = parts
    monkeypatch.setattr(MaskFileController, "background", True)
    new = np.zeros((HEIGHT, WIDTH), np.uint8)
    new[1:5, 1:5] = 255
    assert masks.import_path(_write(tmp_path / "new.png", new))
    assert masks.runner.busy and history.count() == 0
    qtbot.waitUntil(lambda: history.count() == 1)
    assert np.array_equal(host.document.mask, new) and not masks.runner.busy
