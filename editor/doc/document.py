"""The layered document: the locked original, result layers above it, and one mask.

Every operation returns what undoes it and the editor wraps each in a small QUndoCommand
that calls these public methods: e.g. ``old = doc.rename_layer(id, new)`` then undo is
``doc.rename_layer(id, old)``. Layers are immutable and their arrays read-only, so undo
records share them instead of copying pixels.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from editor.doc.hints import HintOperations
from editor.doc.layer_ops import LayerOperations
from editor.doc.layers import (
    DocumentSnapshot,
    Layer,
    composite_layers,
    to_rgb8,
)
from editor.doc.mask_ops import MaskOperations
from editor.doc.types import (
    Change,
    ChangeKind,
    DocumentError,
    Observer,
    Region,
    check_pixels,
    check_plane,
    check_region,
    frozen,
)
from engine import api

ORIGINAL_NAME = "Original"


class Document(LayerOperations, MaskOperations, HintOperations):
    """One image being restored. See the module docstring for the undo contract."""

    def __init__(
        self,
        pixels: np.ndarray,
        *,
        alpha: np.ndarray | None = None,
        meta: Any = None,
        path: Path | str | None = None,
        name: str | None = None,
    ) -> None:
        pixels = check_pixels(pixels)
        self._ids = itertools.count(1)
        original = Layer(next(self._ids), ORIGINAL_NAME, frozen(pixels), locked=True)
        self._setup((original,), None, alpha, meta, path, name)

    @classmethod
    def from_layers(
        cls,
        layers: Sequence[Layer],
        *,
        mask: np.ndarray | None = None,
        alpha: np.ndarray | None = None,
        meta: Any = None,
        path: Path | str | None = None,
        name: str | None = None,
        hints: Sequence[api.ColourHint] = (),
    ) -> Document:
        """A document from a whole stack (bottom first; the first layer is made the locked
        original), e.g. as read from a file. Layer ids must be unique; they are kept.
        `hints` become its colour pins (each must lie on the photo)."""
        if not layers:
            raise DocumentError("a document needs at least one layer")
        first = layers[0]
        original = replace(first, pixels=frozen(check_pixels(first.pixels)), locked=True)
        if original.coverage is not None:
            raise DocumentError("the original layer cannot have a coverage")
        doc = cls.__new__(cls)
        ids = [layer.id for layer in layers]
        if len(set(ids)) != len(ids):
            raise DocumentError(f"duplicate layer ids: {ids}")
        doc._ids = itertools.count(max(ids) + 1)
        doc._setup((original,), mask, alpha, meta, path, name)
        doc._layers = (original, *(doc._checked(layer) for layer in layers[1:]))
        doc._init_pins(hints)
        return doc

    def _setup(
        self,
        layers: tuple[Layer, ...],
        mask: np.ndarray | None,
        alpha: np.ndarray | None,
        meta: Any,
        path: Path | str | None,
        name: str | None,
    ) -> None:
        self._layers = layers
        self._init_pins()
        shape = self.shape[:2]
        self._mask = np.zeros(shape, np.uint8)
        if mask is not None:
            self._mask[...] = check_plane(mask, shape, "the mask", np.uint8)
        if alpha is not None:
            alpha = frozen(check_plane(alpha, shape, "the alpha channel", self.dtype))
        self._alpha = alpha
        self.meta = meta  # opaque (typically engine.api.ImageMeta): given back on export
        self.path = None if path is None else Path(path)
        self.name = name or (self.path.stem if self.path else "Untitled")
        self._stroke = None
        self._observers: list[Observer] = []
        self._revision = 0
        self._saved_revision = 0

    # --- image properties ----------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self._layers[0].pixels.shape)  # type: ignore[return-value]

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self._layers[0].pixels.dtype

    @property
    def bit_depth(self) -> int:
        return 16 if self.dtype == np.uint16 else 8

    @property
    def alpha(self) -> np.ndarray | None:
        """The original's alpha (H×W, the document's dtype), kept for export only."""
        return self._alpha

    # --- saved state and observers -------------------------------------------------------

    @property
    def revision(self) -> int:
        """Counts changes; compared with the revision `mark_saved` recorded."""
        return self._revision

    @property
    def modified(self) -> bool:
        return self._revision != self._saved_revision

    def mark_saved(self, path: Path | str | None = None) -> None:
        """The document as it is now is in a file (at `path`, which names it, if given)."""
        if path is not None:
            self.path = Path(path)
            self.name = self.path.stem
        self._saved_revision = self._revision

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer` with a `Change` after every change; returns the unsubscriber."""
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def _changed(self, kind: ChangeKind, region: Region | None, visual: bool = True) -> None:
        self._revision += 1
        # A copy: an observer may unsubscribe itself while being called.
        for observer in list(self._observers):
            observer(Change(kind, region, visual))

    def snapshot(self) -> DocumentSnapshot:
        """A frozen view to save from another thread (copies only the mask)."""
        return DocumentSnapshot(
            self._layers, self._mask.copy(), self._alpha, self.meta, self.name, self.path,
            self.colour_hints(),
        )  # fmt: skip

    # --- composite ----------------------------------------------------------------------

    def composite(self, region: Region | None = None) -> np.ndarray:
        """The visible layers blended (see `composite_layers`), only inside `region`."""
        region = check_region(region, self.height, self.width)
        return composite_layers(self._layers, self.shape[:2], self.dtype, region)

    def composite_rgb8(self, region: Region | None = None) -> np.ndarray:
        """`composite` for display: 8-bit (16-bit values rounded by ``(x + 128) // 257``)."""
        return to_rgb8(self.composite(region))
