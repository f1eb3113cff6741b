"""The Restore panel: the settings of each restoration and its Run button.

The Run buttons show the window's actions (Restore menu); the window reads the settings
from here when one is triggered.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from editor.panels.widgets import action_button, note_label
from engine import api

DENOISE_TIP = (
    "100 % removes the noise the model finds in the photo; less keeps fine grain, more "
    "smooths further (up to 200 %). Grain, JPEG blocks and specks are all found automatically."
)
RESTORE_PHOTO_NOTE = (
    "Finds what the photo needs (damage, noise, fading, colour) and runs those steps at "
    "once, with the strengths set below."
)
INPAINT_EMPTY = "Paint over the damage with the mask brush (Tools), or auto-detect it."
INPAINT_READY = "Fills the areas painted in the mask."


def _strength_slider(top: int = 100) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, top)
    slider.setValue(100)
    slider.setPageStep(10)
    return slider


class RestorePanel(QWidget):
    def __init__(
        self,
        *,
        restore_photo: QAction,
        denoise: QAction,
        inpaint: QAction,
        colorize: QAction,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Denoise goes both ways (the engine's 0..2): the model finds the noise by itself, so
        # there is no noise kind to choose (the old kinds gave byte-identical results).
        self.denoise_strength = _strength_slider(round(api.MAX_DENOISE_STRENGTH * 100))
        self.denoise_strength.setToolTip(DENOISE_TIP)
        self.colorize_strength = _strength_slider()
        self.denoise_label, self.colorize_label = QLabel(), QLabel()
        self.denoise_strength.valueChanged.connect(self._update_labels)
        self.colorize_strength.valueChanged.connect(self._update_labels)
        self.inpaint_note = note_label()
        self.colour_note = note_label()
        self.inside_mask = QCheckBox("Apply only inside the mask")
        self.inside_mask.setToolTip(
            "The result layer shows only where the mask is painted (Denoise and Colorize)."
        )

        photo_box = QGroupBox("Restore Photo")
        photo_layout = QVBoxLayout(photo_box)
        photo_note = note_label()
        photo_note.setText(RESTORE_PHOTO_NOTE)
        photo_layout.addWidget(photo_note)
        photo_layout.addWidget(action_button(restore_photo))
        denoise_box = QGroupBox("Denoise")
        form = QFormLayout(denoise_box)
        form.addRow(self.denoise_label, self.denoise_strength)
        form.addRow(action_button(denoise))
        inpaint_box = QGroupBox("Inpaint")
        inpaint_layout = QVBoxLayout(inpaint_box)
        inpaint_layout.addWidget(self.inpaint_note)
        inpaint_layout.addWidget(action_button(inpaint))
        colorize_box = QGroupBox("Colorize")
        colorize_form = QFormLayout(colorize_box)
        colorize_form.addRow(self.colorize_label, self.colorize_strength)
        colorize_form.addRow(self.colour_note)
        colorize_form.addRow(action_button(colorize))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(photo_box)
        layout.addWidget(self.inside_mask)
        for box in (denoise_box, inpaint_box, colorize_box):
            layout.addWidget(box)
        layout.addStretch(1)
        self._update_labels()
        self.set_mask_empty(True)
        self.set_has_colour(False)

    # --- what the window reads ------------------------------------------------------------

    @property
    def denoise_fraction(self) -> float:
        return self.denoise_strength.value() / 100.0

    @property
    def colorize_fraction(self) -> float:
        return self.colorize_strength.value() / 100.0

    @property
    def only_inside_mask(self) -> bool:
        return self.inside_mask.isChecked()

    # --- what the window tells ------------------------------------------------------------

    def set_mask_empty(self, empty: bool) -> None:
        self.inpaint_note.setText(INPAINT_EMPTY if empty else INPAINT_READY)

    def set_has_colour(self, has_colour: bool) -> None:
        self.colour_note.setText(
            "This photo already has colour: colorizing replaces it."
            if has_colour
            else "Adds colour to a black-and-white or faded photo."
        )

    def _update_labels(self) -> None:
        self.denoise_label.setText(f"Strength {self.denoise_strength.value()} %")
        self.colorize_label.setText(f"Strength {self.colorize_strength.value()} %")
