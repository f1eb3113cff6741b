"""The Colour Hints panel: the colour the next pin gets (and the selected pin has), where
it comes from — Qt's colour dialog, an eyedropper, a palette of common materials — and the
colorize preview's switch and its one line of news.

It holds no pins: choosing a colour only emits `colourChosen`; the window gives it to the
selected pin as an undoable edit. The tool, Remove Pin and Clear Pins are the window's
actions (menu, shortcut and button are one thing).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from editor.panels.widgets import action_button, note_label

RGB = tuple[int, int, int]

# Typical sRGB colours of what old photos show most; only their chroma matters (the photo
# keeps its own lightness), so one tone per material is enough to start from.
MATERIALS: tuple[tuple[str, RGB], ...] = (
    ("Fair skin", (236, 200, 176)),
    ("Light skin", (222, 172, 138)),
    ("Medium skin", (190, 134, 98)),
    ("Dark skin", (112, 74, 52)),
    ("Sky", (128, 170, 214)),
    ("Foliage", (76, 108, 52)),
    ("Grass", (112, 150, 62)),
    ("Wood", (138, 96, 60)),
    ("Brick", (160, 76, 56)),
    ("Denim", (68, 88, 124)),
    ("Sand", (214, 192, 148)),
    ("Brown hair", (88, 62, 42)),
)
DEFAULT_COLOUR: RGB = MATERIALS[2][1]
SWATCH = QSize(22, 22)
HOW_TO = "Click: pin this colour · drag: move · Delete: remove"
HOW_TO_TIP = (
    "Click the photo to pin the colour below; drag a pin to move it, click one to select "
    "it, Delete removes it. Only a colour's hue and saturation are used: the photo keeps "
    "its own lightness."
)


def swatch_icon(rgb: RGB, size: QSize = SWATCH) -> QIcon:
    pixmap = QPixmap(size)
    pixmap.fill(QColor(*rgb))
    return QIcon(pixmap)


class HintsPanel(QWidget):
    colourChosen = Signal(tuple)  # RGB, from the dialog, the palette or the eyedropper
    chooseRequested = Signal()  # "Choose…": the window opens the colour dialog
    pickToggled = Signal(bool)  # the eyedropper armed / disarmed
    previewToggled = Signal(bool)

    def __init__(
        self, *, tool: QAction, remove: QAction, clear: QAction, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._colour = DEFAULT_COLOUR
        self.swatch = QToolButton()
        self.swatch.setIconSize(QSize(40, 22))
        self.swatch.setToolTip("The colour of the next pin (and of the selected one)")
        self.swatch.clicked.connect(self.chooseRequested)
        self.colour_label = QLabel()
        self.choose = QPushButton("Choose…")
        self.choose.clicked.connect(self.chooseRequested)
        self.pick = QPushButton("Pick")
        self.pick.setCheckable(True)
        self.pick.setToolTip(
            "Eyedropper: click this photo, or another open photo, to take its colour there "
            "(Esc stops)"
        )
        self.pick.toggled.connect(self.pickToggled)
        self.pick_from = QComboBox()
        self.pick_from.addItems(["Original colours", "Current image"])
        self.pick_from.setToolTip(
            "What the eyedropper reads: the photo as opened, or the layers as shown now"
        )
        self.pin_count = QLabel()
        self.preview = QCheckBox("Live preview")
        self.preview.setChecked(True)
        self.preview.setToolTip(
            "While the Colour Hint tool is on, show Colorize's result (on a small copy) "
            "as the pins change"
        )
        self.preview.toggled.connect(self.previewToggled)
        self.note = note_label()
        # Room for the longest line wrapped (a dock does not grow a word-wrapped label).
        self.note.setMinimumHeight(3 * self.note.fontMetrics().lineSpacing() + 4)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._build(tool, remove, clear)
        self.set_colour(DEFAULT_COLOUR)
        self.set_pin_count(0)

    def _build(self, tool: QAction, remove: QAction, clear: QAction) -> None:
        how = QLabel(HOW_TO)
        how.setWordWrap(True)
        how.setToolTip(HOW_TO_TIP)
        colour_box = QGroupBox("Colour")
        colour = QVBoxLayout(colour_box)
        row = QHBoxLayout()
        row.addWidget(self.swatch)
        row.addWidget(self.colour_label, 1)
        colour.addLayout(row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.choose)
        buttons.addWidget(self.pick)
        buttons.addWidget(self.pick_from, 1)
        colour.addLayout(buttons)
        palette = QGridLayout()
        palette.setSpacing(3)
        for number, (name, rgb) in enumerate(MATERIALS):
            palette.addWidget(self._palette_button(name, rgb), number // 6, number % 6)
        colour.addLayout(palette)
        pins_box = QGroupBox("Pins")
        pins = QVBoxLayout(pins_box)
        pins.addWidget(self.pin_count)
        edits = QHBoxLayout()
        for action in (remove, clear):
            edits.addWidget(action_button(action))
        pins.addLayout(edits)
        pins.addWidget(self.preview)
        pins.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(action_button(tool))
        layout.addWidget(how)
        layout.addWidget(colour_box)
        layout.addWidget(pins_box)
        layout.addStretch(1)

    def _palette_button(self, name: str, rgb: RGB) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setIcon(swatch_icon(rgb))
        button.setIconSize(SWATCH)
        button.setToolTip(f"{name} ({rgb[0]}, {rgb[1]}, {rgb[2]})")
        button.clicked.connect(lambda _checked=False: self.choose_colour(rgb))
        return button

    def palette_button(self, name: str) -> QToolButton:
        button = self.findChild(QToolButton, name)
        assert button is not None, name
        return button

    # --- what the window reads and tells ---------------------------------------------------

    @property
    def colour(self) -> RGB:
        return self._colour

    def choose_colour(self, rgb: RGB) -> None:
        """The user chose `rgb` (a palette swatch, the dialog, the eyedropper)."""
        self.set_colour(rgb)
        self.colourChosen.emit(rgb)

    def set_colour(self, rgb: RGB) -> None:
        """Show `rgb` as the current colour (the selected pin's), telling no one."""
        self._colour = (int(rgb[0]), int(rgb[1]), int(rgb[2]))
        self.swatch.setIcon(swatch_icon(self._colour, QSize(40, 22)))
        self.colour_label.setText("RGB {}, {}, {}".format(*self._colour))

    @property
    def picks_original(self) -> bool:
        return self.pick_from.currentIndex() == 0

    def set_picking(self, picking: bool) -> None:
        """The eyedropper's button, without a signal (a pick ended it)."""
        blocked = self.pick.blockSignals(True)
        self.pick.setChecked(picking)
        self.pick.blockSignals(blocked)

    @property
    def preview_enabled(self) -> bool:
        return self.preview.isChecked()

    def set_pin_count(self, count: int, selected: bool = False) -> None:
        text = "No pins" if count == 0 else f"{count} pin{'s' if count != 1 else ''}"
        self.pin_count.setText(f"{text} · one selected" if selected else text)

    def set_note(self, text: str) -> None:
        self.note.setText(text)
