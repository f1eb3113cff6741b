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
