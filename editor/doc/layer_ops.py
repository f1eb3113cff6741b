"""The document's layer-stack operations, as a base class of `Document`.

They live in their own module only to keep each file short; `Document` is the one public
class. Each operation returns what undoes it (see `editor.doc.document`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from editor.doc.layers import FlattenUndo, Layer, MergeUndo, merge_pair
from editor.doc.types import (
    ChangeKind,
    DocumentError,
    Region,
    check_pixels,
    check_plane,
    check_region,
    frozen,
    slices,
)


class LayerOperations:
    """The layer stack and its editing; `Document` provides the rest."""

    _layers: tuple[Layer, ...]
    _ids: Iterator[int]

    # Provided by Document.
    shape: tuple[int, int, int]
    dtype: np.dtype

    def _changed(self, kind: ChangeKind, region: Region | None, visual: bool = True) -> None:
        raise NotImplementedError

    def composite(self, region: Region | None = None) -> np.ndarray:
        raise NotImplementedError

    # --- reading layers ------------------------------------------------------------------

    @property
    def layers(self) -> tuple[Layer, ...]:
        """Bottom → top; index 0 is the locked original."""
        return self._layers

    @property
    def original(self) -> Layer:
        return self._layers[0]

    def index_of(self, layer_id: int) -> int:
        for index, layer in enumerate(self._layers):
            if layer.id == layer_id:
                return index
        raise DocumentError(f"there is no layer {layer_id}")

    def layer(self, layer_id: int) -> Layer:
        return self._layers[self.index_of(layer_id)]

    # --- layer operations ----------------------------------------------------------------

    def add_layer(
        self,
        pixels: np.ndarray,
        name: str,
        *,
        index: int | None = None,
        coverage: np.ndarray | None = None,
    ) -> Layer:
        """A new layer at `index` (default: on top). Undo: ``remove_layer(layer.id)``; redo:
        ``insert_layer(layer, index)``. The document keeps `pixels` (a read-only view): the
        caller must not write into that array afterwards."""
        layer = Layer(next(self._ids), self._name(name), pixels, coverage=coverage)
        self.insert_layer(layer, len(self._layers) if index is None else index)
        return self._layers[self.index_of(layer.id)]

    def insert_layer(self, layer: Layer, index: int) -> None:
        """Put `layer` (e.g. one `remove_layer` returned) back at `index` (≥ 1)."""
        if any(existing.id == layer.id for existing in self._layers):
            raise DocumentError(f"layer {layer.id} is already in the document")
        if not 1 <= index <= len(self._layers):
            raise DocumentError(f"a layer goes above the original: index 1..{len(self._layers)}")
        layer = self._checked(layer)
        # Ids are never given twice, even to a layer that came from elsewhere.
        self._ids = itertools.count(max(next(self._ids), layer.id + 1))
        self._set_stack(self._layers[:index] + (layer,) + self._layers[index:])

    def remove_layer(self, layer_id: int) -> tuple[Layer, int]:
        """Take a layer out; returns it and its index, for `insert_layer`."""
        index = self._unlocked(layer_id, "remove")
        layer = self._layers[index]
        self._set_stack(self._layers[:index] + self._layers[index + 1 :])
        return layer, index

    def duplicate_layer(self, layer_id: int) -> Layer:
        """A copy just above (sharing the read-only pixels); undo: ``remove_layer(copy.id)``."""
        index = self.index_of(layer_id)
        source = self._layers[index]
        copy = replace(source, id=next(self._ids), name=f"{source.name} copy", locked=False)
        self._set_stack(self._layers[: index + 1] + (copy,) + self._layers[index + 1 :])
        return copy

    def rename_layer(self, layer_id: int, name: str) -> str:
        """Returns the old name."""
        return self._update(layer_id, "name", self._name(name))

    def set_visible(self, layer_id: int, visible: bool) -> bool:
        """Returns the old visibility."""
        return self._update(layer_id, "visible", bool(visible))

    def set_opacity(self, layer_id: int, opacity: float) -> float:
        """Set the opacity (clamped to 0..1); returns the old one."""
        if not math.isfinite(opacity):
            raise DocumentError(f"opacity must be a number within 0..1, got {opacity}")
        return self._update(layer_id, "opacity", min(1.0, max(0.0, float(opacity))))

    def move_layer(self, layer_id: int, new_index: int) -> int:
        """Move a layer to `new_index` (≥ 1: the original stays at the bottom); returns its
        old index (undo: ``move_layer(id, old_index)``)."""
        index = self._unlocked(layer_id, "move")
        if not 1 <= new_index < len(self._layers):
            raise DocumentError(
                f"a layer can move to index 1..{len(self._layers) - 1}: the original stays "
                "at the bottom"
            )
        stack = list(self._layers)
        stack.insert(new_index, stack.pop(index))
        self._set_stack(tuple(stack))
        return index

    def merge_down(self, layer_id: int) -> MergeUndo:
        """Merge a layer into the one below it, which keeps its id and name."""
        index = self._unlocked(layer_id, "merge")
        if index == 1:
            raise DocumentError("cannot merge into the locked original (flatten instead)")
        lower, upper = self._layers[index - 1], self._layers[index]
        if not (lower.visible and upper.visible):
            raise DocumentError("show both layers before merging them")
        merged = merge_pair(lower, upper)
        merged = replace(merged, pixels=frozen(merged.pixels))
        undo = MergeUndo(index - 1, lower, upper, merged)
        self.reapply_merge(undo)
        return undo

    def restore_merge(self, undo: MergeUndo) -> None:
        """Undo `merge_down`: the two layers come back as they were."""
        self._expect([undo.merged], undo.index, "undo the merge")
        stack = self._layers
        self._set_stack(stack[: undo.index] + (undo.lower, undo.upper) + stack[undo.index + 1 :])

    def reapply_merge(self, undo: MergeUndo) -> None:
        """Redo `merge_down` with the same result."""
        self._expect([undo.lower, undo.upper], undo.index, "merge")
        stack = self._layers
        self._set_stack(stack[: undo.index] + (undo.merged,) + stack[undo.index + 2 :])

    def flatten(self) -> FlattenUndo:
        """All visible layers into one "Flattened" layer above the original (hidden layers
        are dropped; the composite is unchanged). Undo: ``restore_flatten(undo)``."""
        if len(self._layers) < 2:
            raise DocumentError("there is nothing to flatten: only the original")
        pixels = frozen(self.composite())
        flat = Layer(next(self._ids), "Flattened", pixels)
        undo = FlattenUndo(self._layers, (self._layers[0], flat))
        self.reapply_flatten(undo)
        return undo

    def restore_flatten(self, undo: FlattenUndo) -> None:
        self._expect(undo.after, 0, "undo the flatten")
        self._set_stack(undo.before)

    def reapply_flatten(self, undo: FlattenUndo) -> None:
        self._expect(undo.before, 0, "flatten")
        self._set_stack(undo.after)

    def apply_pixels_patch(self, layer_id: int, y0: int, x0: int, patch: np.ndarray) -> np.ndarray:
        """Write `patch` (h×w×3) into a layer at ``(y0, x0)``; returns the pixels it replaced.

        The layer gets a new array (others may share the old one), so this costs a copy of
        the layer: meant for occasional edits, not for every mouse move.
        """
        index = self._unlocked(layer_id, "edit")
        layer = self._layers[index]
        if not isinstance(patch, np.ndarray) or patch.ndim != 3 or patch.dtype != self.dtype:
            raise ValueError(f"a pixel patch must be an h×w×3 {self.dtype} array")
        region = check_region((y0, y0 + patch.shape[0], x0, x0 + patch.shape[1]), *self.shape[:2])
        pixels = layer.pixels.copy()
        target = pixels[slices(region)]
        old = target.copy()
        target[...] = patch
        self._layers = tuple(
            replace(layer, pixels=frozen(pixels)) if i == index else existing
            for i, existing in enumerate(self._layers)
        )
        self._changed(ChangeKind.PIXELS, region)
        return old

    # --- helpers -------------------------------------------------------------------------

    def _set_stack(self, layers: tuple[Layer, ...], visual: bool = True) -> None:
        self._layers = layers
        self._changed(ChangeKind.LAYERS, None, visual)

    def _update(self, layer_id: int, field: str, value: Any) -> Any:
        index = self.index_of(layer_id)
        layer = self._layers[index]
        old = getattr(layer, field)
        stack = list(self._layers)
        stack[index] = replace(layer, **{field: value})
        self._set_stack(tuple(stack), visual=field != "name")  # a name is not drawn
        return old

    def _unlocked(self, layer_id: int, action: str) -> int:
        index = self.index_of(layer_id)
        layer = self._layers[index]
        if layer.locked or index == 0:
            raise DocumentError(f"cannot {action} “{layer.name}”: the original is locked")
        return index

    def _expect(self, layers: Sequence[Layer], index: int, action: str) -> None:
        # Undo records are only valid on the stack they were made for; ids tell.
        ids = [layer.id for layer in self._layers[index : index + len(layers)]]
        if ids != [layer.id for layer in layers] or (
            index == 0 and len(layers) != len(self._layers)
        ):
            raise DocumentError(f"cannot {action}: the layers have changed since")

    @staticmethod
    def _name(name: str) -> str:
        name = str(name).strip()
        if not name:
            raise DocumentError("a layer needs a name")
        return name

    def _checked(self, layer: Layer) -> Layer:
        """`layer` validated for this document, with read-only arrays."""
        if layer.locked:
            raise DocumentError("only the original layer can be locked")
        pixels = check_pixels(layer.pixels)
        if pixels.shape != self.shape or pixels.dtype != self.dtype:
            raise DocumentError(
                f"layer “{layer.name}” is {pixels.shape} {pixels.dtype}, "
                f"the document is {self.shape} {self.dtype}"
            )
        coverage = layer.coverage
        if coverage is not None:
            coverage = frozen(check_plane(coverage, self.shape[:2], "the coverage", np.uint8))
        if not math.isfinite(layer.opacity):
            raise DocumentError(f"layer “{layer.name}” has no valid opacity")
        opacity = min(1.0, max(0.0, float(layer.opacity)))
        return replace(layer, pixels=frozen(pixels), coverage=coverage, opacity=opacity)
