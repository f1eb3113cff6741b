"""Seam-free tiled processing of images larger than a network can take at once.

The image is cut into equal-sized tiles (the last of a row or column may be a few px
shorter) that overlap on interior edges. Within each overlap the two neighbours are
cross-faded with complementary half-sine (sin²) ramps; the outer quarter of every overlap is
given weight 0 on the side that lies at a tile's edge, because a network's output is
unreliable where it lacked context. Accumulation is float32.

Memory stays bounded: tiles are processed row by row and blended straight into a stripe
accumulator that only holds the rows not yet final (one tile row: the horizontal weights
are normalised per column beforehand, so no row buffer is needed). Finished rows are
converted and written straight into the caller's output array, so nothing proportional to
the whole image is allocated here. Rows of the source above the rows being blended are
never read again: `out` may be `src` itself (a caller that gives its input up saves an
image-sized copy).

Tiles start on the network's grid (`TilePlan.multiple`): a network that works at a fraction of
the side computes a tile cut at another phase of its grid differently all over.

`iter_tiled` is a plain generator (chaiNNer style): it yields progress after every tile,
checks the cancel token between tiles, and on out-of-memory halves the tile and goes on
from the current row (rows already written are kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.errors import Cancelled, OutOfMemory
from engine.options import Progress

TileFn = Callable[..., np.ndarray]
"""Takes a float32 tile H×W×Cin, returns a float32 tile H×W×Cout; called `fn(tile)`, or
`fn(tile, (y0, x0))` with the tile's top-left pixel in the image when `iter_tiled` is given
`with_origin=True`."""

Finalize = Callable[[np.ndarray, int, int], np.ndarray]
"""Converts a finished float32 stripe (rows y0..y1 of the result) to the output's dtype."""


class CancelToken:
    """Set by the caller (any thread) to ask running work to stop at the next tile."""

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise Cancelled("cancelled by the user")


@dataclass(frozen=True)
class Span:
    """One tile's extent along an axis and how many of its pixels it shares with neighbours."""

    start: int
    stop: int
    overlap_before: int
    overlap_after: int


def plan_spans(length: int, tile: int, overlap: int, multiple: int = 1) -> list[Span]:
    """Tiles covering [0, length), spread evenly so every overlap is >= `overlap`, each
    starting at a multiple of `multiple` (of its largest divisor not above the overlap,
    where the overlap is smaller); all the same size but the last, which ends at `length`
    and may be a few px shorter.

    A network that works at 1/`multiple` of the side is not shift-invariant: a tile cut at
    another phase of its grid than the whole image's is computed differently everywhere
    (the shipped denoiser: up to 18 levels at 2 or 4 px off, 0.5 on its grid), not only near
    its edges, where the overlap's cross-fade hides the difference. The tile is shrunk to the
    smallest size (a multiple of `multiple`) that covers the length with the same number of
    tiles: 6000 px in 1024 px tiles would otherwise compute 7 × 1024 = 7168 px, 7 × 912 do.
    """
    if tile >= length:
        return [Span(0, length, 0, 0)]
    if overlap >= tile:
        raise ValueError(f"overlap {overlap} must be smaller than the tile {tile}")
    # The grid starts align to: the network's, or its largest divisor not above the overlap
    # (a grid coarser than the overlap would cost tiles: 24 % more for the 1/128 U-Net).
    limit = min(overlap, tile - overlap)
    grid = max(d for d in range(1, multiple + 1) if multiple % d == 0 and d <= max(limit, 1))

    def steps(size: int) -> tuple[int, int]:
        """(largest step between starts, distance the starts span), both in grid units."""
        return (size - overlap) // grid, -(-(length - size) // grid)

    step, distance = steps(tile)
    count = max(2, 1 + -(-distance // step))
    while True:  # the smallest tile the same count of tiles still covers the length with
        smaller = (tile - 1) // multiple * multiple
        if smaller - overlap < grid:
            break
        step, distance = steps(smaller)
        if (count - 1) * step < distance:
            break
        tile = smaller
    distance = steps(tile)[1]
    starts = [round(i * distance / (count - 1)) * grid for i in range(count)]
    spans = []
    for i, start in enumerate(starts):
        stop = min(start + tile, length)
        before = starts[i - 1] + tile - start if i > 0 else 0
        after = stop - starts[i + 1] if i + 1 < count else 0
        spans.append(Span(start, stop, before, after))
    return spans


_WEIGHT_FLOOR = 1e-7


def _ramp_up(n: int) -> np.ndarray:
    """Weights rising from 0 to 1 across an overlap of n pixels.

    The first quarter is (practically) 0 and the last quarter exactly 1, so the pixels nearest a
    tile's edge never count; the half-sine middle of one side and the mirrored ramp of the
    neighbour sum to 1.
    """
    margin = n // 4
    middle = n - 2 * margin
    t = (np.arange(middle, dtype=np.float64) + 0.5) / middle
    ramp = np.concatenate([np.zeros(margin), np.sin(t * np.pi / 2) ** 2, np.ones(margin)])
    # A tiny floor instead of 0: a pixel never ends up with no weight at all (possible after
    # an OOM re-plan), while an edge pixel's influence stays far below one 16-bit level.
    return np.maximum(ramp, _WEIGHT_FLOOR).astype(np.float32)


def span_weights(span: Span) -> np.ndarray:
    """1-D blend weights for one tile (1 away from neighbours, ramps inside overlaps)."""
    w = np.ones(span.stop - span.start, dtype=np.float32)
    if span.overlap_before:
        w[: span.overlap_before] = _ramp_up(span.overlap_before)
    if span.overlap_after:
        w[-span.overlap_after :] = np.minimum(
            w[-span.overlap_after :], _ramp_up(span.overlap_after)[::-1]
        )
    return w


def release_cached_memory() -> None:
    """Give cached GPU blocks back after an allocation failure (no-op on the CPU)."""
    import torch  # local: tiling itself is numpy-only

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the allocation failures of CPU, CUDA and MPS back ends."""
    if isinstance(exc, MemoryError):
        return True
    if type(exc).__name__ == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


@dataclass(frozen=True)
class TilePlan:
    """Tiling parameters. `multiple` keeps the tile size a multiple a network needs."""

    tile: int
    overlap: int
    min_tile: int = 64
    multiple: int = 1

    def halved(self) -> TilePlan:
        tile = max(self.multiple, (self.tile // 2) // self.multiple * self.multiple)
        if tile < self.min_tile or tile <= self.overlap or tile == self.tile:
            raise OutOfMemory(
                f"out of memory even with a {self.tile}-pixel tile; "
                "close other programs or choose the CPU device"
            )
        return TilePlan(tile, self.overlap, self.min_tile, self.multiple)


def column_weights(xs: list[Span]) -> list[np.ndarray]:
    """Each tile's horizontal blend weights divided by their sum at every column, so the
    tiles of a row add up to the row's blend directly (no row buffer to normalise)."""
    weights = [span_weights(span) for span in xs]
    total = np.zeros(xs[-1].stop, np.float32)
    for span, w in zip(xs, weights, strict=True):
        total[span.start : span.stop] += w
    return [w / total[span.start : span.stop] for span, w in zip(xs, weights, strict=True)]


class _StripeAccumulator:
    """Blends the tiles of each row straight into a float32 stripe (horizontal weights
    normalised per column, vertical ones summed per row) and writes rows to `out` once no
    later row touches them.

    Its buffer holds at most one tile row (it grows only if a row is taller than any before)
    and is reused in place, so memory is bounded by tile × width, not by the image. A row
    that fails half-way (out of memory) is undone: the rows it shares with the row before
    are kept aside when it starts and put back.
    """

    def __init__(self, out: np.ndarray, channels: int, finalize: Finalize) -> None:
        self.out = out
        self.finalize = finalize
        self.base = 0  # first row not yet written to `out`
        self.filled = 0  # rows of the buffer in use, counted from `base`
        self.acc = np.zeros((0, out.shape[1], channels), np.float32)
        self.wsum = np.zeros(0, np.float32)
        self.scratch = np.zeros(0, np.float32)
        self.saved = self.acc[:0].copy()
        self.row = Span(0, 0, 0, 0)

    def start_row(self, ys: Span) -> None:
        lo, hi = ys.start - self.base, ys.stop - self.base
        if hi > self.acc.shape[0]:
            acc = np.zeros((hi,) + self.acc.shape[1:], np.float32)
            acc[: self.filled] = self.acc[: self.filled]
            wsum = np.zeros(hi, np.float32)
            wsum[: self.filled] = self.wsum[: self.filled]
            self.acc, self.wsum = acc, wsum
        shared = max(0, self.filled - lo)
        if self.saved.shape[0] < shared:
            self.saved = np.empty((shared,) + self.acc.shape[1:], np.float32)
        self.saved[:shared] = self.acc[lo : lo + shared]
        self.shared, self.before = shared, self.filled
        if hi > self.filled:  # rows never written since the last shift start from zero
            self.acc[self.filled : hi] = 0.0
            self.wsum[self.filled : hi] = 0.0
            self.filled = hi
        self.row, self.wy = ys, span_weights(ys)

    def add(self, xspan: Span, wx: np.ndarray, result: np.ndarray) -> None:
        """Blend one tile of the current row (`wx`: its normalised column weights)."""
        if self.scratch.size < result.size:
            self.scratch = np.empty(result.size, np.float32)
        weighted = self.scratch[: result.size].reshape(result.shape)
        np.multiply(result, wx[None, :, None], out=weighted)
        weighted *= self.wy[:, None, None]
        lo = self.row.start - self.base
        self.acc[lo : lo + result.shape[0], xspan.start : xspan.stop] += weighted

    def end_row(self) -> None:
        lo = self.row.start - self.base
        self.wsum[lo : lo + self.wy.size] += self.wy

    def undo_row(self) -> None:
        """Forget the tiles of the current row added so far."""
        lo = self.row.start - self.base
        self.acc[lo : lo + self.shared] = self.saved[: self.shared]
        self.filled = self.before

    def flush_until(self, y: int) -> None:
        """Rows before `y` are final: normalise, convert and write them."""
        n = y - self.base
        if n <= 0:
            return
        # Normalised in place (these rows leave the buffer next), and `finalize` may use them
        # as scratch too: fresh arrays of this size cost more in page faults than in maths.
        stripe = np.divide(self.acc[:n], self.wsum[:n, None, None], out=self.acc[:n])
        self.out[self.base : y] = self.finalize(stripe, self.base, y)
        keep = self.filled - n
        self.acc[:keep] = self.acc[n : self.filled]  # numpy copies overlapping slices safely
        self.wsum[:keep] = self.wsum[n : self.filled]
        self.filled = keep
        self.base = y


def _replan_rows(height: int, current: Span, plan: TilePlan) -> list[Span]:
    """Rows for [current.start, height) at a new tile size, keeping the overlap already begun."""
    rest = plan_spans(height - current.start, plan.tile, plan.overlap, plan.multiple)
    rest = [
        Span(s.start + current.start, s.stop + current.start, s.overlap_before, s.overlap_after)
        for s in rest
    ]
    first = rest[0]
    carried = min(current.overlap_before, (first.stop - first.start) // 2)
    rest[0] = Span(first.start, first.stop, carried, first.overlap_after)
    return rest


def iter_tiled(
    src: np.ndarray,
    fn: TileFn,
    out: np.ndarray,
    plan: TilePlan,
    finalize: Finalize,
    cancel: CancelToken | None = None,
    *,
    with_origin: bool = False,
) -> Iterator[Progress]:
    """Apply `fn` tile by tile over `src` (H×W×C), writing the blended result into `out`.

    `out` is H×W×Cout, preallocated by the caller in its final dtype; `finalize` converts
    float32 stripes to it. Yields a Progress after every tile. Raises Cancelled between
    tiles when `cancel` is set, OutOfMemory when even the smallest tile does not fit.
    With `with_origin` `fn` also gets where the tile starts, `fn(tile, (y0, x0))` (for
    a per-image map computed beforehand, of which each tile takes its part).
    """
    height, width = src.shape[:2]
    acc = _StripeAccumulator(out, out.shape[2], finalize)
    rows = plan_spans(height, plan.tile, plan.overlap, plan.multiple)
    xs = plan_spans(width, plan.tile, plan.overlap, plan.multiple)
    wxs = column_weights(xs)
    done = 0
    k = 0
    while k < len(rows):
        ys = rows[k]
        done_before_row = done
        total = done + (len(rows) - k) * len(xs)

        try:
            acc.start_row(ys)
            for xspan, wx in zip(xs, wxs, strict=True):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                tile = src[ys.start : ys.stop, xspan.start : xspan.stop]
                origin = (ys.start, xspan.start)
                acc.add(xspan, wx, fn(tile, origin) if with_origin else fn(tile))
                done += 1
                yield Progress("", done, total, plan.tile)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            acc.undo_row()
            release_cached_memory()  # or the halved tile may fail on fragmentation
            plan = plan.halved()  # raises OutOfMemory below the smallest tile
            rows = rows[:k] + _replan_rows(height, ys, plan)
            xs = plan_spans(width, plan.tile, plan.overlap, plan.multiple)
            wxs = column_weights(xs)
            done = done_before_row
            continue
        acc.end_row()
        k += 1
        acc.flush_until(rows[k].start if k < len(rows) else height)
