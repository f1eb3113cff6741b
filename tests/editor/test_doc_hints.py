"""Colour pins in the document model (`editor.doc.hints`): the operations and what undoes
them, the notices, refusals, the eyedropper's sampling, and pins in .ora files (saved,
restored, in recovery copies; a damaged or oversized hints entry refused in one line)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from editor.doc import Change, ChangeKind, Document, DocumentError, Pin, load_ora, save_ora
from editor.doc.hints import HINTS_ENTRY, HINTS_LIMIT
from engine import api

SKIN, SKY = (200, 150, 120), (120, 160, 220)


def _doc(width: int = 40, height: int = 30) -> Document:
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Document(pixels, name="photo")


def test_pins_are_added_moved_recoloured_removed_and_each_notifies() -> None:
    doc = _doc()
    seen: list[Change] = []
    doc.subscribe(seen.append)
    first = doc.add_pin(3.5, 4, SKIN)
    second = doc.add_pin(39.9, 29.9, [120, 160, 220])
    assert doc.pins == (first, second) and first.id != second.id
    assert second.rgb == SKY and isinstance(second.x, float)
    assert doc.move_pin(first.id, 10, 12) == (3.5, 4.0)
    assert doc.pin(first.id).x == 10.0 and doc.pin(first.id).rgb == SKIN  # same id, same colour
    assert doc.recolour_pin(first.id, SKY) == SKIN
    assert doc.pin(first.id).rgb == SKY
    assert doc.remove_pin(first.id) == (doc_pin := Pin(first.id, 10.0, 12.0, SKY), 0)
    assert doc.pins == (second,)
    doc.insert_pin(doc_pin, 0)  # undo of the removal: back where it was
    assert [p.id for p in doc.pins] == [first.id, second.id]
    assert doc.set_pins(()) == (doc_pin, second) and doc.pins == ()
    assert seen == [Change(ChangeKind.HINTS, None, visual=False)] * 7
    assert doc.modified  # pins are part of the document


def test_hints_are_the_pins_in_order_as_the_engine_takes_them() -> None:
    doc = _doc()
    doc.add_pin(1, 2, SKIN)
    doc.add_pin(5, 6, SKY)
    assert doc.colour_hints() == (api.ColourHint(1, 2, SKIN), api.ColourHint(5, 6, SKY))
    assert doc.snapshot().hints == doc.colour_hints()


@pytest.mark.parametrize(
    ("x", "y"), [(-0.1, 5), (40, 5), (5, 30), (float("nan"), 1), (float("inf"), 1), ("a", 1)]
)
def test_a_pin_off_the_photo_is_refused_and_nothing_changes(x: object, y: object) -> None:
    doc = _doc()
    pin = doc.add_pin(1, 1, SKIN)
    seen: list[Change] = []
    doc.subscribe(seen.append)
    with pytest.raises(DocumentError):
        doc.add_pin(x, y, SKIN)  # type: ignore[arg-type]
    with pytest.raises(DocumentError):
        doc.move_pin(pin.id, x, y)  # type: ignore[arg-type]
    assert doc.pins == (pin,) and seen == []


@pytest.mark.parametrize("rgb", [(256, 0, 0), (1, 2), (1.5, 2, 3), (True, 0, 0), "red"])
def test_a_colour_that_is_not_three_levels_is_refused(rgb: object) -> None:
    doc = _doc()
    pin = doc.add_pin(1, 1, SKIN)
    with pytest.raises(DocumentError, match="three whole numbers"):
        doc.add_pin(2, 2, rgb)  # type: ignore[arg-type]
    with pytest.raises(DocumentError, match="three whole numbers"):
        doc.recolour_pin(pin.id, rgb)  # type: ignore[arg-type]


def test_unknown_and_duplicate_pins_are_refused() -> None:
    doc = _doc()
    pin = doc.add_pin(1, 1, SKIN)
    with pytest.raises(DocumentError, match="no colour pin 99"):
        doc.remove_pin(99)
    with pytest.raises(DocumentError, match="already"):
        doc.insert_pin(pin, 0)
    with pytest.raises(DocumentError, match="same id"):
        doc.set_pins((pin, pin))


def test_the_eyedropper_reads_a_mean_of_the_original_or_of_the_composite() -> None:
    pixels = np.zeros((20, 20, 3), np.uint16)
    pixels[:, :10] = (65535, 0, 0)
    pixels[5, 5] = (0, 65535, 0)  # one odd pixel: the 5×5 mean barely moves
    doc = Document(pixels)
    assert doc.colour_at(5.5, 5.5) == (245, 10, 0)
    assert doc.colour_at(2, 15, radius=0) == (255, 0, 0)
    assert doc.colour_at(100, -5) == (0, 0, 0)  # clamped to the photo's top-right corner
    blue = np.zeros((20, 20, 3), np.uint16)
    blue[..., 2] = 65535
    doc.add_layer(blue, "Blue")
    assert doc.colour_at(2, 2, original=False) == (0, 0, 255)
    assert doc.colour_at(2, 2, original=True) == (255, 0, 0)


# --- OpenRaster ------------------------------------------------------------------------------


def test_pins_survive_a_save_and_open_in_order_with_fresh_ids(tmp_path: Path) -> None:
    doc = _doc()
    for x, y, rgb in [(3.5, 4, SKIN), (30.25, 20, SKY), (0, 0, (0, 0, 0))]:
        doc.add_pin(x, y, rgb)
    doc.remove_pin(doc.pins[0].id)  # ids need not start at 1 nor be dense
    path = tmp_path / "pinned.ora"
    save_ora(doc, path)
    with zipfile.ZipFile(path) as archive:
        text = archive.read(HINTS_ENTRY).decode()
    assert api.parse_hints(text) == doc.colour_hints()  # the CLI's --hints format
    loaded = load_ora(path)
    assert loaded.colour_hints() == doc.colour_hints()
    assert [p.id for p in loaded.pins] == [1, 2]
    assert loaded.add_pin(1, 1, SKIN).id == 3  # new ids never repeat loaded ones
    assert not load_ora(path).modified


def test_a_document_without_pins_writes_no_hints_entry(tmp_path: Path) -> None:
    path = tmp_path / "plain.ora"
    save_ora(_doc(), path)
    with zipfile.ZipFile(path) as archive:
        assert HINTS_ENTRY not in archive.namelist()
    assert load_ora(path).pins == ()


def test_a_recovery_copy_keeps_the_pins(tmp_path: Path) -> None:
    from editor.doc import write_recovery

    doc = _doc()
    doc.add_pin(7, 8, SKIN)
    copy = tmp_path / "recovery.ora"
    write_recovery(doc.snapshot(), copy)
    assert load_ora(copy, restore_identity=True).colour_hints() == doc.colour_hints()


def _with_hints_entry(path: Path, data: bytes) -> None:
    """Rewrite the .ora at `path` with `data` as its hints entry."""
    with zipfile.ZipFile(path) as archive:
        entries = [(i, archive.read(i)) for i in archive.infolist() if i.filename != HINTS_ENTRY]
    with zipfile.ZipFile(path, "w") as archive:
        for info, content in entries:
            archive.writestr(info, content)
        archive.writestr(HINTS_ENTRY, data, zipfile.ZIP_DEFLATED)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[{", "its restoration/hints.json: not JSON"),
        (b'{"x": 1}', "expected a JSON list"),
        (b'[{"x": 1, "y": 2, "rgb": [1, 2, 300]}]', "hint 1: rgb must be three whole numbers"),
        (b'[{"x": 40, "y": 2, "rgb": [1, 2, 3]}]', "hint 1 at x=40, y=2 lies outside the 40×30"),
        (b"\xff\xfe[]", "is not UTF-8 text"),
        (b" " * (HINTS_LIMIT + 1), "more than the 1.0 MB allowed for it"),
    ],
)
def test_a_damaged_or_oversized_hints_entry_refuses_the_file_in_one_line(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    path = tmp_path / "bad.ora"
    save_ora(_doc(), path)
    _with_hints_entry(path, data)
    with pytest.raises(DocumentError) as refused:
        load_ora(path)
    message = str(refused.value)
    assert message.startswith("cannot open “bad.ora”: ") and reason in message
    assert "\n" not in message
