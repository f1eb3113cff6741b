"""The Layers panel: the stack top first, with visibility, names, order, opacity and the
layer operations. It edits nothing itself: it emits what the user asked for, and the window
turns that into undoable document operations, then calls `set_layers` with the result."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from editor.doc import Layer

ID_ROLE = Qt.ItemDataRole.UserRole
# A slider drag sends many values; the document recomposites per change, so they are
# throttled: the value at most this long after a move is sent, however long the drag lasts
# (the timer is not restarted by later moves), and the last value always arrives.
OPACITY_DELAY_MS = 80


def pick_current(old: Sequence[int], new: Sequence[int], current: int | None) -> int | None:
    """The layer to select once the stack of ids `old` has become `new` (bottom first).

    As a fresh edit does, a layer that appears is selected (re-added by redo of an add, put
    back by undo of a delete or a merge: the topmost of them if several); otherwise the
    selection stays where it is; a selected layer that went gives way to the nearest layer
    below it that is still there. So undo, redo and jumps in the history never lose it.
    """
    added = [layer_id for layer_id in new if layer_id not in old]
    if added and old:  # (everything "appears" when the panel first shows a document)
        return added[-1]
    if current in new:
        return current
    if current in old:
        below = old[: old.index(current)]
        return next((i for i in reversed(below) if i in new), new[-1] if new else None)
    return new[-1] if new else None


def _moved_layer(old: Sequence[int], new: Sequence[int]) -> int | None:
    """The one id whose move turns order `old` into `new` (None if it is not one move)."""
    for layer_id in old:
        if [i for i in old if i != layer_id] == [i for i in new if i != layer_id]:
            return layer_id
    return None


class LayersPanel(QWidget):
    visibilityChanged = Signal(int, bool)
    renamed = Signal(int, str)
    moved = Signal(int, int)  # layer id, its new index in the document (0 = bottom)
    opacityChanged = Signal(int, float)
    duplicateRequested = Signal(int)
    deleteRequested = Signal(int)
    mergeDownRequested = Signal(int)
    flattenRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layers: tuple[Layer, ...] = ()
        self._rebuilding = False
        self._opacity_target: int | None = None
        self._opacity_value = 1.0
        self.list = self._build_list()
        opacity_row = self._build_opacity()
        self.duplicate_button = self._button("Duplicate", "Copy the selected layer")
        self.delete_button = self._button("Delete", "Delete the selected layer")
        self.merge_button = self._button("Merge Down", "Merge the layer into the one below")
        self.flatten_button = self._button("Flatten", "Merge every visible layer into one")
        self.duplicate_button.clicked.connect(lambda: self._request(self.duplicateRequested))
        self.delete_button.clicked.connect(lambda: self._request(self.deleteRequested))
        self.merge_button.clicked.connect(lambda: self._request(self.mergeDownRequested))
        self.flatten_button.clicked.connect(self.flattenRequested)
        buttons = QHBoxLayout()
        for button in (
            self.duplicate_button, self.delete_button, self.merge_button, self.flatten_button,
        ):  # fmt: skip
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addLayout(opacity_row)
        layout.addLayout(buttons)
        self._selection_changed()

    def _build_list(self) -> QListWidget:
        layers = QListWidget()
        layers.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        layers.setDefaultDropAction(Qt.DropAction.MoveAction)
        layers.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        layers.setToolTip("Double-click a name to rename it; drag a layer to reorder.")
        layers.itemChanged.connect(self._item_changed)
        layers.currentRowChanged.connect(self._selection_changed)
        model = layers.model()
        # Depending on the Qt version an internal move arrives as rowsMoved or as an insert
        # plus a remove: either way the new order is read once the drop is over.
        for signal in (model.rowsMoved, model.rowsInserted, model.rowsRemoved):
            signal.connect(self._rows_changed)
        return layers

    def _build_opacity(self) -> QHBoxLayout:
        self.opacity_label = QLabel("Opacity")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.valueChanged.connect(self._opacity_moved)
        self._opacity_timer = QTimer(self)
        self._opacity_timer.setSingleShot(True)
        self._opacity_timer.setInterval(OPACITY_DELAY_MS)
        self._opacity_timer.timeout.connect(self._send_opacity)
        row = QHBoxLayout()
        row.addWidget(self.opacity_label)
        row.addWidget(self.opacity, 1)
        return row

    def _button(self, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        return button

    # --- showing the stack ---------------------------------------------------------------

    def set_layers(self, layers: Sequence[Layer], current_id: int | None = None) -> None:
        """Show `layers` (bottom first, as the document has them). The selection goes to
        `current_id` if given, else follows the change (see `pick_current`)."""
        old = [layer.id for layer in self._layers]
        self._layers = tuple(layers)
        ids = [layer.id for layer in self._layers]
        if current_id not in ids:
            current_id = pick_current(old, ids, self.current_id())
        self._rebuilding = True
        try:
            with QSignalBlocker(self.list):
                self._show_items()
                rows = {layer_id: len(ids) - 1 - index for index, layer_id in enumerate(ids)}
                self.list.setCurrentRow(rows.get(current_id, -1))
        finally:
            self._rebuilding = False
        # Not `_selection_changed`: an opacity change still waiting is sent by its timer,
        # after the undo or redo being shown here has finished (never in the middle of it).
        self._show_selection()

    def _show_items(self) -> None:
        ids = [layer.id for layer in self._layers]
        if self._listed_ids() == ids[::-1]:
            # Same layers in the same order: update the items in place. This runs inside the
            # list's own itemChanged (a checkbox, a rename), when deleting the item being
            # changed would pull it from under Qt.
            for row in range(self.list.count()):
                index = len(ids) - 1 - row
                self._fill(self.list.item(row), self._layers[index], index == 0)
            return
        self.list.clear()
        for index in reversed(range(len(self._layers))):
            item = QListWidgetItem()
            self._fill(item, self._layers[index], index == 0)
            self.list.addItem(item)

    def _listed_ids(self) -> list[int | None]:
        """The ids in the list, top first, as it shows them (None for a foreign item)."""
        items = (self.list.item(row) for row in range(self.list.count()))
        return [None if (data := item.data(ID_ROLE)) is None else int(data) for item in items]

    @staticmethod
    def _fill(item: QListWidgetItem, layer: Layer, original: bool) -> None:
        item.setText(layer.name)
        item.setData(ID_ROLE, layer.id)
        flags = (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        if not original:  # the original is locked: it stays at the bottom, named as it is
            flags |= Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsDragEnabled
        item.setFlags(flags)  # no ItemIsDropEnabled: drops go between layers, not onto them
        item.setCheckState(Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
        tips = ["The original photo (locked)"] if original else []
        if layer.coverage is not None:
            tips.append("Applies only inside the mask it was made with")
        if layer.opacity < 1.0:
            tips.append(f"Opacity {round(layer.opacity * 100)} %")
        item.setToolTip("\n".join(tips))

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(ID_ROLE))

    def select(self, layer_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == layer_id:
                self.list.setCurrentRow(row)

    def _find(self, layer_id: int | None) -> tuple[int, Layer] | None:
        """The shown layer `layer_id` and its index (0 = bottom), None when not shown."""
        for index, layer in enumerate(self._layers):
            if layer.id == layer_id:
                return index, layer
        return None

    def flush_opacity(self) -> None:
        """Send a pending opacity change now, to the layer it was made for."""
        if self._opacity_timer.isActive():
            self._opacity_timer.stop()
            self._send_opacity()

    def _selection_changed(self, *_: object) -> None:
        self.flush_opacity()  # before the slider shows another layer's opacity
        self._show_selection()

    def _show_selection(self) -> None:
        """Buttons and opacity slider for the selected layer, as the document has it."""
        found = self._find(self.current_id())
        index = -1 if found is None else found[0]
        self.duplicate_button.setEnabled(found is not None)
        self.delete_button.setEnabled(index >= 1)
        self.merge_button.setEnabled(index >= 2)
        self.flatten_button.setEnabled(len(self._layers) >= 2)
        self.opacity.setEnabled(found is not None)
        with QSignalBlocker(self.opacity):
            self.opacity.setValue(100 if found is None else round(found[1].opacity * 100))
        self.opacity_label.setText(f"Opacity {self.opacity.value()} %")

    # --- user edits ----------------------------------------------------------------------

    def _request(self, signal: Signal) -> None:
        layer_id = self.current_id()
        if layer_id is not None:
            signal.emit(layer_id)

    def _item_changed(self, item: QListWidgetItem) -> None:
        if self._rebuilding:
            return
        layer_id = int(item.data(ID_ROLE))
        found = self._find(layer_id)
        if found is None:
            return
        layer = found[1]
        visible = item.checkState() == Qt.CheckState.Checked
        if visible != layer.visible:
            self.visibilityChanged.emit(layer_id, visible)
        name = item.text().strip()
        if item.text() != layer.name:
            if name and name != layer.name:
                self.renamed.emit(layer_id, name)
            else:  # emptied or only spaces added: show the name the layer has
                with QSignalBlocker(self.list):
                    item.setText(layer.name)

    def _opacity_moved(self, value: int) -> None:
        self.opacity_label.setText(f"Opacity {value} %")
        # The layer is the one selected now, even if the selection changes before it is sent.
        target = self.current_id()
        if target != self._opacity_target:
            self.flush_opacity()
        self._opacity_target, self._opacity_value = target, value / 100.0
        if not self._opacity_timer.isActive():  # a throttle: a drag must not postpone it
            self._opacity_timer.start()

    def _send_opacity(self) -> None:
        target, self._opacity_target = self._opacity_target, None
        if self._find(target) is not None:  # not a layer an undo took away meanwhile
            self.opacityChanged.emit(target, self._opacity_value)

    def _rows_changed(self, *_: QModelIndex | int) -> None:
        if not self._rebuilding:
            QTimer.singleShot(0, self, self._check_order)

    def _check_order(self) -> None:
        """After a drag: which layer moved where (a drop below the original is undone)."""
        new = [i for i in reversed(self._listed_ids()) if i is not None]
        old = [layer.id for layer in self._layers]
        if new == old:
            return
        layer_id = _moved_layer(old, new) if sorted(new) == sorted(old) else None
        if layer_id is None or new[0] != old[0]:
            self.set_layers(self._layers)  # not a move the document allows: show it as it is
            return
        self.moved.emit(layer_id, new.index(layer_id))
