"""Denoising: full resolution, tile by tile, in bounded memory."""

from __future__ import annotations

from collections.abc import Generator

import cv2
import numpy as np
import torch

from engine.options import DenoiseRequest, NoiseKind, Progress
from engine.pixels import from_unit, pixel_scale
from engine.tasks.base import InferenceModel, decode_rgb, encode_rgb
from engine.tasks.registry import TaskSpec, register
from engine.tiling import CancelToken, TilePlan, iter_tiled


def _extremes(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Channel values exactly at 0 or 1 that are not part of an area of that value, and for
    each the mean of the non-extreme values of its channel in the smallest window (3, 5, 7,
    9 px) that has any (NaN if none).

    Only exact extremes: float input may overshoot [0, 1] (unclipped noise). The mean of
    the *non-extreme* neighbours, not a plain median: at 30 % salt-and-pepper the other
    impulses fill most of a 3×3 window.
    """
    extreme = np.zeros(unit.shape, bool)
    for value in (0.0, 1.0):
        hit = unit == value
        # A value shared by 5 or more of its 8 neighbours is an area (a black border, a blown
        # highlight), not an impulse; among 30 % salt-and-pepper that happens 0.3 % of the time.
        same = cv2.boxFilter(hit.astype(np.float32), -1, (3, 3), normalize=False) - 1.0
        extreme |= hit & (same < 4.5)
    fill = np.full_like(unit, np.nan)
    if not extreme.any():
        return extreme, fill
    valid = (~extreme).astype(np.float32)  # areas of 0 or 1 are clean samples too
    weighted = unit * valid
    todo = extreme.copy()
    for size in (3, 5, 7, 9):
        total = cv2.boxFilter(weighted, -1, (size, size), normalize=False)
        count = cv2.boxFilter(valid, -1, (size, size), normalize=False)
        found = todo & (count > 0.5)
        fill[found] = total[found] / count[found]
        todo &= ~found
        if not todo.any():
            break
    return extreme, fill


def remove_impulses(unit: np.ndarray) -> np.ndarray:
    """Replace salt-and-pepper values with the mean of the clean values around them
    (a switching filter: everything else is left as it is).

    Salt-and-pepper pixels carry no information about the scene, so the network should not
    be asked to reason from them. Every exact 0 or 1 with a non-extreme neighbour within
    4 px is replaced, since an impulse in a region of similar brightness still carries no
    information; black borders and blown highlights, whose pixels share their value with
    most neighbours, stay.
    """
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    extreme, fill = _extremes(unit)
    replace = extreme & ~np.isnan(fill)
    return np.where(replace, fill, unit) if replace.any() else unit


# Above this share of impulse-like values AUTO removes impulses before the network:
# salt-and-pepper on 4 % of the pixels scores ~0.02, clipped Gaussian noise of sigma 55 at
# most ~0.008, clean photos ~0.0001. The network itself learnt up to 10 % salt-and-pepper.
_IMPULSE_SHARE = 0.02
_SAMPLE_STRIPE = 64


def impulse_share(image: np.ndarray, stripes: int = 16) -> float:
    """Share of channel values that look like salt-and-pepper (see `remove_impulses`),
    estimated on up to `stripes` evenly spaced stripes so a 24 MP scan costs milliseconds.

    Clean photos score ~0 (clipped highlights agree with their neighbours); 10 %
    salt-and-pepper scores ~0.05 (an impulse counts when it is half the range away from
    its clean neighbours, true of about half of them).
    """
    scale = pixel_scale(image.dtype)
    height = image.shape[0]
    starts = np.unique(np.linspace(0, max(0, height - _SAMPLE_STRIPE), stripes).astype(int))
    hits = total = 0
    for y in starts:
        unit = image[y : y + _SAMPLE_STRIPE].astype(np.float32) / scale
        extreme, fill = _extremes(unit)
        # Half the range: a black value among dark neighbours may be a shadow, one among
        # mid-tones (or brighter) is not; about half of all impulses pass this test.
        hits += int(np.count_nonzero(extreme & (np.abs(unit - fill) > 0.5)))
        total += unit.size
    return hits / max(total, 1)


class Denoiser(InferenceModel):
    """RGB in [-1, 1] -> RGB in [-1, 1]."""

    @property
    def conditioned(self) -> bool:
        """Does the network take a strength (a noise-level input, `denoise_cond`)?"""
        return bool(getattr(self.net, "conditioned", False))

    def forward(self, x: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        if self.conditioned:
            return self.net(x, strength=strength)
        return self.net(x)

    def run(
        self,
        image: np.ndarray,
        request: DenoiseRequest,
        *,
        plan: TilePlan,
        cancel: CancelToken | None,
        out: np.ndarray | None = None,
    ) -> Generator[Progress, None, np.ndarray]:
        """`out` may be `image` itself: a row is written only once no tile reads it again."""
        strength, noise = request.strength, request.noise
        scale = pixel_scale(image.dtype)
        impulses = noise is NoiseKind.SALT_AND_PEPPER or (
            noise is NoiseKind.AUTO and impulse_share(image) > _IMPULSE_SHARE
        )

        def denoise_tile(tile: np.ndarray) -> np.ndarray:
            unit = tile.astype(np.float32) / scale
            cleaned = remove_impulses(unit) if impulses else unit
            if self.conditioned:  # the network itself removes more or less
                predicted = self.predict(encode_rgb(cleaned), strength=strength)
                return decode_rgb(predicted, inplace=True)
            restored = decode_rgb(self.predict(encode_rgb(cleaned)), inplace=True)
            if strength >= 1.0:
                return restored
            return unit + strength * (restored - unit)

        def finalize(stripe: np.ndarray, _y0: int, _y1: int) -> np.ndarray:
            return from_unit(stripe, image.dtype, overwrite=True)

        out = np.empty_like(image) if out is None else out
        yield from iter_tiled(image, denoise_tile, out, plan, finalize, cancel)
        return out


SPEC = register(
    TaskSpec(
        name="denoise",
        title="Denoise",
        model=Denoiser,
        request=DenoiseRequest,
        accepts_float=True,
        in_place=True,
    )
)
