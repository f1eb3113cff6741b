"""The window's engine: torch imported on a background thread once the window shows, the
devices it offers, the device label in the status bar, and the options every run takes.

A mixin of `MainWindow` (kept apart to keep the window's module short); it relies on the
window's `preferences`, `devices`, `engine_resources`, `engine_error`, `_loader` and
`device_label`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from editor import settings as settings_module
from editor.settings import Preferences, device_text
from editor.worker import ProgressCallback, WorkerThread, failure_detail
from engine import api

LOADING = "Loading engine…"


def load_engine(_progress: ProgressCallback, _cancel: api.CancelToken) -> list[str]:
    """Import torch and the networks; the devices this machine offers (background thread)."""
    api.preload()
    return api.available_devices()


class EngineStatusMixin:
    """MainWindow's engine loading and device display (see the module docstring)."""

    preferences: Preferences
    devices: list[str] | None
    engine_resources: Path | None
    engine_error: str | None
    device_label: QLabel
    _loader: WorkerThread | None

    def run_options(self) -> api.RunOptions:
        return settings_module.run_options_for(
            self.preferences, self.devices, self.engine_resources
        )

    def start_engine_loading(self) -> None:
        """Import the engine (torch) on a background thread; call once the window shows."""
        if self.devices is not None or self._loader is not None:
            return
        self._loader = WorkerThread("Engine loader", load_engine)
        self._loader.ended.connect(self._engine_loaded)
        self._loader.start_work()
        self._refresh_device()

    def _engine_loaded(self) -> None:
        loader, self._loader = self._loader, None
        if loader is None:
            return
        outcome = loader.outcome
        if outcome.error is not None or not isinstance(outcome.result, list):
            self.engine_error = failure_detail(outcome.error or TypeError("no device list"))
        else:
            self.devices = list(outcome.result)
        self._refresh_device()

    def device_in_use(self) -> str | None:
        """The device restorations run on ("cpu", "cuda", "mps"); None while unknown."""
        return settings_module.device_in_use(self.preferences, self.devices)

    def _refresh_device(self) -> None:
        if self.engine_error is not None:
            self.device_label.setText("Engine unavailable")
            self.device_label.setToolTip(self.engine_error)
        elif not self.devices:
            self.device_label.setText(LOADING if self._loader is not None else "")
        else:
            self.device_label.setText(device_text(self.preferences, self.devices))
            self.device_label.setToolTip("The device restorations run on (Edit ▸ Preferences)")
