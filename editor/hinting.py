"""The Colour Hint tool: the canvas's clicks and drags become undoable pin edits, the
Colour Hints panel gives them their colour, and the colorize preview follows them.

Every edit goes through the document's public methods and is recorded as a small command
(`editor.commands`) by the `EditController`, so a refused edit (a pin off the photo) is a
status-bar line and no step. Choosing a colour while a pin is selected recolours it (one
step). The eyedropper is armed for every open window at once: a click on any of their
canvases gives its photo's colour there to the window that armed it.

The preview runs while the tool is on and "Live preview" is checked: after each change of
the pins, the layers or the strength, `PreviewRunner` colorizes a small copy on its own
thread and the canvas shows it over the photo. Where the installed colorizer takes no
hints and there are pins, the preview (and Colorize) say so in one line instead; the pins
stay in the document.
"""

from __future__ import annotations

import weakref
from typing import Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QSlider

from editor import commands, dialogs
from editor.canvas import CanvasView, Tool
from editor.doc import Document, Pin
from editor.editing import EditController
from editor.hint_support import NO_HINTS, known_takes_hints
from editor.jobs import STATUS_MS, Feedback, JobRunner
from editor.panels.hints import HintsPanel
from editor.preview import PreviewRequest, PreviewResult, PreviewRunner
from editor.worker import plain_reason
from engine import api

PREVIEW_DELAY_MS = 40  # changes within this are one preview (undo held down, a quick burst)

# Every window's controller, for the eyedropper: it picks from whichever photo is clicked.
_controllers: weakref.WeakSet[HintController] = weakref.WeakSet()


class Strength(Protocol):
    @property
    def colorize_fraction(self) -> float: ...


class HintHost(Feedback, Protocol):
    """What the tool needs from the window."""

    @property
    def document(self) -> Document | None: ...
    @property
    def canvas(self) -> CanvasView: ...
    @property
    def edits(self) -> EditController: ...
    @property
    def runner(self) -> JobRunner: ...
    @property
    def restore_panel(self) -> Strength: ...
    def run_options(self) -> api.RunOptions: ...


def _tidy(value: float, limit: int) -> float:
    """A position to a tenth of a pixel (readable hint files), still on the photo."""
    return min(round(value, 1), limit - 0.1) if limit > 1 else 0.0


class HintController(QObject):
    def __init__(self, host: HintHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.panel: HintsPanel | None = None
        self.preview = PreviewRunner(self)
        self._active = False
        self._after_job = False  # a preview is due once the running job ends
        self._picking_for: HintController | None = None
        self._timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._run_preview)
        canvas = host.canvas
        canvas.pinPlaced.connect(self.place)
        canvas.pinMoved.connect(self.move)
        canvas.pinRemoveRequested.connect(self.remove)
        canvas.pinSelected.connect(lambda _id: self._refresh_panel())
        canvas.colourPicked.connect(self._picked)
        canvas.pickCancelled.connect(lambda: self.set_picking(False))
        self.preview.ready.connect(self._preview_ready)
        self.preview.failed.connect(self._preview_failed)
        host.runner.busy_changed.connect(self._busy_changed)
        _controllers.add(self)

    def attach(self, panel: HintsPanel, strength: QSlider) -> None:
        """The panel the colours come from; the Colorize strength slider the preview uses."""
        self.panel = panel
        panel.colourChosen.connect(self.colour_chosen)
        panel.chooseRequested.connect(self.choose_colour)
        panel.pickToggled.connect(self.set_picking)
        panel.previewToggled.connect(lambda _on: self._refresh_preview())
        strength.valueChanged.connect(lambda _value: self.schedule_preview())

    @property
    def active(self) -> bool:
        return self._active

    def set_active(self, active: bool) -> None:
        """The Colour Hint tool on (clicks place pins, the preview shows) or off (the brush)."""
        self._active = bool(active)
        self.host.canvas.set_tool(Tool.HINT if self._active else Tool.BRUSH)
        self._refresh_preview()

    def shutdown(self) -> None:
        """The window closes: no preview thread may outlive it, no pick may reach it."""
        if self._picking_for is self:
            self.set_picking(False)
        _controllers.discard(self)
        self._timer.stop()
        self.preview.shutdown()

    # --- what the document says ----------------------------------------------------------

    def document_set(self, document: Document) -> None:
        self.preview.cancel()
        self.preview.invalidate()
        self.host.canvas.set_pins(document.pins)
        self._refresh_panel()
        if self.panel is not None:
            self.panel.set_note("")
        self._refresh_preview()

    def pins_changed(self) -> None:
        document = self.host.document
        if document is not None:
            self.host.canvas.set_pins(document.pins)
        self._refresh_panel()
        self.schedule_preview()

    def image_changed(self) -> None:
        """The composite changed: the preview must be made from it afresh."""
        self.preview.invalidate()
        self.schedule_preview()

    # --- edits ---------------------------------------------------------------------------

    def place(self, x: float, y: float) -> None:
        """A new pin at (x, y) in the current colour, selected (one step)."""
        colour = self._colour()
        placed: list[int] = []

        def edit(d: Document) -> QUndoCommand:
            pin = d.add_pin(_tidy(x, d.width), _tidy(y, d.height), colour)
            placed.append(pin.id)
            return commands.AddPin(d, pin)

        if self.host.edits.record(edit) and placed:
            self.host.canvas.select_pin(placed[0])

    def move(self, pin_id: int, x: float, y: float) -> None:
        def edit(d: Document) -> QUndoCommand:
            old = d.move_pin(pin_id, _tidy(x, d.width), _tidy(y, d.height))
            pin = d.pin(pin_id)
            return commands.MovePin(d, pin_id, old, (pin.x, pin.y))

        self.host.edits.record(edit)

    def remove(self, pin_id: int) -> None:
        self.host.edits.record(lambda d: commands.RemovePin(d, *d.remove_pin(pin_id)))

    def remove_selected(self) -> None:
        pin_id = self.host.canvas.selected_pin
        if pin_id is None:
            self.host.show_status("Select a pin first: click it with the Colour Hint tool.")
        else:
            self.remove(pin_id)

    def clear(self) -> None:
        document = self.host.document
        if document is not None and document.pins:
            self.host.edits.record(
                lambda d: commands.SetPins(d, "Clear colour pins", d.set_pins(()), ())
            )

    def colour_chosen(self, rgb: tuple[int, int, int]) -> None:
        """The current colour is `rgb` now; the selected pin takes it (one step)."""
        pin = self._selected()
        if pin is None or pin.rgb == tuple(rgb):
            return
        self.host.edits.record(
            lambda d: commands.RecolourPin(d, pin.id, d.recolour_pin(pin.id, rgb), tuple(rgb))
        )

    def choose_colour(self) -> None:
        """Qt's colour dialog, starting from the current colour."""
        if self.panel is None:
            return
        chosen = dialogs.ask_colour(self.host.dialog_parent, self.panel.colour)
        if chosen is not None:
            self.panel.choose_colour(chosen)

    def _selected(self) -> Pin | None:
        """The document's pin the canvas has selected (None: none, or not in it any more)."""
        document, pin_id = self.host.document, self.host.canvas.selected_pin
        pins = document.pins if document is not None else ()
        return next((pin for pin in pins if pin.id == pin_id), None)

    def _colour(self) -> tuple[int, int, int]:
        return self.panel.colour if self.panel is not None else (128, 128, 128)

    def _refresh_panel(self) -> None:
        document, panel = self.host.document, self.panel
        if panel is None:
            return
        selected = self._selected()
        panel.set_pin_count(len(document.pins) if document is not None else 0, bool(selected))
        if selected is not None:
            panel.set_colour(selected.rgb)  # what "Choose…" starts from

    # --- the eyedropper ------------------------------------------------------------------

    def set_picking(self, on: bool) -> None:
        """Arm (or disarm) the eyedropper in every open window for this one."""
        for controller in list(_controllers):
            try:
                controller._arm(self if on else None)
            except RuntimeError:  # its window was destroyed without closing: forget it
                _controllers.discard(controller)

    def _arm(self, target: HintController | None) -> None:
        self._picking_for = target
        self.host.canvas.set_picking(target is not None)
        if self.panel is not None:
            self.panel.set_picking(target is self)

    def _picked(self, x: float, y: float) -> None:
        target, document = self._picking_for, self.host.document
        if target is None or document is None or target.panel is None:
            return
        rgb = document.colour_at(x, y, original=target.panel.picks_original)
        target.set_picking(False)
        target.panel.choose_colour(rgb)
        where = "" if target is self else f" from “{document.name}”"
        target.host.show_status(f"Picked RGB {rgb[0]}, {rgb[1]}, {rgb[2]}{where}.", STATUS_MS)

    # --- the preview ---------------------------------------------------------------------

    def _preview_wanted(self) -> bool:
        panel = self.panel
        return (
            self._active
            and panel is not None
            and panel.preview_enabled
            and self.host.document is not None
        )

    def schedule_preview(self) -> None:
        if self._preview_wanted():
            self._timer.start()

    def _refresh_preview(self) -> None:
        if self._preview_wanted():
            self._timer.start()
        else:
            self._timer.stop()
            self.preview.cancel()
            self.host.canvas.set_preview(None)

    def _run_preview(self) -> None:
        document = self.host.document
        if document is None or not self._preview_wanted():
            return
        if self.host.runner.busy:  # a restoration has the processor: after it
            self._after_job = True
            return
        options, hints = self.host.run_options(), document.colour_hints()
        if hints and known_takes_hints(options) is False:
            self._no_preview(NO_HINTS)
            return
        strength = self.host.restore_panel.colorize_fraction
        self.preview.request(PreviewRequest(document, hints, strength, options))

    def _busy_changed(self, busy: bool) -> None:
        if not busy and self._after_job:
            self._after_job = False
            self.schedule_preview()

    def _preview_ready(self, result: PreviewResult) -> None:
        if not self._preview_wanted() or result.request.document is not self.host.document:
            return
        if result.rgb is None:
            self._no_preview(NO_HINTS)
            return
        self.host.canvas.set_preview(result.rgb)
        if self.panel is not None:
            height, width = result.rgb.shape[:2]
            self.panel.set_note(f"Preview {width}×{height}: {result.seconds:.2f} s.")

    def _preview_failed(self, request: PreviewRequest, error: BaseException) -> None:
        if not self._preview_wanted() or request.document is not self.host.document:
            return
        if isinstance(error, api.InvalidRequest):  # the engine's own line (hints refused)
            text = str(error).strip().splitlines()[0] if str(error).strip() else NO_HINTS
            self._no_preview(text[:1].upper() + text[1:])
        else:
            self._no_preview(f"No preview: {plain_reason(error)}")

    def _no_preview(self, line: str) -> None:
        self.host.canvas.set_preview(None)
        if self.panel is not None:
            self.panel.set_note(line)
        self.host.show_status(line, STATUS_MS)
