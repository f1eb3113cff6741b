"""Undo records for the inpainting mask, kept small because a 24 MP mask is 24 MB.

- `MaskEdit` (a brush stroke, a patch): only the rectangle that changed, before and after.
- `MaskSnapshot` (clear, invert, set): the whole mask, compressed. Only the bounding box of
  its non-zero values is kept (the rest is zero by definition); a hard-edged mask (values 0
  and 255 only) is bit-packed first, then everything is zlib-compressed. A typical mask of a
  few scratches on a 24 MP scan becomes a few kilobytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from editor.doc.types import Region, nonzero_bbox, slices

# Level 1: masks are mostly long runs, so the fastest level already compresses them well,
# and a snapshot is taken while the user waits for Clear/Invert to happen.
_ZLIB_LEVEL = 1


@dataclass(frozen=True, eq=False)
class MaskEdit:
    """A changed rectangle of the mask: ``before`` and ``after`` at ``(y0, x0)``.

    Undo is ``document.apply_mask_patch(y0, x0, before)``, redo the same with ``after``.
    """

    y0: int
    x0: int
    before: np.ndarray
    after: np.ndarray

    @property
    def region(self) -> Region:
        height, width = self.before.shape
        return (self.y0, self.y0 + height, self.x0, self.x0 + width)

    @property
    def nbytes(self) -> int:
        return int(self.before.nbytes + self.after.nbytes)


@dataclass(frozen=True, eq=False)
class MaskSnapshot:
    """A compressed copy of a whole mask; `expand` gives it back exactly.

    Attributes:
        shape: the mask's (height, width).
        region: where its non-zero values were; None when the mask was empty.
        binary: values were only 0 and 255, so the payload is bit-packed.
        payload: the zlib-compressed content of `region`.
    """

    shape: tuple[int, int]
    region: Region | None
    binary: bool
    payload: bytes

    @classmethod
    def capture(cls, mask: np.ndarray) -> MaskSnapshot:
        region = nonzero_bbox(mask)
        if region is None:
            return cls(shape=mask.shape, region=None, binary=True, payload=b"")
        crop = mask[slices(region)]
        binary = bool(np.all((crop == 0) | (crop == 255)))
        raw = np.packbits(crop == 255) if binary else np.ascontiguousarray(crop)
        payload = zlib.compress(raw.tobytes(), _ZLIB_LEVEL)
        return cls(shape=mask.shape, region=region, binary=binary, payload=payload)

    @property
    def nbytes(self) -> int:
        """The memory the snapshot holds (its compressed payload)."""
        return len(self.payload)

    def crop(self) -> np.ndarray | None:
        """The mask's values inside `region` (None when the mask was empty)."""
        if self.region is None:
            return None
        y0, y1, x0, x1 = self.region
        count = (y1 - y0) * (x1 - x0)
        raw = np.frombuffer(zlib.decompress(self.payload), np.uint8)
        if self.binary:
            raw = np.unpackbits(raw, count=count).astype(np.uint8) * np.uint8(255)
        return raw.reshape(y1 - y0, x1 - x0)

    def expand(self) -> np.ndarray:
        """The whole mask, as a new writable array."""
        mask = np.zeros(self.shape, np.uint8)
        self.write_into(mask)
        return mask

    def write_into(self, mask: np.ndarray) -> None:
        """Make `mask` (same shape, writable) equal to the snapshot, in place."""
        if mask.shape != self.shape:
            raise ValueError(f"the snapshot is {self.shape}, the mask is {mask.shape}")
        mask[...] = 0
        crop = self.crop()
        if crop is not None:
            mask[slices(self.region)] = crop
