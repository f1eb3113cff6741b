"""Helpers for the document model's tests (`test_document_model.py`, `test_doc_*.py`): a
plain module, imported by name like `editor_support`."""

from __future__ import annotations

import numpy as np

from editor.doc import Document

H, W = 24, 32


def make_pixels(seed: int, dtype: type = np.uint8, shape: tuple[int, int] = (H, W)) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top + 1, (*shape, 3), dtype=dtype)


def make_coverage(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W), dtype=np.uint8)


def stack_state(doc: Document) -> list[tuple]:
    """Everything about the stack and the mask, in comparable form."""
    stack = [
        (
            layer.id,
            layer.name,
            layer.visible,
            layer.opacity,
            layer.locked,
            layer.pixels.tobytes(),
            None if layer.coverage is None else layer.coverage.tobytes(),
        )
        for layer in doc.layers
    ]
    return [*stack, ("mask", doc.mask.tobytes())]


def reference_composite(doc: Document) -> np.ndarray:
    """The composite computed the plain way: every visible layer over black, full size."""
    acc = np.zeros((doc.height, doc.width, 3), np.float32)
    for layer in doc.layers:
        if not layer.visible:
            continue
        if layer.coverage is None:
            alpha = np.float32(layer.opacity)
        else:
            alpha = (layer.coverage.astype(np.float32) * np.float32(layer.opacity / 255.0))[
                ..., None
            ]
        acc = acc + (layer.pixels.astype(np.float32) - acc) * alpha
    top = np.iinfo(doc.dtype).max
    return np.clip(np.rint(acc), 0, top).astype(doc.dtype)


def stack_doc(dtype: type = np.uint8) -> Document:
    doc = Document(make_pixels(0, dtype), name="photo")
    doc.add_layer(make_pixels(1, dtype), "denoised", coverage=make_coverage(2))
    doc.add_layer(make_pixels(3, dtype), "colorized")
    doc.set_opacity(doc.layers[2].id, 0.6)
    doc.add_layer(make_pixels(4, dtype), "hidden")
    doc.set_visible(doc.layers[3].id, False)
    return doc
