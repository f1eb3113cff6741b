"""Mask files from the window: the Mask menu's Export Mask… and Import Mask…, undone from
the window's history like any edit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QToolButton

from editor.main_window import MainWindow


def _mask_menu_items(window: MainWindow) -> list[str]:
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    return [a.text().replace("&", "") for a in menus["Mask"].actions() if a.text()]


def test_the_mask_menu_offers_mask_files_and_damage_detection(window: MainWindow) -> None:
    assert _mask_menu_items(window) == [
        "Eraser", "Bigger Brush", "Smaller Brush", "Clear Mask", "Invert Mask",
        "Auto-detect Damage", "Import Mask…", "Export Mask…",
    ]  # fmt: skip
    act = window.act
    assert "Replace the mask" in act.import_mask.statusTip()  # says it replaces, not adds
    assert "white = hole" in act.export_mask.statusTip()
    assert not act.import_mask.isEnabled() and not act.export_mask.isEnabled()
    buttons = window.tools_panel.findChildren(QToolButton)
    assert [b.text() for b in buttons if b.defaultAction() is act.detect] == ["Auto-detect Damage"]


def test_export_then_import_from_the_menu_is_one_undoable_step(
    opened: MainWindow, tmp_path: Path, dialogs, qtbot
) -> None:
    act, history = opened.act, opened.history
    assert act.import_mask.isEnabled() and act.export_mask.isEnabled()
    painted = np.zeros(opened.document.shape[:2], bool)
    painted[5:15, 10:30] = True
    opened.edits.add_to_mask(painted, "Paint mask")
    dialogs.save_path = tmp_path / "photo-mask.png"
    act.export_mask.trigger()
    with Image.open(tmp_path / "photo-mask.png") as written:
        assert written.mode == "L" and written.size == (64, 48)
    act.clear_mask.trigger()
    assert opened.document.mask_is_empty()
    dialogs.open_path = tmp_path / "photo-mask.png"
    act.import_mask.trigger()
    assert np.array_equal(opened.document.hole_mask(), painted)
    assert history.text(history.count() - 1) == "Import mask"
    assert opened.is_modified and opened.isWindowModified()
    qtbot.waitUntil(lambda: opened.act.inpaint.isEnabled())  # the mask is no longer empty
    act.undo.trigger()  # one step: back to the cleared mask
    assert opened.document.mask_is_empty()


def test_a_mask_of_another_size_is_refused_from_the_menu(
    opened: MainWindow, tmp_path: Path, dialogs
) -> None:
    path = tmp_path / "other.png"
    Image.fromarray(np.full((10, 20), 255, np.uint8)).save(path)
    dialogs.open_path = path
    opened.act.import_mask.trigger()
    assert dialogs.last_error[1] == (
        "“other.png” is 20 × 10 pixels but the photo is 64 × 48: a mask must be the photo's size."
    )
    assert opened.document.mask_is_empty() and opened.history.count() == 0
