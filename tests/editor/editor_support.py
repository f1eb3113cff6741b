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
