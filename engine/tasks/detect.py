"""Damage detection: a probability map at full resolution, tile by tile in bounded memory,
thresholded into a bool mask (True = damage to inpaint).

The network (`engine.archs.detect_unet`) gives logits; tiles are cross-faded as
probabilities and each finished stripe is thresholded straight into the bool result, so a
24 MP scan never holds a full-resolution float map. The threshold follows from the user's
sensitivity by `probability_threshold`, the one place that policy lives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import numpy as np
import torch

from engine.errors import ModelUnavailable
from engine.options import DetectRequest, Progress
from engine.pixels import pixel_scale
from engine.tasks.base import InferenceModel, encode_rgb
from engine.tasks.registry import TaskSpec, register
from engine.tiling import CancelToken, TilePlan, iter_tiled

# The model's probability threshold unless its weight file carries one (`meta["threshold"]`,
# chosen by the exporter on a validation split of the training photos, never the benchmark).
DEFAULT_THRESHOLD = 0.5
# Log-odds the threshold moves between sensitivity 0.5 and either end of the slider.
SENSITIVITY_SPREAD = 4.0


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
    chose for the default sensitivity.
    """

    threshold: float = DEFAULT_THRESHOLD

    def use_meta(self, meta: Mapping[str, Any], source: str) -> None:
        self.threshold = self.check_threshold(meta.get("threshold", DEFAULT_THRESHOLD), source)

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
        yield from self._tiled(image, out, lambda stripe: stripe > cut, plan, cancel)
        return out[..., 0]

    def probabilities(
        self, image: np.ndarray, *, plan: TilePlan, cancel: CancelToken | None = None
    ) -> Generator[Progress, None, np.ndarray]:
        """The float32 H×W damage probability of `image` (for choosing a threshold on a
        validation split, and for benchmarks)."""
        out = np.empty((*image.shape[:2], 1), np.float32)
        yield from self._tiled(image, out, lambda stripe: stripe, plan, cancel)
        return out[..., 0]


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
