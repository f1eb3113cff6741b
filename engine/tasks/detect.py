"""Damage detection: a probability map at full resolution, tile by tile in bounded memory,
thresholded into a bool mask (True = damage to inpaint).

The network (`engine.archs.detect_unet`) gives logits; tiles are cross-faded as
probabilities and each finished stripe is thresholded straight into the bool result, so a
24 MP scan never holds a full-resolution float map. The threshold follows from the user's
sensitivity by `probability_threshold`, the one place that policy lives.

**A second, coarse pass** where the weight file asks for one (``meta["coarse_threshold"]``):
the same network on the photo at half its side (a quarter of the pixels), its map
thresholded at its own cut, and each piece it finds that the full pass found something in
brought back to full size stripe by stripe and added (`add_coarse`). Why: the network sees
about ±200 px around a pixel and learnt from 256-px crops, so damage larger than that — a
torn-off corner reaching 100-300 px into the photo, a wide crack on a high-resolution scan —
looks from the inside like plain paper or sky. At half the side the same tear is within
what it learnt: on the benchmark's held-out damage the stage-6 network found 12 % of the
torn corners of Kodak24 in one pass and 35 % with the coarse pass (F1 0.72 -> 0.87 with
every kind of damage). It costs ~45 % more time (a quarter more pixels, the resizing and
the anchoring; 6 MP 0.31 -> 0.45 s). The coarse cut is chosen on the validation split with
the main one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import cv2
import numpy as np
import torch

from engine.errors import ModelUnavailable
from engine.options import DetectRequest, Progress
from engine.pixels import pixel_scale
from engine.tasks.base import InferenceModel, encode_rgb
from engine.tasks.registry import TaskSpec, register
from engine.tiling import CancelToken, TilePlan, iter_tiled, plan_spans

# The model's probability threshold unless its weight file carries one (`meta["threshold"]`,
# chosen by the exporter on a validation split of the training photos, never the benchmark).
DEFAULT_THRESHOLD = 0.5
# Log-odds the threshold moves between sensitivity 0.5 and either end of the slider.
SENSITIVITY_SPREAD = 4.0
# The coarse pass runs at 1/COARSE of the side, on photos at least MIN_COARSE_SIDE px across.
COARSE = 2
MIN_COARSE_SIDE = 128
_STRIPE = 512  # rows of the coarse map brought to full size at a time (bounded memory)


def probability_threshold(sensitivity: float, base: float = DEFAULT_THRESHOLD) -> float:
    """The probability above which a pixel counts as damage at `sensitivity` (0..1).

    Sensitivity 0.5 gives `base`, the model's own threshold. Equal steps of the slider are
    equal steps in log-odds, `SENSITIVITY_SPREAD` from the middle to either end: with a
    base of 0.5, sensitivity 0 marks only pixels the model is 98 % sure of, and 1 every
    pixel it gives 2 % or more. Log-odds, because a detector's probabilities crowd near 0
    and 1: a linear slider would do nearly nothing over most of its travel.
    """
    logit = math.log(base / (1.0 - base)) + SENSITIVITY_SPREAD * (1.0 - 2.0 * sensitivity)
    return 1.0 / (1.0 + math.exp(-logit))


class Detector(InferenceModel):
    """RGB in [-1, 1] -> damage probability (the network's logits through a sigmoid).

    A weight file may carry ``meta["threshold"]`` in (0, 1): the probability its exporter
    chose for the default sensitivity; and ``meta["coarse_threshold"]``, the same for a
    second pass at half the side (see the module doc; none: one pass).
    """

    threshold: float = DEFAULT_THRESHOLD
    coarse_threshold: float | None = None

    def use_meta(self, meta: Mapping[str, Any], source: str) -> None:
        self.threshold = self.check_threshold(meta.get("threshold", DEFAULT_THRESHOLD), source)
        coarse = meta.get("coarse_threshold")
        self.coarse_threshold = None if coarse is None else self.check_threshold(coarse, source)

    @staticmethod
    def check_threshold(value: object, source: str) -> float:
        """A weight file's threshold (an exporter checks its own the same way), or
        ModelUnavailable naming `source`."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelUnavailable(f"{source} has an invalid threshold {value!r}")
        if not 0.0 < value < 1.0:
            raise ModelUnavailable(f"{source} has threshold {value:g}: it must be in (0, 1)")
        return float(value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))

    def _tiled(
        self,
        image: np.ndarray,
        out: np.ndarray,
        finalize: Callable[[np.ndarray], np.ndarray],
        plan: TilePlan,
        cancel: CancelToken | None,
    ) -> Generator[Progress, None, None]:
        scale = pixel_scale(image.dtype)

        def probability(tile: np.ndarray) -> np.ndarray:
            return self.predict(encode_rgb(tile.astype(np.float32) / scale))

        yield from iter_tiled(image, probability, out, plan, lambda s, _a, _b: finalize(s), cancel)

    def run(
        self,
        image: np.ndarray,
        request: DetectRequest,
        *,
        plan: TilePlan,
        cancel: CancelToken | None,
    ) -> Generator[Progress, None, np.ndarray]:
        """The bool H×W mask of `image` (True = damage)."""
        cut = probability_threshold(request.sensitivity, self.threshold)
        out = np.empty((*image.shape[:2], 1), bool)
        coarse = None
        if self.coarse_threshold is not None:
            coarse = yield from self._coarse(image, plan, cancel)
        before = 0 if coarse is None else _tile_count(*coarse.shape, plan)
        work = self._tiled(image, out, lambda stripe: stripe > cut, plan, cancel)
        yield from _offset(work, before, 0)
        mask = out[..., 0]
        if coarse is not None:
            add_coarse(
                mask, coarse, probability_threshold(request.sensitivity, self.coarse_threshold)
            )
        return mask

    def probabilities(
        self,
        image: np.ndarray,
        *,
        plan: TilePlan,
        cancel: CancelToken | None = None,
        coarse: bool = False,
    ) -> Generator[Progress, None, np.ndarray | None]:
        """The float32 H×W damage probability of `image` (for choosing thresholds on a
        validation split, and for benchmarks); with `coarse`, the coarse pass's map at half
        the side (None for a photo too small for one), for `add_coarse`."""
        if coarse:
            return (yield from self._coarse(image, plan, cancel))
        out = np.empty((*image.shape[:2], 1), np.float32)
        yield from self._tiled(image, out, lambda stripe: stripe, plan, cancel)
        return out[..., 0]

    def _coarse(
        self, image: np.ndarray, plan: TilePlan, cancel: CancelToken | None
    ) -> Generator[Progress, None, np.ndarray | None]:
        """The float32 probability map of `image` at 1/COARSE of the side (None if too
        small); progress counts on into the full pass's tiles."""
        if min(image.shape[:2]) < MIN_COARSE_SIDE:
            return None
        height, width = (side // COARSE for side in image.shape[:2])
        # Whole 2×2 blocks only, so the map lines up with the photo at exactly 1/2.
        even = image[: height * COARSE, : width * COARSE]
        small = cv2.resize(even, (width, height), interpolation=cv2.INTER_AREA)
        small = small.reshape(height, width, -1)  # cv2 drops a single channel's axis
        out = np.empty((height, width, 1), np.float32)
        after = _tile_count(*image.shape[:2], plan)
        yield from _offset(self._tiled(small, out, lambda s: s, plan, cancel), 0, after)
        return out[..., 0]


def add_coarse(mask: np.ndarray, coarse: np.ndarray, cut: float) -> None:
    """Mark in the full pass's bool `mask` (in place) what the coarse map finds above `cut`,
    in those connected pieces of it that the full pass found something in.

    Why only those: a torn-off corner's inside is plain paper to the full pass, but its
    jagged edge is not, so the full pass marks a band along the tear and the coarse pass
    fills in the rest; a plain sky or backdrop the coarse view takes for paper has no such
    edge. On the validation photos this kept the recall and cut the false alarms on
    undamaged photos by a third (at cuts 0.9 / 0.9: 0.295 % -> 0.188 %, F1 0.780 -> 0.781).
    """
    height2, width2 = coarse.shape
    blocks = mask[: height2 * COARSE, : width2 * COARSE]
    touched = np.zeros((height2, width2), bool)  # any full-pass pixel in each 2×2 block
    for dy in range(COARSE):
        for dx in range(COARSE):
            touched |= blocks[dy::COARSE, dx::COARSE]
    found = (coarse > cut).astype(np.uint8)
    count, pieces = cv2.connectedComponents(found, connectivity=8)
    anchored = np.zeros(count, bool)
    anchored[pieces[touched]] = True
    anchored[0] = False  # the background piece
    if not anchored.any():  # nothing to add: skip bringing the map back to full size
        return
    kept = np.where(anchored[pieces], coarse, np.float32(0.0))
    height, width = mask.shape
    for y0 in range(0, height, _STRIPE):
        y1 = min(height, y0 + _STRIPE)
        mask[y0:y1] |= upsampled_rows(kept, y0, y1, width) > cut


def upsampled_rows(coarse: np.ndarray, y0: int, y1: int, width: int) -> np.ndarray:
    """Rows [y0, y1) of the 1/2-side float map `coarse` brought back to full size (bilinear,
    pixel centres aligned, as `cv2.resize` of the whole map would), `width` columns; only
    the coarse rows these need are resized, so a stripe costs its own size in memory."""
    height2, width2 = coarse.shape
    c0 = max(0, y0 // COARSE - 1)  # one coarse row of margin each side: the band's own
    c1 = min(height2, (y1 + 1) // COARSE + 1)  # edge rows would clamp, not interpolate
    band = cv2.resize(
        np.ascontiguousarray(coarse[c0:c1]),
        (width2 * COARSE, (c1 - c0) * COARSE),
        interpolation=cv2.INTER_LINEAR,
    )
    rows = band[y0 - c0 * COARSE : y1 - c0 * COARSE, :width]
    short_rows, short_cols = (y1 - y0) - rows.shape[0], width - rows.shape[1]
    if short_rows or short_cols:  # an odd side: its last row or column repeats its neighbour
        rows = np.pad(rows, ((0, short_rows), (0, short_cols)), mode="edge")
    return rows


def _tile_count(height: int, width: int, plan: TilePlan) -> int:
    """Tiles `iter_tiled` plans for an image of this size (progress before any halving)."""
    rows = plan_spans(height, plan.tile, plan.overlap, plan.multiple)
    return len(rows) * len(plan_spans(width, plan.tile, plan.overlap, plan.multiple))


def _offset(work: Generator[Progress, None, Any], before: int, after: int):
    """`work`'s progress counted as steps after `before` others and before `after` more,
    so two passes fill one progress bar; returns what `work` returns."""
    try:
        while True:
            step = next(work)
            yield Progress(
                step.task, before + step.done, before + step.total + after, step.tile_size
            )
    except StopIteration as finished:
        return finished.value


SPEC = register(
    TaskSpec(
        name="detect",
        title="Detect damage",
        model=Detector,
        request=DetectRequest,
        keeps_grey=False,
        returns_mask=True,
    )
)
