"""The Tools panel: the mask brush (size, hardness, eraser), the mask's visibility, clear,
invert, and auto-detection of damage with its sensitivity.

The buttons show the window's own actions (so the menu, the shortcut and the button are one
thing); only the sliders live here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from editor.panels.widgets import action_button

MAX_BRUSH = 500  # brush diameter in image pixels
DEFAULT_BRUSH = 40
DEFAULT_HARDNESS = 80
DEFAULT_SENSITIVITY = 50


def _slider(low: int, high: int, value: int, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setToolTip(tip)
    return slider


class ToolsPanel(QWidget):
    brushChanged = Signal(float, float)  # radius in image pixels, hardness 0..1

    def __init__(
        self,
        *,
        eraser: QAction,
        show_mask: QAction,
        clear_mask: QAction,
        invert_mask: QAction,
        detect: QAction,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.size = _slider(1, MAX_BRUSH, DEFAULT_BRUSH, "Brush diameter in image pixels ([ and ])")
        self.hardness = _slider(0, 100, DEFAULT_HARDNESS, "0 = soft edge, 100 = hard edge")
        self.sensitivity = _slider(
            0, 100, DEFAULT_SENSITIVITY, "Higher finds fainter damage (and more false alarms)"
        )
        self.size_label, self.hardness_label = QLabel(), QLabel()
        self.sensitivity_label = QLabel()
        self.size.valueChanged.connect(self._brush_changed)
        self.hardness.valueChanged.connect(self._brush_changed)
        self.sensitivity.valueChanged.connect(self._update_labels)

        brush = QGroupBox("Mask brush")
        form = QFormLayout(brush)
        form.addRow(self.size_label, self.size)
        form.addRow(self.hardness_label, self.hardness)
        form.addRow(action_button(eraser))
        mask = QGroupBox("Mask")
        mask_layout = QVBoxLayout(mask)
        for action in (show_mask, clear_mask, invert_mask):
            mask_layout.addWidget(action_button(action))
        damage = QGroupBox("Damage")
        detect_form = QFormLayout(damage)
        detect_form.addRow(self.sensitivity_label, self.sensitivity)
        detect_form.addRow(action_button(detect))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for box in (brush, mask, damage):
            layout.addWidget(box)
        layout.addStretch(1)
        self._update_labels()

    @property
    def radius(self) -> float:
        return self.size.value() / 2.0

    @property
    def hardness_fraction(self) -> float:
        return self.hardness.value() / 100.0

    @property
    def sensitivity_fraction(self) -> float:
        return self.sensitivity.value() / 100.0

    def step_size(self, up: bool) -> None:
        """`]` / `[`: about 20 % bigger or smaller, at least one pixel."""
        value = self.size.value()
        step = max(1, round(value * 0.2))
        self.size.setValue(value + step if up else value - step)

    def _brush_changed(self) -> None:
        self._update_labels()
        self.brushChanged.emit(self.radius, self.hardness_fraction)

    def _update_labels(self) -> None:
        # A slider shows no number: its label does.
        self.size_label.setText(f"Size {self.size.value()} px")
        self.hardness_label.setText(f"Hardness {self.hardness.value()} %")
        self.sensitivity_label.setText(f"Sensitivity {self.sensitivity.value()} %")
