"""Layers and how they combine: the pure functions the document (and a save snapshot) use.

A `Layer` is immutable (a frozen dataclass over read-only arrays). The document changes a
layer by putting a modified copy (`dataclasses.replace`) in its stack; undo records simply
keep the previous objects. No pixels are ever copied to make something undoable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from editor.doc.types import Region, check_region
from engine.api import ColourHint, convert_depth

# Blending works in float32 on horizontal bands of about this many pixels, so compositing
# or merging a 24 MP 16-bit image never needs a full-size float copy (~290 MB per array).
_BAND_PIXELS = 1 << 20


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer of the stack.

    Attributes:
        id: unique in its document and never given to another layer.
        name: what the layers panel shows.
        pixels: H×W×3, the document's dtype, read-only once in a document.
        visible: hidden layers take no part in the composite.
        opacity: 0..1, multiplies `coverage`.
        locked: only the original (the bottom layer) is locked: it cannot be edited, moved,
            merged into or removed.
        coverage: H×W uint8, 0..255: how much the layer applies at each pixel (e.g. a
            restoration kept only inside the mask); None means everywhere (255).

    Equality is identity (``eq=False``): comparing arrays is the caller's choice.
    """

    id: int
    name: str
    pixels: np.ndarray
    visible: bool = True
    opacity: float = 1.0
    locked: bool = False
    coverage: np.ndarray | None = None

    @property
    def is_opaque(self) -> bool:
        """True when the layer hides everything below it (where it is visible)."""
        return self.opacity >= 1.0 and self.coverage is None


@dataclass(frozen=True, eq=False)
class MergeUndo:
    """What `Document.merge_down` replaced: `lower` at `index` and `upper` above it became
    `merged` (which has the lower layer's id and name)."""

    index: int
    lower: Layer
    upper: Layer
    merged: Layer


@dataclass(frozen=True, eq=False)
class FlattenUndo:
    """The whole stack before and after `Document.flatten` (shared layers, no copies)."""

    before: tuple[Layer, ...]
    after: tuple[Layer, ...]


def _bands(y0: int, y1: int, width: int) -> list[tuple[int, int]]:
    rows = max(1, _BAND_PIXELS // max(1, width))
    return [(y, min(y + rows, y1)) for y in range(y0, y1, rows)]


def _alpha(layer: Layer, rows: slice, cols: slice) -> np.float32 | np.ndarray:
    """The layer's weight: a scalar, or an h×w×1 float32 array when it has a coverage."""
    opacity = np.float32(layer.opacity)
    if layer.coverage is None:
        return opacity
    weight = layer.coverage[rows, cols].astype(np.float32)
    weight *= np.float32(layer.opacity / 255.0)
    return weight[..., None]


def _to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    top = float(np.iinfo(dtype).max)
    np.rint(values, out=values)
    np.clip(values, 0.0, top, out=values)
    return values.astype(dtype)


def composite_layers(
    layers: Sequence[Layer], shape: tuple[int, int], dtype: np.dtype, region: Region
) -> np.ndarray:
    """Blend the visible layers bottom→top inside `region` (already checked).

    Each layer is ``out += (layer - out) * opacity * coverage / 255`` over a black start, in
    float32, then rounded back to `dtype`. Everything below the topmost fully opaque visible
    layer is skipped (it cannot show), so when only the original is visible the result is
    exactly its pixels, without any float round trip.
    """
    y0, y1, x0, x1 = region
    shown = [layer for layer in layers if layer.visible and layer.opacity > 0.0]
    start = max((i for i, layer in enumerate(shown) if layer.is_opaque), default=None)
    if start is not None:
        base: Layer | None = shown[start]
        shown = shown[start + 1 :]
        if not shown:
            return base.pixels[y0:y1, x0:x1].copy()
    else:
        base = None
    out = np.empty((y1 - y0, x1 - x0, 3), dtype=dtype)
    cols = slice(x0, x1)
    for b0, b1 in _bands(y0, y1, x1 - x0):
        rows = slice(b0, b1)
        if base is None:
            acc = np.zeros((b1 - b0, x1 - x0, 3), np.float32)
        else:
            acc = base.pixels[rows, cols].astype(np.float32)
        for layer in shown:
            src = layer.pixels[rows, cols].astype(np.float32)
            src -= acc
            src *= _alpha(layer, rows, cols)
            acc += src
        out[b0 - y0 : b1 - y0] = _to_dtype(acc, dtype)
    return out


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels for display (the engine's rounding: uint16 ``(x + 128) // 257``)."""
    return convert_depth(pixels, np.uint8)


def merge_pair(lower: Layer, upper: Layer) -> Layer:
    """`upper` merged into `lower`: a layer that looks like both over anything below.

    Standard "over" compositing: ``a = aU + aL (1 - aU)`` and
    ``colour = (U aU + L aL (1 - aU)) / a``. When both weights are plain opacities the result
    keeps a plain opacity `a`; otherwise `a` becomes its coverage (quantised to 8 bits, so a
    partly transparent merge may differ from the unmerged stack by one level). Returns a layer
    with the lower layer's id and name.
    """
    height, width = lower.pixels.shape[:2]
    dtype = lower.pixels.dtype
    uniform = lower.coverage is None and upper.coverage is None
    lower_opaque = lower.is_opaque
    pixels = np.empty_like(lower.pixels)
    coverage = None if uniform or lower_opaque else np.empty((height, width), np.uint8)
    cols = slice(0, width)
    for b0, b1 in _bands(0, height, width):
        rows = slice(b0, b1)
        a_low, a_up = _alpha(lower, rows, cols), _alpha(upper, rows, cols)
        low = lower.pixels[rows, cols].astype(np.float32)
        up = upper.pixels[rows, cols].astype(np.float32)
        low_weight = a_low * (np.float32(1.0) - a_up)
        colour = up * a_up + low * low_weight
        if not lower_opaque:
            # Over an opaque lower layer the total weight is 1 by construction; dividing by a
            # float that is merely close to 1 would only add rounding.
            total = np.broadcast_to(a_up + low_weight, (b1 - b0, width, 1))
            with np.errstate(divide="ignore", invalid="ignore"):
                colour /= total
            # Where nothing is left (total 0) the colour is meaningless: keep the lower one.
            colour = np.where(total > 0, colour, low)
            if coverage is not None:
                coverage[rows] = _to_dtype(total[..., 0] * np.float32(255), np.dtype(np.uint8))
        pixels[rows] = _to_dtype(colour, dtype)
    if coverage is not None and bool(np.all(coverage == 255)):
        coverage = None
    if uniform and not lower_opaque:
        opacity = upper.opacity + lower.opacity * (1.0 - upper.opacity)
    else:
        opacity = 1.0  # the weight went into `coverage`, or is 1 everywhere
    return Layer(
        id=lower.id,
        name=lower.name,
        pixels=pixels,
        visible=True,
        opacity=min(1.0, opacity),
        locked=False,
        coverage=coverage,
    )


@dataclass(frozen=True, eq=False)
class DocumentSnapshot:
    """A consistent, unchanging view of a document (layers shared, mask copied), which a
    background thread can save while the user keeps editing."""

    layers: tuple[Layer, ...]
    mask: np.ndarray
    alpha: np.ndarray | None
    meta: Any
    name: str
    path: Path | None
    hints: tuple[ColourHint, ...] = ()  # the colour pins, as the engine and .ora take them

    @property
    def height(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].pixels.dtype

    def composite(self, region: Region | None = None) -> np.ndarray:
        region = check_region(region, self.height, self.width)
        return composite_layers(self.layers, self.mask.shape, self.dtype, region)

    def composite_rgb8(self, region: Region | None = None) -> np.ndarray:
        return to_rgb8(self.composite(region))
