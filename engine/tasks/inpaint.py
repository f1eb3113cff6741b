"""Inpainting: fill what the user painted, working only around the holes.

Holes are grouped into regions (holes closer than the context margin share one), each region
is cropped with context around it, run at the model's resolution (the crop is shrunk when it
is larger), and only the hole pixels — with a thin feathered edge — are composited back.
Pixels away from every hole are returned bit-for-bit unchanged.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from engine.options import InpaintRequest, Progress
from engine.pixels import from_unit, to_unit
from engine.tasks.base import InferenceModel, decode_rgb, encode_rgb
from engine.tasks.registry import TaskSpec, register
from engine.tiling import CancelToken, TilePlan

DEFAULT_RESOLUTION = 512
_FEATHER_PX = 3  # blend width outside the hole, in pixels of the full image


@dataclass(frozen=True)
class Region:
    """A crop of the image (y0:y1, x0:x1) around the holes labelled `labels`, with context."""

    y0: int
    y1: int
    x0: int
    x1: int
    labels: tuple[int, ...] = ()


def _context_margin(height: int, width: int, thickness: float) -> int:
    """Context around a hole of this bounding box whose farthest pixel is `thickness` from
    the nearest known one: as much as the hole is large (measured on the benchmark, half
    that loses 0.3 dB inside small holes), but a long thin scratch, whose every pixel is
    close to known ones, needs only a little, so its crop is not shrunk for nothing."""
    return max(32, min(max(height, width), int(16 * thickness)))


def _overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def find_regions(
    mask: np.ndarray, max_side: int = DEFAULT_RESOLUTION
) -> tuple[list[Region], np.ndarray]:
    """Crops around the holes, each with a context margin, and the hole label image.

    Overlapping crops are merged while the merged crop still fits `max_side` (so the model
    sees it at full resolution); crops that would need shrinking stay separate, so 800 dust
    specks on a 24 MP scan are not all filled from one 1/8-scale prediction.
    """
    mask8 = mask.astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask8, 8)
    distance = cv2.distanceTransform(mask8, cv2.DIST_L2, 3) if count > 1 else None
    boxes: list[list[int]] = []
    members: list[list[int]] = []
    for label in range(1, count):
        x, y, w, h, _area = stats[label]
        box = (slice(y, y + h), slice(x, x + w))
        thickness = float(distance[box][labels[box] == label].max())
        m = _context_margin(h, w, thickness)
        boxes.append(
            [
                max(0, y - m),
                min(mask.shape[0], y + h + m),
                max(0, x - m),
                min(mask.shape[1], x + w + m),
            ]
        )
        members.append([label])
    merged = True
    while merged:  # passes of greedy merging until nothing changes
        merged = False
        i = 0
        while i < len(boxes):
            j = i + 1
            while j < len(boxes):
                a, b = boxes[i], boxes[j]
                union = [min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])]
                if _overlap(a, b) and max(union[1] - union[0], union[3] - union[2]) <= max_side:
                    boxes[i], members[i] = union, members[i] + members[j]
                    del boxes[j], members[j]
                    merged = True
                else:
                    j += 1
            i += 1
    regions = [Region(*box, labels=tuple(ids)) for box, ids in zip(boxes, members, strict=True)]
    return sorted(regions, key=lambda r: (r.y0, r.x0)), labels


def feathered_alpha(hole: np.ndarray) -> np.ndarray:
    """1 inside the hole, falling smoothly to 0 within a few pixels outside it."""
    hole8 = hole.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _FEATHER_PX + 1,) * 2)
    grown = cv2.dilate(hole8, kernel).astype(np.float32)
    alpha = cv2.GaussianBlur(grown, (0, 0), _FEATHER_PX / 2)
    return np.maximum(alpha, hole.astype(np.float32))


class Inpainter(InferenceModel):
    """[masked RGB in [-1, 1], mask (1 = hole)] -> RGB in [-1, 1]."""

    # The crops a run works on, for callers that report or time them (the benchmarks).
    regions = staticmethod(find_regions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @staticmethod
    def encode(unit: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """The network's input: RGB on [0, 1] (H×W×3) with its holes (H×W, true = hole)
        -> ``[rgb * 2 - 1 with holes zeroed, mask]``, float32 H×W×4. Training feeds the
        network exactly this."""
        m = hole.astype(np.float32)[..., None]
        return np.concatenate([encode_rgb(unit) * (1.0 - m), m], axis=2).astype(np.float32)

    def _fill(self, crop: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """Predict a crop (float32 [0, 1]) at the model's resolution; returns crop-sized RGB."""
        height, width = hole.shape
        side = self.resolution or DEFAULT_RESOLUTION
        factor = min(1.0, side / max(height, width))
        size = (max(8, round(width * factor)), max(8, round(height * factor)))
        if size != (width, height):
            small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            # Area-resize then threshold at >0 so a one-pixel scratch never vanishes.
            small_hole = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        else:
            small, small_hole = crop, hole
        x = self.encode(small, small_hole)
        m = x[..., 3:]
        # Known pixels come from the crop, not the network: it is trained (and scored) on the
        # hole alone, so what it outputs elsewhere is unconstrained and must not reach the
        # feathered ring around the hole.
        pred = decode_rgb(self.predict(x), inplace=True)
        pred = pred * m + small * (1.0 - m)
        if size != (width, height):
            pred = cv2.resize(pred, (width, height), interpolation=cv2.INTER_CUBIC)
        return np.clip(pred, 0.0, 1.0)

    def run(
        self,
        image: np.ndarray,
        request: InpaintRequest,
        *,
        plan: TilePlan | None = None,
        cancel: CancelToken | None,
        out: np.ndarray | None = None,
    ) -> Generator[Progress, None, np.ndarray]:
        """`out` may be `image` itself: every crop is read from the result so far."""
        del plan  # crops around the holes, not tiles
        request.check(image)
        mask = np.asarray(request.mask).astype(bool)
        if out is None:
            out = image.copy()
        elif out is not image:
            out[...] = image
        remaining = mask.copy()  # holes not filled yet; filled ones become context
        regions, labels = find_regions(mask, self.resolution or DEFAULT_RESOLUTION)
        for done, region in enumerate(regions, start=1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            rows, cols = slice(region.y0, region.y1), slice(region.x0, region.x1)
            crop = to_unit(out[rows, cols])
            pred = self._fill(crop, remaining[rows, cols])
            own = np.isin(labels[rows, cols], region.labels)
            alpha = feathered_alpha(own)[..., None]
            touched = alpha[..., 0] > 0
            blended = from_unit(crop * (1.0 - alpha) + pred * alpha, image.dtype, overwrite=True)
            out[rows, cols][touched] = blended[touched]
            remaining[rows, cols][own] = False
            yield Progress("", done, len(regions), 0)
        return out


SPEC = register(
    TaskSpec(
        name="inpaint",
        title="Inpaint",
        model=Inpainter,
        request=InpaintRequest,
        tiled=False,
        working_side=DEFAULT_RESOLUTION,
        in_place=True,
        work_bytes_per_pixel=12,  # mask copies, regions' labels (int32), distances (float32)
    )
)
