"""The Qt-free document model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from editor.document import Change, Document


def _image(value: int = 10, dtype: type = np.uint8) -> np.ndarray:
    return np.full((4, 6, 3), value, dtype=dtype)


def test_a_new_document_is_empty() -> None:
    doc = Document()
    assert doc.is_empty and doc.pixels is None
    assert not doc.modified and not doc.can_revert
    assert (doc.width, doc.height, doc.bit_depth) == (0, 0, 0)


def test_load_sets_the_image_and_is_unmodified() -> None:
    doc = Document()
    pixels = _image(dtype=np.uint16)
    alpha = np.full((4, 6), 7, np.uint16)
    doc.load(pixels, alpha=alpha, meta={"icc": b"x"}, path="/photos/a.tif")
    assert (doc.width, doc.height, doc.bit_depth) == (6, 4, 16)
    assert np.array_equal(doc.pixels, pixels) and np.array_equal(doc.original, pixels)
    assert np.array_equal(doc.alpha, alpha)
    assert doc.meta == {"icc": b"x"}
    assert doc.path == Path("/photos/a.tif")
    assert not doc.modified and not doc.can_revert


def test_stored_pixels_are_read_only_but_the_callers_array_is_not() -> None:
    doc = Document()
    pixels = _image()
    doc.load(pixels)
    with pytest.raises(ValueError):
        doc.pixels[0, 0, 0] = 1
    pixels[0, 0, 0] = 99  # the caller's own array keeps its flags
    assert pixels.flags.writeable


def test_apply_marks_modified_and_revert_restores_the_original() -> None:
    doc = Document()
    doc.load(_image(10), path="a.png")
    doc.apply(_image(20))
    assert doc.modified and doc.can_revert
    assert int(doc.pixels[0, 0, 0]) == 20 and int(doc.original[0, 0, 0]) == 10
    doc.revert()
    assert int(doc.pixels[0, 0, 0]) == 10
    assert not doc.modified and not doc.can_revert


def test_saving_a_change_makes_revert_a_new_change() -> None:
    doc = Document()
    doc.load(_image(10), path="a.png")
    doc.apply(_image(20))
    doc.mark_saved("b.png")
    assert not doc.modified and doc.path == Path("b.png")
    doc.revert()  # back to a.png's pixels, which b.png does not hold
    assert doc.modified and int(doc.pixels[0, 0, 0]) == 10


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 6, 3), np.float32),  # wrong depth
        np.zeros((3, 6, 3), np.uint8),  # wrong size
        np.zeros((4, 6), np.uint8),  # not RGB
        np.zeros((4, 6, 3), np.uint16),  # other depth than the image
    ],
)
def test_apply_rejects_a_mismatched_result_and_keeps_the_image(bad: np.ndarray) -> None:
    doc = Document()
    doc.load(_image(10))
    with pytest.raises(ValueError):
        doc.apply(bad)
    assert int(doc.pixels[0, 0, 0]) == 10 and not doc.modified


def test_load_rejects_bad_input() -> None:
    doc = Document()
    with pytest.raises(ValueError, match="H×W×3"):
        doc.load(np.zeros((4, 6, 4), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        doc.load(_image(), alpha=np.zeros((5, 5), np.uint8))
    assert doc.is_empty


def test_observers_hear_each_change_until_they_unsubscribe() -> None:
    doc = Document()
    heard: list[Change] = []
    unsubscribe = doc.subscribe(heard.append)
    doc.load(_image(10))
    doc.apply(_image(20))
    doc.mark_saved("x.png")
    doc.revert()
    assert heard == [Change.LOADED, Change.PIXELS, Change.SAVED, Change.PIXELS]
    unsubscribe()
    doc.apply(_image(30))
    assert len(heard) == 4


def test_the_document_module_does_not_import_qt() -> None:
    code = (
        "import sys, editor.document; "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
