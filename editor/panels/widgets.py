"""Small widgets the panels share: a full-width button for an action and an italic note."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolButton


def action_button(action: QAction) -> QToolButton:
    """A text button that triggers `action`, follows its enabled state and fills the width."""
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button


def note_label() -> QLabel:
    """A wrapped italic note: a hint, told apart by its style, not by a faint colour."""
    label = QLabel()
    label.setWordWrap(True)
    font = label.font()
    font.setItalic(True)
    label.setFont(font)
    return label
