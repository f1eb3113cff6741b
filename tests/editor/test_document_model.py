"""The layered document model (`editor.doc`): creation, the layer stack and its undo
records, observers, the import rule. Compositing, the brush and the mask have their own
files (test_doc_*.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from doc_support import (
    H,
    W,
    make_coverage,
    make_pixels,
    stack_doc,
    stack_state,
)

from editor.doc import Change, ChangeKind, Document, DocumentError, Layer

ROOT = Path(__file__).resolve().parents[2]


# --- creation and invariants ------------------------------------------------------------


def test_a_new_document_has_the_locked_original_and_an_empty_mask() -> None:
    pixels = make_pixels(0, np.uint16)
    alpha = np.full((H, W), 1000, np.uint16)
    doc = Document(pixels, alpha=alpha, meta={"icc": b"x"}, path="/scans/a.tif")
    assert (doc.width, doc.height, doc.shape, doc.dtype) == (W, H, (H, W, 3), np.uint16)
    assert doc.bit_depth == 16 and doc.name == "a" and doc.path == Path("/scans/a.tif")
    (original,) = doc.layers
    assert original.locked and original.visible and original.opacity == 1.0
    assert original.coverage is None and doc.index_of(original.id) == 0
    assert np.array_equal(original.pixels, pixels) and np.array_equal(doc.alpha, alpha)
    assert doc.meta == {"icc": b"x"}
    assert doc.mask.shape == (H, W) and doc.mask.dtype == np.uint8
    assert doc.mask_is_empty() and doc.mask_bbox() is None and not doc.modified


def test_stored_arrays_are_read_only() -> None:
    pixels = make_pixels(0)
    doc = Document(pixels)
    with pytest.raises(ValueError):
        doc.original.pixels[0, 0, 0] = 1
    with pytest.raises(ValueError):
        doc.mask[0, 0] = 1
    pixels[0, 0, 0] = 1  # the caller's own array keeps its flags


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8)],
)
def test_bad_pixels_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        Document(bad)


def test_alpha_must_match_the_image() -> None:
    with pytest.raises(ValueError, match="alpha"):
        Document(make_pixels(0), alpha=np.zeros((H, W + 1), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        Document(make_pixels(0), alpha=np.zeros((H, W), np.uint16))


# --- layer operations and their undo ----------------------------------------------------


def test_add_then_remove_and_reinsert_restore_the_stack() -> None:
    doc = stack_doc()
    before = stack_state(doc)
    layer = doc.add_layer(make_pixels(9), "result", index=1, coverage=make_coverage(5))
    assert doc.layers[1] is layer and layer.name == "result" and not layer.locked
    after = stack_state(doc)
    removed, index = doc.remove_layer(layer.id)
    assert (removed, index) == (layer, 1) and stack_state(doc) == before
    doc.insert_layer(removed, index)
    assert stack_state(doc) == after


def test_ids_are_never_reused() -> None:
    doc = Document(make_pixels(0))
    first = doc.add_layer(make_pixels(1), "a")
    doc.remove_layer(first.id)
    second = doc.add_layer(make_pixels(1), "b")
    copy = doc.duplicate_layer(second.id)
    ids = [doc.original.id, first.id, second.id, copy.id]
    assert len(set(ids)) == 4


def test_refused_layer_operations_say_why() -> None:
    doc = stack_doc()
    original = doc.original.id
    with pytest.raises(DocumentError, match="locked"):
        doc.remove_layer(original)
    with pytest.raises(DocumentError, match="locked"):
        doc.move_layer(original, 2)
    with pytest.raises(DocumentError, match="bottom"):
        doc.move_layer(doc.layers[2].id, 0)
    with pytest.raises(DocumentError, match="above the original"):
        doc.add_layer(make_pixels(1), "below", index=0)
    with pytest.raises(DocumentError, match="no layer"):
        doc.rename_layer(999, "x")
    with pytest.raises(DocumentError, match="name"):
        doc.rename_layer(doc.layers[1].id, "  ")
    with pytest.raises(DocumentError, match="is"):
        doc.add_layer(make_pixels(1, np.uint16), "wrong depth")
    with pytest.raises(DocumentError, match="already"):
        doc.insert_layer(doc.layers[1], 1)
    with pytest.raises(DocumentError, match="original"):
        doc.merge_down(doc.layers[1].id)


def test_duplicate_and_its_undo() -> None:
    doc = stack_doc()
    before = stack_state(doc)
    source = doc.layers[1]
    copy = doc.duplicate_layer(source.id)
    assert doc.index_of(copy.id) == 2 and copy.name == "denoised copy"
    assert np.array_equal(copy.pixels, source.pixels)
    assert np.array_equal(copy.coverage, source.coverage)
    doc.remove_layer(copy.id)
    assert stack_state(doc) == before


def test_rename_visibility_opacity_and_move_return_what_undoes_them() -> None:
    doc = stack_doc()
    before = stack_state(doc)
    target = doc.layers[2].id
    old_name = doc.rename_layer(target, "new name")
    old_visible = doc.set_visible(target, False)
    old_opacity = doc.set_opacity(target, 7.0)
    assert doc.layer(target).opacity == 1.0  # clamped
    assert doc.set_opacity(target, -1.0) == 1.0 and doc.layer(target).opacity == 0.0
    old_index = doc.move_layer(target, 1)
    assert doc.index_of(target) == 1 and old_index == 2
    assert (doc.layer(target).name, doc.layer(target).visible) == ("new name", False)
    doc.move_layer(target, old_index)
    doc.set_opacity(target, old_opacity)
    doc.set_visible(target, old_visible)
    doc.rename_layer(target, old_name)
    assert stack_state(doc) == before


def test_merge_down_keeps_the_lower_layer_and_undo_restores_both() -> None:
    doc = stack_doc()
    doc.set_visible(doc.layers[3].id, True)
    doc.set_opacity(doc.layers[3].id, 0.5)
    lower, upper = doc.layers[2], doc.layers[3]
    looks = doc.composite()
    before = stack_state(doc)
    undo = doc.merge_down(upper.id)
    merged = doc.layers[2]
    assert len(doc.layers) == 3 and (merged.id, merged.name) == (lower.id, lower.name)
    assert np.abs(doc.composite().astype(int) - looks.astype(int)).max() <= 1
    after = stack_state(doc)
    doc.restore_merge(undo)
    assert stack_state(doc) == before
    doc.reapply_merge(undo)
    assert stack_state(doc) == after


@pytest.mark.parametrize(
    ("lower_opacity", "lower_coverage", "upper_coverage"),
    [(0.7, True, True), (0.6, False, False), (1.0, False, True), (0.8, False, True)],
)
def test_merging_translucent_or_covered_layers_keeps_the_look(
    lower_opacity: float, lower_coverage: bool, upper_coverage: bool
) -> None:
    doc = Document(make_pixels(0))
    doc.add_layer(make_pixels(1), "lower", coverage=make_coverage(2) if lower_coverage else None)
    doc.set_opacity(doc.layers[1].id, lower_opacity)
    upper = doc.add_layer(
        make_pixels(3), "upper", coverage=make_coverage(4) if upper_coverage else None
    )
    doc.set_opacity(upper.id, 0.5)
    looks = doc.composite()
    doc.merge_down(upper.id)
    merged = doc.layers[1]
    if lower_coverage or (upper_coverage and lower_opacity < 1.0):
        assert merged.coverage is not None and merged.opacity == 1.0  # the weight varies
    else:
        assert merged.coverage is None
        assert merged.opacity == pytest.approx(0.5 + lower_opacity * 0.5)
    # Exact up to rounding (8-bit coverage quantises a varying weight).
    assert np.abs(doc.composite().astype(int) - looks.astype(int)).max() <= 2


def test_merge_refuses_hidden_layers_and_stale_undo_records() -> None:
    doc = stack_doc()
    with pytest.raises(DocumentError, match="show"):
        doc.merge_down(doc.layers[3].id)
    undo = doc.merge_down(doc.layers[2].id)
    doc.remove_layer(undo.merged.id)
    with pytest.raises(DocumentError, match="changed"):
        doc.restore_merge(undo)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_flatten_keeps_the_composite_and_undo_restores_the_stack(dtype: type) -> None:
    doc = stack_doc(dtype)
    looks = doc.composite()
    before = stack_state(doc)
    undo = doc.flatten()
    assert [layer.name for layer in doc.layers] == ["Original", "Flattened"]
    assert np.array_equal(doc.composite(), looks)
    after = stack_state(doc)
    doc.restore_flatten(undo)
    assert stack_state(doc) == before
    doc.reapply_flatten(undo)
    assert stack_state(doc) == after
    with pytest.raises(DocumentError, match="nothing to flatten"):
        Document(make_pixels(0)).flatten()


def test_pixel_patch_and_its_undo() -> None:
    doc = stack_doc()
    target = doc.layers[2].id
    shared = doc.duplicate_layer(target)  # shares the array: the patch must not leak into it
    before = doc.layer(target).pixels.copy()
    seen: list[Change] = []
    doc.subscribe(seen.append)
    old = doc.apply_pixels_patch(target, 2, 3, np.zeros((4, 5, 3), np.uint8))
    assert seen == [Change(ChangeKind.PIXELS, (2, 6, 3, 8))]
    assert not doc.layer(target).pixels[2:6, 3:8].any()
    assert np.array_equal(doc.layer(shared.id).pixels, before)
    doc.apply_pixels_patch(target, 2, 3, old)
    assert np.array_equal(doc.layer(target).pixels, before)
    with pytest.raises(DocumentError, match="locked"):
        doc.apply_pixels_patch(doc.original.id, 0, 0, old)


def test_observers_and_the_saved_state() -> None:
    doc = stack_doc()
    doc.mark_saved("/tmp/x/photo.ora")
    assert not doc.modified and doc.name == "photo"
    seen: list[Change] = []
    doc.subscribe(seen.append)
    doc.set_visible(doc.layers[1].id, False)
    assert seen == [Change(ChangeKind.LAYERS, None)] and doc.modified
    revision = doc.revision
    doc.mark_saved()
    assert not doc.modified and doc.revision == revision


def test_from_layers_keeps_ids_and_refuses_a_bad_stack() -> None:
    original = Layer(5, "Original", make_pixels(0))
    layer = Layer(9, "top", make_pixels(1), opacity=0.25)
    doc = Document.from_layers([original, layer])
    assert [lay.id for lay in doc.layers] == [5, 9] and doc.original.locked
    assert doc.add_layer(make_pixels(2), "new").id > 9
    with pytest.raises(DocumentError):
        Document.from_layers([original, Layer(5, "dup", make_pixels(1))])
    with pytest.raises(DocumentError):
        Document.from_layers([original, Layer(6, "small", make_pixels(1, shape=(4, 4)))])


# --- import rule ---------------------------------------------------------------------------


def test_importing_the_model_loads_neither_qt_nor_torch() -> None:
    # engine.api is allowed (the shared pixel policies); it must not bring torch with it.
    code = (
        "import sys, editor.doc, editor.doc.ora, editor.doc.recovery\n"
        "bad = [m for m in ('PySide6', 'shiboken6', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
