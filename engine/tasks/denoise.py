"""Denoising: full resolution, tile by tile, in bounded memory."""

from __future__ import annotations

from collections.abc import Callable, Generator

import cv2
import numpy as np
import torch

from engine.archs.denoise_cond import GRID
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


# A noise-level network's level estimate is made once per image (each tile estimating its own
# would see less context near its edges, and the tiles would disagree where they overlap), in
# blocks of this side with this much context around them: the estimator sees about ±30 px,
# so a block's cells come out as the whole image's would, and its maps stay small (a 640 px
# square of input: ~25 MB in float32, however large the image). Both multiples of its cell.
_LEVEL_BLOCK = 512
_LEVEL_CONTEXT = 64


def _axis_samples(start: int, length: int, count: int) -> tuple[np.ndarray, ...]:
    """Where the `length / GRID` cells of a tile starting at pixel `start` lie among the
    image's `count` cells: the two cells to interpolate between and the weight of the
    second. The centre of cell j is pixel GRID*j + (GRID-1)/2 in either, so a tile's cell i
    lies at image cell start/GRID + i; past the image's last cell (a tile's padding) the
    last cell's level holds."""
    position = start / GRID + np.arange(length // GRID)
    low = np.floor(position).astype(np.int64)
    weight = (position - low).astype(np.float32)
    return np.clip(low, 0, count - 1), np.clip(low + 1, 0, count - 1), weight


def tile_levels(levels: np.ndarray, origin: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """The part of an image's level grid (one level per GRID×GRID cell) for the tile at
    `origin` (its top-left pixel) of `shape` (as the network gets it, padded to whole cells):
    bilinear at the tile's own cell centres, exactly the grid's values where the tile starts
    on a cell boundary."""
    r0, r1, wy = _axis_samples(origin[0], shape[0], levels.shape[0])
    c0, c1, wx = _axis_samples(origin[1], shape[1], levels.shape[1])
    rows = levels[r0] * (1.0 - wy)[:, None] + levels[r1] * wy[:, None]
    return rows[:, c0] * (1.0 - wx) + rows[:, c1] * wx


class Denoiser(InferenceModel):
    """RGB in [-1, 1] -> RGB in [-1, 1]."""

    @property
    def conditioned(self) -> bool:
        """Does the network take a strength (a noise-level input, `denoise_cond`)?"""
        return bool(getattr(self.net, "conditioned", False))

    def forward(
        self, x: torch.Tensor, strength: float = 1.0, level: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.conditioned:  # `level`: the (1, 1, H/GRID, W/GRID) grid, else the estimate
            return self.net(x, strength=strength, level=level)
        return self.net(x)

    def estimate_level(self, array: np.ndarray) -> np.ndarray:
        """A noise-level network's own estimate for float32 H×W×3 (network range) as
        `predict` would give it the array: (⌈H/GRID⌉, ⌈W/GRID⌉) float32, in 8-bit levels."""
        with self.inference():
            return self.net.estimate_level(self.network_input(array))[0, 0].float().cpu().numpy()

    def image_levels(
        self,
        image: np.ndarray,
        network_view: Callable[[np.ndarray], np.ndarray],
        cancel: CancelToken | None,
    ) -> np.ndarray:
        """The level grid of the whole `image` (one level per GRID×GRID cell, float32:
        1.5 MB for 24 MP), estimated block by block on what `network_view` makes of its
        pixels (what the tiles give the network). Raises Cancelled between blocks."""
        height, width = image.shape[:2]
        levels = np.empty((-(-height // GRID), -(-width // GRID)), np.float32)
        for y0 in range(0, height, _LEVEL_BLOCK):
            for x0 in range(0, width, _LEVEL_BLOCK):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                y1, x1 = min(y0 + _LEVEL_BLOCK, height), min(x0 + _LEVEL_BLOCK, width)
                ya, xa = max(0, y0 - _LEVEL_CONTEXT), max(0, x0 - _LEVEL_CONTEXT)
                # Inside the image the block's input is whole cells; at its bottom/right
                # edge `network_input` pads it as `predict` pads the whole image.
                yb, xb = min(height, y1 + _LEVEL_CONTEXT), min(width, x1 + _LEVEL_CONTEXT)
                block = self.estimate_level(network_view(image[ya:yb, xa:xb]))
                top, left = y0 // GRID, x0 // GRID
                rows, cols = -(-y1 // GRID) - top, -(-x1 // GRID) - left
                gy, gx = top - ya // GRID, left - xa // GRID
                levels[top : top + rows, left : left + cols] = block[gy : gy + rows, gx : gx + cols]
        return levels

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

        def network_view(pixels: np.ndarray) -> np.ndarray:
            unit = pixels.astype(np.float32) / scale
            return encode_rgb(remove_impulses(unit) if impulses else unit)

        # A noise-level network gets its level from the whole image's estimate, so that the
        # tiles agree on it where they overlap (and with the whole image at once).
        levels = self.image_levels(image, network_view, cancel) if self.conditioned else None

        def denoise_tile(tile: np.ndarray, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
            if levels is not None:  # the network itself removes more or less
                padded = [-(-side // self.multiple) * self.multiple for side in tile.shape[:2]]
                level = torch.from_numpy(tile_levels(levels, origin, padded))[None, None]
                predicted = self.predict(network_view(tile), strength=strength, level=level)
                return decode_rgb(predicted, inplace=True)
            unit = tile.astype(np.float32) / scale
            cleaned = remove_impulses(unit) if impulses else unit
            restored = decode_rgb(self.predict(encode_rgb(cleaned)), inplace=True)
            if strength >= 1.0:
                return restored
            return unit + strength * (restored - unit)

        def finalize(stripe: np.ndarray, _y0: int, _y1: int) -> np.ndarray:
            return from_unit(stripe, image.dtype, overwrite=True)

        out = np.empty_like(image) if out is None else out
        yield from iter_tiled(
            image, denoise_tile, out, plan, finalize, cancel, with_origin=levels is not None
        )
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
