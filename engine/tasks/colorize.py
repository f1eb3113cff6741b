"""Colorization: ab predicted at the model's resolution, luminance kept at full resolution."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np
import torch

from engine.color import denormalize_ab, lab_to_rgb, luminance, normalize_l
from engine.tasks.base import InferenceModel, from_unit, to_unit
from engine.tiling import CancelToken, TileProgress

DEFAULT_RESOLUTION = 512
_STRIPE_ROWS = 512  # merge L and ab in stripes so a 24 MP scan never needs a full float copy


class Colorizer(InferenceModel):
    """L in [-1, 1] (1 channel) -> ab in [-1, 1] (2 channels)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _lightness(self, image: np.ndarray) -> np.ndarray:
        """Full-resolution L (0..100), computed stripe by stripe."""
        out = np.empty(image.shape[:2], np.float32)
        for y in range(0, image.shape[0], _STRIPE_ROWS):
            out[y : y + _STRIPE_ROWS] = luminance(to_unit(image[y : y + _STRIPE_ROWS]))
        return out

    def run(
        self, image: np.ndarray, *, strength: float, cancel: CancelToken | None
    ) -> Generator[TileProgress, None, np.ndarray]:
        height, width = image.shape[:2]
        lightness = self._lightness(image)
        yield TileProgress(1, 3, 0)
        side = self.resolution or DEFAULT_RESOLUTION
        factor = min(1.0, side / max(height, width))
        small_size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small_l = cv2.resize(lightness, small_size, interpolation=cv2.INTER_AREA)
        if cancel is not None:
            cancel.raise_if_cancelled()
        ab_small = self.predict(normalize_l(small_l)[..., None])
        yield TileProgress(2, 3, side)
        if cancel is not None:
            cancel.raise_if_cancelled()
        ab = cv2.resize(ab_small, (width, height), interpolation=cv2.INTER_CUBIC)
        ab = denormalize_ab(ab) * strength
        out = np.empty_like(image)
        for y in range(0, height, _STRIPE_ROWS):
            rows = slice(y, y + _STRIPE_ROWS)
            lab = np.concatenate([lightness[rows, :, None], ab[rows]], axis=2)
            out[rows] = from_unit(lab_to_rgb(lab), image.dtype)
        yield TileProgress(3, 3, side)
        return out
