"""The canvas's view of a `Document` (the `CanvasSource` protocol)."""

from __future__ import annotations

import numpy as np

from editor.doc import ChangeKind, Document, Region
from editor.doc.layers import to_rgb8

# What the canvas must re-read after each kind of document change.
CANVAS_KIND = {ChangeKind.LAYERS: "pixels", ChangeKind.PIXELS: "pixels", ChangeKind.MASK: "mask"}


class DocumentSource:
    """Reads only: the composite and the original (8-bit, per region) and the mask."""

    def __init__(self, document: Document) -> None:
        self.document = document

    @property
    def width(self) -> int:
        return self.document.width

    @property
    def height(self) -> int:
        return self.document.height

    def composite_rgb8(self, region: Region | None = None) -> np.ndarray:
        return self.document.composite_rgb8(region)

    def original_rgb8(self, region: Region | None = None) -> np.ndarray:
        pixels = self.document.original.pixels
        if region is not None:
            y0, y1, x0, x1 = region
            pixels = pixels[y0:y1, x0:x1]
        return to_rgb8(pixels)

    @property
    def mask(self) -> np.ndarray:
        return self.document.mask
