"""Every modal question the editor asks, in one place.

The window calls these through the module (``dialogs.show_error(...)``), never Qt's static
helpers directly, so tests replace each with a recorder that answers at once (see
``tests/editor/conftest.py``): a modal dialog in an offscreen test would wait forever.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from editor.settings import Preferences, PreferencesDialog

Button = QMessageBox.StandardButton
RGB = tuple[int, int, int]


class Unsaved(Enum):
    """The answer to "save your changes first?"."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Recovery(Enum):
    """The answer to "restore this recovery copy?"."""

    RESTORE = "restore"
    KEEP = "keep"  # for later: offered again at the next start
    DISCARD = "discard"


def recovery_box(parent: QWidget | None, text: str) -> tuple[QMessageBox, dict]:
    """The question, and its buttons by answer. Enter restores and Escape keeps the copy:
    deleting work always takes a deliberate click on Discard."""
    box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?", text, Button.NoButton)
    box.setParent(parent, box.windowFlags())
    role = QMessageBox.ButtonRole
    buttons = {
        Recovery.RESTORE: box.addButton("Restore", role.AcceptRole),
        Recovery.KEEP: box.addButton("Keep for Later", role.RejectRole),
        Recovery.DISCARD: box.addButton("Discard", role.DestructiveRole),
    }
    box.setDefaultButton(buttons[Recovery.RESTORE])
    box.setEscapeButton(buttons[Recovery.KEEP])
    return box, buttons


def ask_recovery(parent: QWidget | None, text: str) -> Recovery:
    box, buttons = recovery_box(parent, text)
    box.exec()
    clicked = box.clickedButton()
    return next((answer for answer, b in buttons.items() if b is clicked), Recovery.KEEP)


def large_recovery_box(parent: QWidget | None, reason: str) -> tuple[QMessageBox, dict]:
    """A copy too large to open: Discard it, or Keep it (the default, and Escape)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Recovery copy too large", reason, Button.NoButton)
    box.setParent(parent, box.windowFlags())
    box.setInformativeText("Discard it, or keep it to open on a computer with more memory?")
    role = QMessageBox.ButtonRole
    buttons = {
        Recovery.KEEP: box.addButton("Keep for Later", role.RejectRole),
        Recovery.DISCARD: box.addButton("Discard", role.DestructiveRole),
    }
    box.setDefaultButton(buttons[Recovery.KEEP])
    box.setEscapeButton(buttons[Recovery.KEEP])
    return box, buttons


def ask_discard_recovery(parent: QWidget | None, reason: str) -> bool:
    """True when the user chose to delete a recovery copy too large to open."""
    box, buttons = large_recovery_box(parent, reason)
    box.exec()
    return box.clickedButton() is buttons[Recovery.DISCARD]


def error_box(parent: QWidget | None, title: str, text: str, detail: str = "") -> QMessageBox:
    """A critical message box; `detail` (e.g. the engine's message) behind "Show Details…"."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, Button.Ok, parent)
    if detail:
        box.setDetailedText(detail)
    return box


def show_error(parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
    error_box(parent, title, text, detail).exec()


def inform(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    """Yes/No, No by default."""
    answer = QMessageBox.question(parent, title, text, Button.Yes | Button.No, Button.No)
    return answer == Button.Yes


def ask_unsaved(parent: QWidget | None, name: str) -> Unsaved:
    answer = QMessageBox.warning(
        parent,
        "Unsaved changes",
        f"“{name}” has changes that are not saved. Save them first?",
        Button.Save | Button.Discard | Button.Cancel,
        Button.Save,
    )
    if answer == Button.Save:
        return Unsaved.SAVE
    return Unsaved.DISCARD if answer == Button.Discard else Unsaved.CANCEL


def ask_open_path(
    parent: QWidget | None, directory: str, name_filter: str, caption: str = "Open"
) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, caption, directory, name_filter)
    return Path(name) if name else None


def ask_save_path(
    parent: QWidget | None, caption: str, suggested: str, name_filter: str
) -> tuple[Path | None, str]:
    """The chosen path (None: cancelled) and the filter it was chosen with."""
    name, chosen = QFileDialog.getSaveFileName(parent, caption, suggested, name_filter)
    return (Path(name) if name else None), chosen


def ask_quality(parent: QWidget | None, default: int) -> int | None:
    """JPEG quality 1..100, None if cancelled."""
    value, ok = QInputDialog.getInt(
        parent, "JPEG quality", "Quality (1–100; 90 or more keeps full colour detail):",
        default, 1, 100,
    )  # fmt: skip
    return value if ok else None


def edit_preferences(
    parent: QWidget | None, prefs: Preferences, available: list[str] | None
) -> Preferences | None:
    """The new preferences, None if cancelled. `available`: None while still unknown."""
    dialog = PreferencesDialog(prefs, available, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.preferences()


def about_box(parent: QWidget | None, title: str, markdown: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.NoIcon, title, markdown, Button.Ok, parent)
    box.setTextFormat(Qt.TextFormat.MarkdownText)
    return box


def show_about(parent: QWidget | None, title: str, markdown: str) -> None:
    about_box(parent, title, markdown).exec()


def ask_colour(parent: QWidget | None, initial: RGB) -> RGB | None:
    """A colour for a colour pin (Qt's colour dialog); None when cancelled."""
    chosen = QColorDialog.getColor(QColor(*initial), parent, "Pin colour")
    return (chosen.red(), chosen.green(), chosen.blue()) if chosen.isValid() else None
