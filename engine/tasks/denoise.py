"""Denoising: full resolution, tile by tile, in bounded memory."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np
import torch

from engine.options import NoiseKind
from engine.tasks.base import InferenceModel, from_unit, pixel_scale
from engine.tiling import CancelToken, TilePlan, TileProgress, iter_tiled


def remove_impulses(unit: np.ndarray) -> np.ndarray:
    """Replace isolated full-black/full-white channel values with their 3×3 median.

    Salt-and-pepper pixels carry no information about the scene, so a network should not
    be asked to reason from them; only pixels at the extremes that disagree strongly with
    their neighbourhood are replaced, so genuine blacks and whites survive.
    """
    median = cv2.medianBlur(np.ascontiguousarray(unit, dtype=np.float32), 3)
    extreme = (unit <= 0.0) | (unit >= 1.0)
    impulse = extreme & (np.abs(unit - median) > 0.25)
    return np.where(impulse, median, unit)


class Denoiser(InferenceModel):
    """RGB in [-1, 1] -> RGB in [-1, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def run(
        self,
        image: np.ndarray,
        *,
        strength: float,
        noise: NoiseKind,
        plan: TilePlan,
        cancel: CancelToken | None,
    ) -> Generator[TileProgress, None, np.ndarray]:
        scale = pixel_scale(image.dtype)

        def denoise_tile(tile: np.ndarray) -> np.ndarray:
            unit = tile.astype(np.float32) / scale
            cleaned = remove_impulses(unit) if noise is NoiseKind.SALT_AND_PEPPER else unit
            restored = self.predict(cleaned * 2.0 - 1.0) * 0.5 + 0.5
            return unit + strength * (restored - unit)

        def finalize(stripe: np.ndarray, _y0: int, _y1: int) -> np.ndarray:
            return from_unit(stripe, image.dtype)

        out = np.empty_like(image)
        yield from iter_tiled(image, denoise_tile, out, plan, finalize, cancel)
        return out
