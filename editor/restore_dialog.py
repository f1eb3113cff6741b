"""The Restore Photo dialog: what the analysis of the photo found, and the steps to run.

It opens at once and shows the analysis' progress (it runs in the job runner, see
`editor.restore_photo`); Cancel then stops the analysis. Once the analysis is in, it lists
the five steps in running order, each a checkbox — pre-checked as the analysis proposes,
disabled when its model is not installed — with what the analysis found for it. Run
accepts the dialog; the controller reads `chosen_steps` and `colorize`.

Plain widgets, shown with `open()` (window-modal, not blocking), so nothing waits on it.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from editor.jobs import PROGRESS_STEPS
from engine import api

ANALYSING = "Looking at the photo: damage, noise, faded colours…"
CHOOSE = "Choose the steps to run. Each step that changes the photo becomes a layer."
NO_MODEL = "no model installed"
TIPS = {
    api.RestoreStep.DETECT: "Mark cracks, scratches, dust and stains; the mask shows them",
    api.RestoreStep.INPAINT: "Fill what is marked as damage",
    api.RestoreStep.DENOISE: "Reduce grain and noise (the Restore panel's Denoise strength)",
    api.RestoreStep.COLOURS: "Undo fading and colour casts",
    api.RestoreStep.COLORIZE: "Add colour (the Restore panel's Colorize strength)",
}


def describe(analysis: api.ScanAnalysis) -> str:
    """The photo as a whole, e.g. "Black-and-white photo." (the steps say what was found)."""
    kind = "Black-and-white" if analysis.grey else "Toned" if analysis.monochrome else "Colour"
    return f"{kind} photo."


class RestorePhotoDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Restore Photo")
        self.setObjectName("RestorePhotoDialog")
        self.analysis: api.ScanAnalysis | None = None
        self.closed = False  # Run or Cancel was chosen (or the dialog closed otherwise)
        self.heading = QLabel(ANALYSING)
        self.heading.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy until the first report
        self.boxes: dict[api.RestoreStep, QCheckBox] = {}
        self.notes: dict[api.RestoreStep, QLabel] = {}
        self.steps_box = QGroupBox("Steps")
        grid = QGridLayout(self.steps_box)
        for row, step in enumerate(api.RestoreStep):
            box = QCheckBox(step.title)
            box.setToolTip(TIPS[step])
            box.setEnabled(False)
            box.toggled.connect(self._update_run)
            note = QLabel("")
            note.setWordWrap(True)
            grid.addWidget(box, row, 0)
            grid.addWidget(note, row, 1)
            self.boxes[step], self.notes[step] = box, note
        grid.setColumnStretch(1, 1)
        buttons = QDialogButtonBox()
        self.run_button = buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.run_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.progress)
        layout.addWidget(self.steps_box)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)

    # --- what the controller tells -------------------------------------------------------

    def show_progress(self, report: api.Progress) -> None:
        """The analysis' progress (the damage detector's, the only part that takes long)."""
        if self.analysis is None:
            self.progress.setRange(0, PROGRESS_STEPS)
            fraction = min(max(report.fraction, 0.0), 1.0)
            self.progress.setValue(round(fraction * PROGRESS_STEPS))

    def show_analysis(self, analysis: api.ScanAnalysis) -> None:
        """List what was found; check the proposed steps; disable those without a model."""
        self.analysis = analysis
        self.progress.hide()
        self.heading.setText(f"{describe(analysis)} {CHOOSE}")
        findings, proposed = analysis.findings(), set(analysis.proposed())
        for step, box in self.boxes.items():
            available = step in analysis.available
            box.setEnabled(available)
            box.setChecked(available and step in proposed)
            self.notes[step].setText(findings[step] if available else NO_MODEL)
            self.notes[step].setEnabled(available)
        self._update_run()
        self.run_button.setDefault(True)

    def done(self, result: int) -> None:
        self.closed = True
        super().done(result)

    # --- what the controller reads -------------------------------------------------------

    @property
    def chosen_steps(self) -> tuple[api.RestoreStep, ...]:
        """The checked steps, in running order."""
        return tuple(s for s, box in self.boxes.items() if box.isEnabled() and box.isChecked())

    @property
    def colorize(self) -> bool:
        return api.RestoreStep.COLORIZE in self.chosen_steps

    def _update_run(self) -> None:
        self.run_button.setEnabled(self.analysis is not None and bool(self.chosen_steps))
