"""Edits of the open document, each made undoable: brush strokes from the canvas, layer
operations from the Layers panel, mask operations, and restoration results.

Every edit is done first, through the document's public methods, and recorded second (see
`editor.commands`), so an edit the document refuses becomes a status-bar message and never
a history step. Mask edits wait while a brush stroke is in progress (the document refuses
them then): `after_stroke` runs them once the stroke has ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand, QUndoStack

from editor import commands
from editor.doc import BrushStroke, Document, DocumentError, Layer

STATUS_MS = 6000


class Brush(Protocol):
    """The mask brush (the canvas's): radius in image pixels, hardness 0..1."""

    @property
    def brush_radius(self) -> float: ...
    @property
    def brush_hardness(self) -> float: ...


class LayerList(Protocol):
    """The Layers panel: which layer is selected."""

    def select(self, layer_id: int) -> None: ...


class EditHost(Protocol):
    """What edits need from the window: the open document and the views around it."""

    @property
    def document(self) -> Document | None: ...
    @property
    def canvas(self) -> Brush: ...
    @property
    def layers_panel(self) -> LayerList: ...
    def show_status(self, text: str, timeout_ms: int = 0) -> None: ...
    def set_history_enabled(self, enabled: bool) -> None: ...
    def refresh_layers(self) -> None: ...


class EditController(QObject):
    def __init__(self, host: EditHost, history: QUndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.history = history
        self._erasing = False
        self._after_stroke: list[Callable[[], object]] = []

    @property
    def document(self) -> Document | None:
        return self.host.document

    def record(self, edit: Callable[[Document], QUndoCommand | None]) -> bool:
        """Run `edit(document)`, which edits and returns the command recording it; push it.
        A refused edit is reported in the status bar and leaves no step."""
        document = self.document
        if document is None:
            return False
        try:
            command = edit(document)
        except (DocumentError, ValueError) as error:
            self.host.show_status(str(error), STATUS_MS)
            return False
        if command is not None:
            self.history.push(command)
        return True

    # --- brush strokes -------------------------------------------------------------------

    @property
    def stroking(self) -> bool:
        return self.document is not None and self.document.stroke_in_progress

    def stroke_started(self, erase: bool) -> None:
        document = self.document
        if document is None or document.stroke_in_progress:
            return
        brush = self.host.canvas
        document.begin_stroke(BrushStroke(brush.brush_radius, brush.brush_hardness, erase))
        self._erasing = erase
        # Undoing in the middle of a stroke would change the mask under it.
        self.host.set_history_enabled(False)

    def stroke_segment(self, _x0: float, _y0: float, x1: float, y1: float) -> None:
        # The document remembers where the stroke is: only the new end point is needed.
        if self.stroking:
            self.document.stroke_to((x1, y1))  # type: ignore[union-attr]

    def stroke_finished(self) -> None:
        document = self.document
        if document is None or not document.stroke_in_progress:
            return
        edit = document.end_stroke()
        self.host.set_history_enabled(True)
        if edit is not None:
            self.history.push(commands.Stroke(document, edit, self._erasing))
        waiting, self._after_stroke = self._after_stroke, []
        for callback in waiting:
            callback()

    def after_stroke(self, callback: Callable[[], object]) -> None:
        """Run `callback` now, or when the stroke in progress ends."""
        if self.stroking:
            self._after_stroke.append(callback)
        else:
            callback()

    def cancel_stroke(self) -> None:
        """Abandon the stroke in progress (e.g. the document is being replaced)."""
        if self.stroking:
            self.document.cancel_stroke()  # type: ignore[union-attr]
            self.host.set_history_enabled(True)
        self._after_stroke.clear()

    # --- the mask ------------------------------------------------------------------------

    def clear_mask(self) -> None:
        self.after_stroke(
            lambda: self.record(lambda d: commands.MaskChange(d, "Clear mask", d.clear_mask()))
        )

    def invert_mask(self) -> None:
        self.after_stroke(
            lambda: self.record(lambda d: commands.MaskChange(d, "Invert mask", d.invert_mask()))
        )

    def add_to_mask(self, found: np.ndarray, text: str) -> None:
        """Add the holes of `found` (bool H×W, e.g. detected damage) to the mask."""

        def edit(document: Document) -> QUndoCommand:
            merged = np.maximum(document.mask, found.astype(np.uint8) * np.uint8(255))
            return commands.MaskChange(document, text, document.set_mask(merged))

        self.after_stroke(lambda: self.record(edit))

    def replace_mask(self, mask: np.ndarray, text: str) -> None:
        """Make `mask` (H×W uint8, or bool) the whole mask, e.g. one imported from a file."""
        self.after_stroke(
            lambda: self.record(lambda d: commands.MaskChange(d, text, d.set_mask(mask)))
        )

    # --- layers --------------------------------------------------------------------------

    def add_result(
        self,
        result: np.ndarray,
        name: str,
        coverage: np.ndarray | None,
        clear_mask: bool | np.ndarray,
    ) -> Document:
        """Add a restoration's result as a new top layer, as one step. `clear_mask` (after
        inpainting): the holes that were filled (bool H×W), cleared from the mask in the
        same step; strokes painted while the task ran stay. True clears the whole mask.
        Raises DocumentError or ValueError, with the document unchanged, for a result that
        does not fit it."""
        document = self.document
        if document is None:
            raise DocumentError("no document is open")
        filled = clear_mask if isinstance(clear_mask, np.ndarray) else None
        if filled is not None and filled.shape != document.shape[:2]:
            raise ValueError(f"the filled holes are {filled.shape}, the image {document.shape}")
        layer = document.add_layer(result, name, coverage=coverage)
        history = self.history
        history.beginMacro(name)
        history.push(commands.AddLayer(document, name, layer, owns_pixels=True))
        if filled is not None:
            cleared = document.clear_holes(filled)  # the holes and their soft brush edge
            if cleared is not None:
                history.push(commands.MaskChange(document, "Clear mask", cleared))
        elif clear_mask and document.mask_bbox() is not None:
            history.push(commands.MaskChange(document, "Clear mask", document.clear_mask()))
        history.endMacro()
        self.host.layers_panel.select(layer.id)
        return document

    def add_results(
        self, results: Sequence[tuple[np.ndarray, str]], mask: np.ndarray | None, text: str
    ) -> list[Layer]:
        """Add several results as new top layers (in order, the last on top) and make `mask`
        (bool H×W, if given) the whole mask, all as ONE step named `text` (Restore Photo).
        Raises DocumentError or ValueError, with the document unchanged, for a result that
        does not fit it."""
        document = self.document
        if document is None:
            raise DocumentError("no document is open")
        for pixels, name in results:
            if pixels.shape != document.shape or pixels.dtype != document.dtype:
                raise ValueError(
                    f"“{name}” is {pixels.shape} {pixels.dtype}, "
                    f"the photo {document.shape} {document.dtype}"
                )
        if mask is not None and mask.shape != document.shape[:2]:
            raise ValueError(f"the mask is {mask.shape}, the photo {document.shape[:2]}")
        added: list[Layer] = []
        try:
            for pixels, name in results:
                added.append(document.add_layer(pixels, name))
            before = None if mask is None else document.set_mask(mask)
        except (DocumentError, ValueError):
            for layer in reversed(added):  # nothing half-applied
                document.remove_layer(layer.id)
            raise
        if not added and before is None:
            return added
        self.history.beginMacro(text)
        for layer in added:
            self.history.push(commands.AddLayer(document, layer.name, layer, owns_pixels=True))
        if before is not None:
            self.history.push(commands.MaskChange(document, "Mask the damage found", before))
        self.history.endMacro()
        if added:
            self.host.layers_panel.select(added[-1].id)
        return added

    def set_visible(self, layer_id: int, visible: bool) -> None:
        def edit(d: Document) -> QUndoCommand | None:
            old = d.set_visible(layer_id, visible)
            return None if old == visible else commands.SetVisible(d, layer_id, visible)

        self.record(edit)

    def rename(self, layer_id: int, name: str) -> None:
        def edit(d: Document) -> QUndoCommand:
            old = d.rename_layer(layer_id, name)
            return commands.RenameLayer(d, layer_id, old, d.layer(layer_id).name)

        if not self.record(edit):
            self.host.refresh_layers()  # the panel shows the typed name: put back the real one

    def set_opacity(self, layer_id: int, opacity: float) -> None:
        def edit(d: Document) -> QUndoCommand | None:
            old = d.set_opacity(layer_id, opacity)
            new = d.layer(layer_id).opacity
            return None if new == old else commands.SetOpacity(d, layer_id, old, new)

        self.record(edit)

    def move(self, layer_id: int, new_index: int) -> None:
        def edit(d: Document) -> QUndoCommand | None:
            old = d.move_layer(layer_id, new_index)
            return None if old == new_index else commands.MoveLayer(d, layer_id, old, new_index)

        if not self.record(edit):
            self.host.refresh_layers()

    def duplicate(self, layer_id: int) -> None:
        def edit(d: Document) -> QUndoCommand:
            copy = d.duplicate_layer(layer_id)
            self.host.layers_panel.select(copy.id)
            return commands.AddLayer(d, f"Duplicate “{d.layer(layer_id).name}”", copy, False)

        self.record(edit)

    def delete(self, layer_id: int) -> None:
        self.record(lambda d: commands.RemoveLayer(d, *d.remove_layer(layer_id)))

    def merge_down(self, layer_id: int) -> None:
        self.record(lambda d: commands.MergeDown(d, d.merge_down(layer_id)))

    def flatten(self) -> None:
        self.record(lambda d: commands.Flatten(d, d.flatten()))
