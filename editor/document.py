"""The image being edited, with no Qt in it, so it can be tested and reused without a display.

For now a document holds one image: the pixels as loaded (`original`) and as they are now
(`pixels`). The layered editor will replace the single `pixels` with a layer stack and a
history; observers and the saved-state tracking are meant to carry over unchanged.

Arrays are stored read-only: a task or a widget that wants other pixels must hand the
document a new array, which is what lets `modified` be a cheap identity check.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


class Change(Enum):
    """What an observer is told about."""

    LOADED = "loaded"  # a new image replaced the previous one
    PIXELS = "pixels"  # the current pixels changed (a task's result, a revert)
    SAVED = "saved"  # the current pixels were written to `path`


Observer = Callable[[Change], None]


def _frozen(array: np.ndarray) -> np.ndarray:
    # A read-only view: the caller's array keeps its own flags, ours cannot be written to.
    view = array.view()
    view.flags.writeable = False
    return view


def check_pixels(pixels: object) -> np.ndarray:
    """Return `pixels` if it is an H×W×3 uint8/uint16 array, else raise ValueError."""
    if not isinstance(pixels, np.ndarray):
        raise ValueError(f"expected a numpy array of pixels, got {type(pixels).__name__}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected H×W×3 RGB pixels, got shape {pixels.shape}")
    if pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected 8- or 16-bit pixels, got {pixels.dtype}")
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise ValueError("the image is empty")
    return pixels


class Document:
    """One open image: what was loaded, what it looks like now, and whether that is saved."""

    def __init__(self) -> None:
        self._original: np.ndarray | None = None
        self._pixels: np.ndarray | None = None
        self._saved: np.ndarray | None = None  # the pixels that match the file at `path`
        self._alpha: np.ndarray | None = None
        self._meta: Any = None
        self._path: Path | None = None
        self._observers: list[Observer] = []

    # --- state -------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return self._pixels is None

    @property
    def pixels(self) -> np.ndarray | None:
        """The current pixels (read-only), or None when nothing is open."""
        return self._pixels

    @property
    def original(self) -> np.ndarray | None:
        """The pixels as they were loaded (read-only)."""
        return self._original

    @property
    def alpha(self) -> np.ndarray | None:
        """The alpha channel as loaded; restoration tasks leave it alone."""
        return self._alpha

    @property
    def meta(self) -> Any:
        """The engine's metadata for the file (ICC profile, EXIF...), passed back on save."""
        return self._meta

    @property
    def path(self) -> Path | None:
        """The file the current pixels came from or were last saved to."""
        return self._path

    @property
    def modified(self) -> bool:
        """True when the current pixels differ from what is in the file at `path`."""
        return self._pixels is not None and self._pixels is not self._saved

    @property
    def can_revert(self) -> bool:
        return self._pixels is not None and self._pixels is not self._original

    @property
    def width(self) -> int:
        return 0 if self._pixels is None else int(self._pixels.shape[1])

    @property
    def height(self) -> int:
        return 0 if self._pixels is None else int(self._pixels.shape[0])

    @property
    def bit_depth(self) -> int:
        """Bits per channel: 8 or 16 (0 when empty)."""
        if self._pixels is None:
            return 0
        return 16 if self._pixels.dtype == np.uint16 else 8

    # --- changes -----------------------------------------------------------------------

    def load(
        self,
        pixels: np.ndarray,
        *,
        alpha: np.ndarray | None = None,
        meta: Any = None,
        path: Path | str | None = None,
    ) -> None:
        """Replace whatever was open with a freshly read image (unmodified)."""
        pixels = check_pixels(pixels)
        if alpha is not None and alpha.shape != pixels.shape[:2]:
            raise ValueError(f"alpha is {alpha.shape}, the image is {pixels.shape[:2]}")
        self._original = self._pixels = self._saved = _frozen(pixels)
        self._alpha = None if alpha is None else _frozen(alpha)
        self._meta = meta
        self._path = None if path is None else Path(path)
        self._notify(Change.LOADED)

    def apply(self, pixels: np.ndarray) -> None:
        """Make `pixels` (a task's result) the current image. Its size and depth must match,
        because alpha and metadata were made for the original."""
        if self._pixels is None:
            raise ValueError("no image is open")
        pixels = check_pixels(pixels)
        if pixels.shape != self._pixels.shape or pixels.dtype != self._pixels.dtype:
            raise ValueError(
                f"the result is {pixels.shape} {pixels.dtype}, "
                f"the image is {self._pixels.shape} {self._pixels.dtype}"
            )
        self._pixels = _frozen(pixels)
        self._notify(Change.PIXELS)

    def revert(self) -> None:
        """Go back to the pixels as loaded."""
        if not self.can_revert:
            return
        self._pixels = self._original
        self._notify(Change.PIXELS)

    def mark_saved(self, path: Path | str) -> None:
        """Record that the current pixels are now in the file at `path`."""
        if self._pixels is None:
            raise ValueError("no image is open")
        self._path = Path(path)
        self._saved = self._pixels
        self._notify(Change.SAVED)

    # --- observers ---------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` after every change; returns a function that unsubscribes it."""
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def _notify(self, change: Change) -> None:
        # A copy: an observer may unsubscribe itself while being called.
        for observer in list(self._observers):
            observer(change)
