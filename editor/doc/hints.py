"""Colour hints: pins the user places on the photo, each a colour the colorizer must give
that point (`engine.api.ColourHint`), as a base class of `Document`.

The pins are part of the document like its layers and mask: an ordered tuple (the order
they were placed, which is the order the engine gets them), each with an id that stays the
pin's while it is moved or recoloured, so a view can keep it selected and an undo command
can name it. Every operation returns what undoes it (see `editor.doc.document`) and tells
observers with a `ChangeKind.HINTS` change. A pin always lies on the photo: one outside it
is refused, as the engine refuses such a hint.

In an OpenRaster file the pins are ``restoration/hints.json``: the JSON list the command
line's ``--hints`` file holds (`engine.api.hints_to_json`), so ``python -m engine colorize``
can use a document's hints as they are. Ids are not stored: they name pins within one
session only.
"""

from __future__ import annotations

import itertools
import math
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from editor.doc.layers import Layer
from editor.doc.ora_limits import read_entry
from editor.doc.types import ChangeKind, DocumentError, Region, slices
from engine import api

HINTS_ENTRY = "restoration/hints.json"
HINTS_LIMIT = 1 << 20  # as `python -m engine colorize --hints` allows: ~30 000 hints

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Pin:
    """One colour hint: at (x, y) in image pixels (x right, y down, origin top-left)."""

    id: int
    x: float
    y: float
    rgb: RGB

    @property
    def hint(self) -> api.ColourHint:
        return api.ColourHint(self.x, self.y, self.rgb)


def check_rgb(rgb: object) -> RGB:
    """Three whole numbers 0..255, or DocumentError (a colour as a user picks it)."""
    parts = tuple(rgb) if isinstance(rgb, list | tuple) else ()
    if len(parts) != 3 or not all(
        isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in parts
    ):
        raise DocumentError(f"a pin's colour must be three whole numbers 0-255, got {rgb!r:.60}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


class HintOperations:
    """The colour pins and their editing; `Document` provides the rest."""

    _pins: tuple[Pin, ...]
    _pin_ids: Iterator[int]

    # Provided by Document.
    shape: tuple[int, int, int]
    original: Layer

    def _changed(self, kind: ChangeKind, region: Region | None, visual: bool = True) -> None:
        raise NotImplementedError

    def composite(self, region: Region | None = None) -> np.ndarray:
        raise NotImplementedError

    # --- reading -------------------------------------------------------------------------

    @property
    def pins(self) -> tuple[Pin, ...]:
        """In the order they were placed (the order the engine gets them)."""
        return self._pins

    def pin_index(self, pin_id: int) -> int:
        for index, pin in enumerate(self._pins):
            if pin.id == pin_id:
                return index
        raise DocumentError(f"there is no colour pin {pin_id}")

    def pin(self, pin_id: int) -> Pin:
        return self._pins[self.pin_index(pin_id)]

    def colour_hints(self) -> tuple[api.ColourHint, ...]:
        """The pins as the engine takes them (`engine.api.colorize(hints=...)`)."""
        return tuple(pin.hint for pin in self._pins)

    def colour_at(self, x: float, y: float, *, original: bool = True, radius: int = 2) -> RGB:
        """The mean 8-bit colour of the (2·radius + 1)² pixels around (x, y) (an eyedropper:
        a mean, so grain does not decide the colour), from the original (the photo's own
        colours) or from the composite (what the layers show now)."""
        height, width = self.shape[:2]
        px, py = int(min(max(x, 0), width - 1)), int(min(max(y, 0), height - 1))
        region = (
            max(0, py - radius), min(height, py + radius + 1),
            max(0, px - radius), min(width, px + radius + 1),
        )  # fmt: skip
        pixels = self.original.pixels[slices(region)] if original else self.composite(region)
        top = np.iinfo(pixels.dtype).max
        mean = pixels.reshape(-1, 3).mean(axis=0) * (255.0 / top)
        red, green, blue = (int(v) for v in np.clip(np.rint(mean), 0, 255))
        return (red, green, blue)

    # --- editing -------------------------------------------------------------------------

    def add_pin(self, x: float, y: float, rgb: Sequence[int]) -> Pin:
        """A new pin, last. Undo: ``remove_pin(pin.id)``; redo: ``insert_pin(pin, index)``."""
        pin = Pin(next(self._pin_ids), *self._point(x, y), check_rgb(rgb))
        self.insert_pin(pin, len(self._pins))
        return pin

    def insert_pin(self, pin: Pin, index: int) -> None:
        """Put back a pin `remove_pin` returned (or redo `add_pin`), at `index`."""
        if any(other.id == pin.id for other in self._pins):
            raise DocumentError(f"there is a colour pin {pin.id} already")
        self._point(pin.x, pin.y)
        check_rgb(pin.rgb)
        index = min(max(0, index), len(self._pins))
        self._set(self._pins[:index] + (pin,) + self._pins[index:])

    def move_pin(self, pin_id: int, x: float, y: float) -> tuple[float, float]:
        """Move a pin to (x, y) on the photo; returns where it was (undo: move it back)."""
        index = self.pin_index(pin_id)
        old = self._pins[index]
        new_x, new_y = self._point(x, y)
        self._replace(index, replace(old, x=new_x, y=new_y))
        return old.x, old.y

    def recolour_pin(self, pin_id: int, rgb: Sequence[int]) -> RGB:
        """Give a pin another colour; returns its colour before (undo: recolour it back)."""
        index = self.pin_index(pin_id)
        old = self._pins[index]
        self._replace(index, replace(old, rgb=check_rgb(rgb)))
        return old.rgb

    def remove_pin(self, pin_id: int) -> tuple[Pin, int]:
        """Remove a pin; returns it and where it was (undo: ``insert_pin(pin, index)``)."""
        index = self.pin_index(pin_id)
        pin = self._pins[index]
        self._set(self._pins[:index] + self._pins[index + 1 :])
        return pin, index

    def set_pins(self, pins: Iterable[Pin]) -> tuple[Pin, ...]:
        """Replace every pin (``set_pins(())`` clears them); returns the pins before (undo:
        ``set_pins(before)``). Pins keep their ids: they must come from this document."""
        pins = tuple(pins)
        if len({pin.id for pin in pins}) != len(pins):
            raise DocumentError("two colour pins have the same id")
        for pin in pins:
            self._point(pin.x, pin.y)
            check_rgb(pin.rgb)
        before = self._pins
        self._set(pins)
        return before

    # --- for Document --------------------------------------------------------------------

    def _init_pins(self, hints: Iterable[api.ColourHint] = ()) -> None:
        """Pins from hints (e.g. a file's), numbered from 1, without telling anyone: the
        document is being made."""
        self._pin_ids = itertools.count(1)
        self._pins = ()
        self._pins = tuple(
            Pin(next(self._pin_ids), *self._point(h.x, h.y), check_rgb(h.rgb)) for h in hints
        )

    def _point(self, x: float, y: float) -> tuple[float, float]:
        """(x, y) as floats if the point lies on the photo, else DocumentError."""
        height, width = self.shape[:2]
        try:
            fx, fy = float(x), float(y)
        except (TypeError, ValueError):
            raise DocumentError(
                f"a pin needs a position in pixels, got {x!r:.30}, {y!r:.30}"
            ) from None
        if not (math.isfinite(fx) and math.isfinite(fy) and 0 <= fx < width and 0 <= fy < height):
            raise DocumentError(
                f"a colour pin must lie on the photo: x={fx:g}, y={fy:g} is outside the "
                f"{width}×{height} image"
            )
        return fx, fy

    def _replace(self, index: int, pin: Pin) -> None:
        self._set(self._pins[:index] + (pin,) + self._pins[index + 1 :])

    def _set(self, pins: tuple[Pin, ...]) -> None:
        self._pins = pins
        # Not visual: the composite is unchanged; views that draw pins redraw them.
        self._changed(ChangeKind.HINTS, None, visual=False)


# --- OpenRaster ----------------------------------------------------------------------------


def hints_entries(hints: Sequence[api.ColourHint]) -> list[tuple[str, bytes]]:
    """The archive entry holding `hints` (none when there are none: plain ORA stays plain)."""
    if not hints:
        return []
    return [(HINTS_ENTRY, api.hints_to_json(hints).encode("utf-8"))]


def read_hints(archive: zipfile.ZipFile, width: int, height: int) -> tuple[api.ColourHint, ...]:
    """The hints a file holds (none without the entry), each checked to lie on its
    width×height canvas; DocumentError of one line for an entry that is too large, not a
    hint list, or names a point off the photo. Read before any layer is decoded."""
    if HINTS_ENTRY not in archive.namelist():
        return ()
    data = bytes(read_entry(archive, HINTS_ENTRY, HINTS_LIMIT))
    source = f"its {HINTS_ENTRY}"
    try:
        hints = api.parse_hints(data.decode("utf-8"), source)
    except UnicodeDecodeError:
        raise DocumentError(f"{source} is not UTF-8 text") from None
    except api.InvalidRequest as exc:
        raise DocumentError(str(exc)) from None
    for number, hint in enumerate(hints, 1):
        if not hint.inside(width, height):
            raise DocumentError(
                f"{source}: hint {number} at x={hint.x:g}, y={hint.y:g} lies outside the "
                f"{width}×{height} image"
            )
    return hints
