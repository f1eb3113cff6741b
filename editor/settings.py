"""User preferences kept in QSettings: device, tile size, CPU threads, precision, recent files,
the mask brush's size, the folder of mask files."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from engine import api

ORGANIZATION = "RebuildingImage"
APPLICATION = "Restoration Editor"
RECENT_LIMIT = 10
MIN_TILE = 64  # the engine refuses tiles under 32 px; smaller than 64 is never useful
MAX_TILE = 4096
_DEVICE_LABELS = {
    "auto": "Auto (best available)",
    "cuda": "CUDA GPU",
    "mps": "Apple GPU (MPS)",
    "cpu": "CPU",
}
DEVICE_NAMES = {"cpu": "CPU", "cuda": "CUDA GPU", "mps": "Apple GPU (MPS)"}
_PRECISION_LABELS = {
    "auto": "Fast (reduced precision where the hardware has it)",
    "full": "Full (float32 throughout)",
}


def settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


@dataclass
class Preferences:
    device: str = "auto"
    tile: int = 0  # 0 = automatic from free memory
    threads: int = 0  # 0 = torch's default
    precision: str = "auto"  # an api.Precision value

    @classmethod
    def load(cls, store: QSettings | None = None) -> Preferences:
        store = store or settings()
        device = str(store.value("engine/device", "auto"))
        precision = str(store.value("engine/precision", "auto"))
        return cls(
            device=device if device in _DEVICE_LABELS else "auto",
            tile=valid_tile(_int(store.value("engine/tile", 0))),
            # A count saved on a bigger machine (or edited by hand) would make every run
            # fail: clamp it to what this one has.
            threads=min(max(_int(store.value("engine/threads", 0)), 0), api.thread_limit()),
            precision=precision if precision in _PRECISION_LABELS else "auto",
        )

    def save(self, store: QSettings | None = None) -> None:
        store = store or settings()
        store.setValue("engine/device", self.device)
        store.setValue("engine/tile", self.tile)
        store.setValue("engine/threads", self.threads)
        store.setValue("engine/precision", self.precision)

    def run_options(self) -> api.RunOptions:
        return api.RunOptions(
            device=self.device,
            tile=valid_tile(self.tile) or None,
            threads=self.threads or None,
            precision=api.Precision(self.precision),
        )


def run_options_for(
    prefs: Preferences, devices: list[str] | None, resources: Path | None = None
) -> api.RunOptions:
    """The preferences' options; a preferred device this machine does not offer (once the
    devices are known) becomes "auto", so runs still work (the status bar says so).
    `resources`: another folder for the engine's models (tests: tiny weights)."""
    options = prefs.run_options()
    if devices and options.device != "auto" and options.device not in devices:
        options = replace(options, device="auto")
    if resources is not None:
        options = replace(options, resources=resources)
    return options


def device_in_use(prefs: Preferences, devices: list[str] | None) -> str | None:
    """The device restorations run on ("cpu", "cuda", "mps"); None while unknown."""
    if not devices:
        return None
    return prefs.device if prefs.device in devices else devices[0]


def device_text(prefs: Preferences, devices: list[str]) -> str:
    """The status bar's words for it: "CPU (CUDA GPU is not available; using Auto)"."""
    device = device_in_use(prefs, devices) or "cpu"
    text = DEVICE_NAMES.get(device, device.upper())
    if prefs.device not in ("auto", device):
        text += f" ({DEVICE_NAMES.get(prefs.device, prefs.device)} is not available; using Auto)"
    return text


def valid_tile(tile: int) -> int:
    """0 (automatic) or a size the engine accepts: under `MIN_TILE` is automatic."""
    return 0 if tile < MIN_TILE else min(tile, MAX_TILE)


def _int(value: object) -> int:
    try:
        return max(0, int(value))  # QSettings may hand back strings
    except (TypeError, ValueError):
        return 0


def recent_files(store: QSettings | None = None) -> list[Path]:
    store = store or settings()
    value = store.value("files/recent", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [Path(p) for p in items if p]


def remember_file(path: Path, store: QSettings | None = None) -> list[Path]:
    store = store or settings()
    resolved = Path(path).resolve()
    items = [resolved] + [p for p in recent_files(store) if p != resolved]
    items = items[:RECENT_LIMIT]
    store.setValue("files/recent", [str(p) for p in items])
    return items


def mask_folder(store: QSettings | None = None) -> str:
    """The folder a mask file was last imported from or exported to ("" if never)."""
    return str((store or settings()).value("files/mask_folder", "") or "")


def remember_mask_folder(path: Path, store: QSettings | None = None) -> None:
    (store or settings()).setValue("files/mask_folder", str(Path(path).resolve().parent))


def brush_size(store: QSettings | None = None) -> int | None:
    """The mask brush's diameter when the editor last ran (None: never set)."""
    size = _int((store or settings()).value("brush/size", 0))
    return size or None


def remember_brush_size(size: int, store: QSettings | None = None) -> None:
    (store or settings()).setValue("brush/size", int(size))


class TileSpinBox(QSpinBox):
    """Automatic (shown for MIN_TILE - 1), then sizes from MIN_TILE; the arrows step
    through multiples of MIN_TILE (Automatic → 64 → 128 ...)."""

    def __init__(self) -> None:
        super().__init__()
        self.setRange(MIN_TILE - 1, MAX_TILE)
        self.setSpecialValueText("Automatic")
        self.setSuffix(" px")

    def stepBy(self, steps: int) -> None:
        value = valid_tile(self.value())
        if steps > 0:
            target = (value // MIN_TILE + steps) * MIN_TILE
        else:
            target = ((value - 1) // MIN_TILE + steps + 1) * MIN_TILE
        self.setValue(max(target, MIN_TILE - 1))


class PreferencesDialog(QDialog):
    """Device (only available ones enabled), tile size, CPU threads, precision."""

    def __init__(
        self, prefs: Preferences, available: list[str] | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.device = QComboBox()
        for key, label in _DEVICE_LABELS.items():
            self.device.addItem(label, key)
            enabled = key == "auto" or available is None or key in available
            self.device.model().item(self.device.count() - 1).setEnabled(enabled)
        self.device.setCurrentIndex(max(0, self.device.findData(prefs.device)))
        # MIN_TILE - 1 stands for Automatic: no value the engine would refuse can be chosen.
        self.tile = TileSpinBox()
        self.tile.setValue(valid_tile(prefs.tile) or MIN_TILE - 1)
        self.threads = QSpinBox()
        self.threads.setRange(0, api.thread_limit())
        self.threads.setSpecialValueText("Default")
        self.threads.setValue(prefs.threads)
        self.precision = QComboBox()
        for key, label in _PRECISION_LABELS.items():
            self.precision.addItem(label, key)
        self.precision.setCurrentIndex(max(0, self.precision.findData(prefs.precision)))
        form = QFormLayout(self)
        form.addRow("Device", self.device)
        form.addRow("Tile size", self.tile)
        form.addRow("CPU threads", self.threads)
        form.addRow("Precision", self.precision)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def preferences(self) -> Preferences:
        return Preferences(
            device=self.device.currentData(),
            tile=valid_tile(self.tile.value()),
            threads=self.threads.value(),
            precision=self.precision.currentData(),
        )
