"""Helpers shared by the editor's tests (a plain module: conftest is not importable by name
when other test folders have their own conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_png(path: Path, width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """Write a random RGB PNG and return its pixels."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def craft_ora(path: Path, meta_json: str) -> None:
    """Rewrite the .ora at `path` with `meta_json` as its restoration/meta.json."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if info.filename == "restoration/meta.json":
                data = meta_json.encode()
            archive.writestr(info, data)


class FakeHost:
    """Everything a controller may ask of its window, without a window: a document holder,
    a status line (kept in `messages`), the panels' settings, the brush. Each controller
    uses only the part its Protocol names."""

    def __init__(self, document=None) -> None:  # noqa: ANN001
        from types import SimpleNamespace

        from engine import api

        self.document = document
        self.messages: list[str] = []
        self.modified = False
        self.clean_marks = 0
        self.history_enabled = True
        self.layer_refreshes = 0
        self.confirm_answer = True
        self.canvas = SimpleNamespace(brush_radius=3.0, brush_hardness=1.0)
        self.layers_panel = SimpleNamespace(selected=None)
        self.layers_panel.select = lambda layer_id: setattr(self.layers_panel, "selected", layer_id)
        self.restore_panel = SimpleNamespace(
            only_inside_mask=False, denoise_fraction=1.0, colorize_fraction=1.0,
        )  # fmt: skip
        self.tools_panel = SimpleNamespace(sensitivity_fraction=0.5)
        self.options = api.RunOptions(device="cpu")

    dialog_parent = None

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        if text:
            self.messages.append(text)

    @property
    def is_modified(self) -> bool:
        return self.document is not None and self.modified

    def set_document(self, document, *, unsaved: bool = False) -> None:  # noqa: ANN001
        self.document, self.modified = document, unsaved

    def mark_clean(self) -> None:
        self.modified = False
        self.clean_marks += 1

    def confirm_discard(self) -> bool:
        return self.confirm_answer

    def set_history_enabled(self, enabled: bool) -> None:
        self.history_enabled = enabled

    def refresh_layers(self) -> None:
        self.layer_refreshes += 1

    def run_options(self):  # noqa: ANN201
        return self.options


def craft_stack(path: Path, size: str) -> None:
    """Rewrite the canvas size declared in the .ora's stack.xml (e.g. 'w="9" h="9"')."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in entries:
            if info.filename == "stack.xml":
                data = re.sub(rb'w="\d+" h="\d+"', size.encode(), data, count=1)
            archive.writestr(info, data)
