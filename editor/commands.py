"""Undo commands: one small QUndoCommand per kind of document edit.

Every command is made *after* its edit succeeded, from what the document returned (the
document's operations return what undoes them). That way an edit the document refuses
(`DocumentError`) never reaches the history, and `QUndoStack.push` — which always calls
`redo()` — must not apply the edit a second time: `Recorded.redo` skips its first call.

Each command states `cost`, an upper bound of the bytes it keeps alive (every array it
refers to that the document may drop, even if an older command shares it), for the
history's memory budget (see `editor.history`); `expire()` drops that memory when the budget
is exceeded, after which the command does nothing either way.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from editor.doc import Document, FlattenUndo, Layer, MaskEdit, MaskSnapshot, MergeUndo, Pin

RGB = tuple[int, int, int]

EXPIRED = " (no longer undoable)"
OPACITY_ID = 1  # QUndoCommand.id(): consecutive opacity changes merge (mergeWith)


def layer_bytes(layer: Layer) -> int:
    coverage = 0 if layer.coverage is None else layer.coverage.nbytes
    return int(layer.pixels.nbytes + coverage)


class Recorded(QUndoCommand):
    """Base class: the edit is already done when the command is pushed."""

    def __init__(self, document: Document, text: str, cost: int = 0) -> None:
        super().__init__(text)
        self.document = document
        self.cost = cost
        self.expired = False
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True  # push() calls redo(): the edit has been done already
        elif not self.expired:
            self.apply()

    def undo(self) -> None:
        if not self.expired:
            self.revert()

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def expire(self) -> None:
        """Forget the edit (its effect stays in the document, it can no longer be undone)."""
        self.expired = True
        self.cost = 0
        self.setText(f"{self.text()}{EXPIRED}")
        self.release()

    def release(self) -> None:
        """Drop the references that hold memory (subclasses with big records override)."""


class Stroke(Recorded):
    """One brush stroke: only the rectangle it changed, before and after."""

    def __init__(self, document: Document, edit: MaskEdit, erase: bool) -> None:
        super().__init__(document, "Erase mask" if erase else "Paint mask", edit.nbytes)
        self.edit: MaskEdit | None = edit

    def apply(self) -> None:
        assert self.edit is not None
        self.document.apply_mask_patch(self.edit.y0, self.edit.x0, self.edit.after)

    def revert(self) -> None:
        assert self.edit is not None
        self.document.apply_mask_patch(self.edit.y0, self.edit.x0, self.edit.before)

    def release(self) -> None:
        self.edit = None


class MaskChange(Recorded):
    """Clear, invert, set (auto-detect): the whole mask before, compressed."""

    def __init__(self, document: Document, text: str, before: MaskSnapshot) -> None:
        super().__init__(document, text, before.nbytes)
        self.other: MaskSnapshot | None = before  # what undo (then redo) puts back

    def apply(self) -> None:
        self.revert()

    def revert(self) -> None:
        assert self.other is not None
        self.other = self.document.restore_mask(self.other)
        self.cost = self.other.nbytes

    def release(self) -> None:
        self.other = None


class AddLayer(Recorded):
    """A layer that was added (a restoration result) or duplicated, at `index`."""

    def __init__(self, document: Document, text: str, layer: Layer, owns_pixels: bool) -> None:
        # A duplicate shares its pixels with the layer it copies: it costs next to nothing.
        super().__init__(document, text, layer_bytes(layer) if owns_pixels else 0)
        self.layer: Layer | None = layer
        self.index = document.index_of(layer.id)

    def apply(self) -> None:
        assert self.layer is not None
        self.document.insert_layer(self.layer, self.index)

    def revert(self) -> None:
        assert self.layer is not None
        self.document.remove_layer(self.layer.id)

    def release(self) -> None:
        self.layer = None


class RemoveLayer(Recorded):
    def __init__(self, document: Document, layer: Layer, index: int) -> None:
        super().__init__(document, f"Delete “{layer.name}”", layer_bytes(layer))
        self.layer: Layer | None = layer
        self.index = index

    def apply(self) -> None:
        assert self.layer is not None
        self.document.remove_layer(self.layer.id)

    def revert(self) -> None:
        assert self.layer is not None
        self.document.insert_layer(self.layer, self.index)

    def release(self) -> None:
        self.layer = None


class RenameLayer(Recorded):
    def __init__(self, document: Document, layer_id: int, old: str, new: str) -> None:
        super().__init__(document, f"Rename “{old}” to “{new}”")
        self.layer_id, self.old, self.new = layer_id, old, new

    def apply(self) -> None:
        self.document.rename_layer(self.layer_id, self.new)

    def revert(self) -> None:
        self.document.rename_layer(self.layer_id, self.old)


class SetVisible(Recorded):
    def __init__(self, document: Document, layer_id: int, visible: bool) -> None:
        name = document.layer(layer_id).name
        super().__init__(document, f"{'Show' if visible else 'Hide'} “{name}”")
        self.layer_id, self.visible = layer_id, visible

    def apply(self) -> None:
        self.document.set_visible(self.layer_id, self.visible)

    def revert(self) -> None:
        self.document.set_visible(self.layer_id, not self.visible)


class SetOpacity(Recorded):
    """Consecutive changes of the same layer's opacity are one step (a slider drag)."""

    def __init__(self, document: Document, layer_id: int, old: float, new: float) -> None:
        super().__init__(document, f"Opacity of “{document.layer(layer_id).name}”")
        self.layer_id, self.old, self.new = layer_id, old, new

    def id(self) -> int:
        return OPACITY_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetOpacity) or other.layer_id != self.layer_id:
            return False
        if self.expired or other.expired:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)  # dragged back to where it was: no step
        return True

    def apply(self) -> None:
        self.document.set_opacity(self.layer_id, self.new)

    def revert(self) -> None:
        self.document.set_opacity(self.layer_id, self.old)


class MoveLayer(Recorded):
    def __init__(self, document: Document, layer_id: int, old_index: int, new_index: int) -> None:
        super().__init__(document, f"Move “{document.layer(layer_id).name}”")
        self.layer_id, self.old_index, self.new_index = layer_id, old_index, new_index

    def apply(self) -> None:
        self.document.move_layer(self.layer_id, self.new_index)

    def revert(self) -> None:
        self.document.move_layer(self.layer_id, self.old_index)


class MergeDown(Recorded):
    def __init__(self, document: Document, record: MergeUndo) -> None:
        text = f"Merge “{record.upper.name}” down"
        cost = sum(layer_bytes(x) for x in (record.lower, record.upper, record.merged))
        super().__init__(document, text, cost)
        self.record: MergeUndo | None = record

    def apply(self) -> None:
        assert self.record is not None
        self.document.reapply_merge(self.record)

    def revert(self) -> None:
        assert self.record is not None
        self.document.restore_merge(self.record)

    def release(self) -> None:
        self.record = None


class Flatten(Recorded):
    def __init__(self, document: Document, record: FlattenUndo) -> None:
        layers = {id(x): x for x in (*record.before[1:], *record.after[1:])}
        super().__init__(document, "Flatten", sum(map(layer_bytes, layers.values())))
        self.record: FlattenUndo | None = record

    def apply(self) -> None:
        assert self.record is not None
        self.document.reapply_flatten(self.record)

    def revert(self) -> None:
        assert self.record is not None
        self.document.restore_flatten(self.record)

    def release(self) -> None:
        self.record = None


# --- colour pins (`editor.doc.hints`): a few bytes each, nothing to expire --------------------


class AddPin(Recorded):
    def __init__(self, document: Document, pin: Pin) -> None:
        super().__init__(document, "Add colour pin")
        self.pin, self.index = pin, document.pin_index(pin.id)

    def apply(self) -> None:
        self.document.insert_pin(self.pin, self.index)

    def revert(self) -> None:
        self.document.remove_pin(self.pin.id)


class RemovePin(Recorded):
    def __init__(self, document: Document, pin: Pin, index: int) -> None:
        super().__init__(document, "Remove colour pin")
        self.pin, self.index = pin, index

    def apply(self) -> None:
        self.document.remove_pin(self.pin.id)

    def revert(self) -> None:
        self.document.insert_pin(self.pin, self.index)


class MovePin(Recorded):
    """One drag: the canvas reports the pin's move once, when the button is released."""

    def __init__(
        self, document: Document, pin_id: int, old: tuple[float, float], new: tuple[float, float]
    ) -> None:
        super().__init__(document, "Move colour pin")
        self.pin_id, self.old, self.new = pin_id, old, new

    def apply(self) -> None:
        self.document.move_pin(self.pin_id, *self.new)

    def revert(self) -> None:
        self.document.move_pin(self.pin_id, *self.old)


class RecolourPin(Recorded):
    def __init__(self, document: Document, pin_id: int, old: RGB, new: RGB) -> None:
        super().__init__(document, "Recolour pin")
        self.pin_id, self.old, self.new = pin_id, old, new

    def apply(self) -> None:
        self.document.recolour_pin(self.pin_id, self.new)

    def revert(self) -> None:
        self.document.recolour_pin(self.pin_id, self.old)


class SetPins(Recorded):
    """Every pin replaced at once (Clear pins): the pins before, the pins after."""

    def __init__(
        self, document: Document, text: str, before: tuple[Pin, ...], after: tuple[Pin, ...]
    ) -> None:
        super().__init__(document, text)
        self.before, self.after = before, after

    def apply(self) -> None:
        self.document.set_pins(self.after)

    def revert(self) -> None:
        self.document.set_pins(self.before)
