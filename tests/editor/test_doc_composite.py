"""Compositing the document's layers (`Document.composite`, `composite_rgb8`)."""

from __future__ import annotations

import numpy as np
import pytest
from doc_support import H, W, make_pixels, reference_composite, stack_doc

from editor.doc import Document

# --- composite ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_composite_matches_the_plain_computation_and_regions_are_crops(dtype: type) -> None:
    doc = stack_doc(dtype)
    full = doc.composite()
    assert full.dtype == dtype and np.array_equal(full, reference_composite(doc))
    region = (3, 17, 5, 29)
    assert np.array_equal(doc.composite(region), full[3:17, 5:29])
    assert np.array_equal(doc.composite_rgb8(region), doc.composite_rgb8()[3:17, 5:29])
    with pytest.raises(ValueError):
        doc.composite((0, H + 1, 0, W))


def test_only_the_original_visible_gives_it_back_exactly_in_16_bit() -> None:
    doc = stack_doc(np.uint16)
    for layer in doc.layers[1:]:
        doc.set_visible(layer.id, False)
    assert np.array_equal(doc.composite(), doc.original.pixels)
    assert np.array_equal(doc.composite((1, 5, 2, 9)), doc.original.pixels[1:5, 2:9])


def test_rgb8_rounds_16_bit_values() -> None:
    values = np.array([0, 128, 129, 257, 385, 386, 65535], np.uint16)
    pixels = np.repeat(np.resize(values, (H, W))[..., None], 3, axis=2)
    doc = Document(pixels)
    expected = (pixels.astype(np.uint32) + 128) // 257
    assert np.array_equal(doc.composite_rgb8(), expected.astype(np.uint8))


def test_an_opaque_layer_hides_what_is_below() -> None:
    doc = stack_doc()
    top = doc.add_layer(make_pixels(8), "opaque")
    assert np.array_equal(doc.composite(), top.pixels)
