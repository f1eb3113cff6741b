"""Seam-free tiled processing of images larger than a network can take at once.

The image is cut into equal-sized tiles that overlap on interior edges. Within each overlap
the two neighbours are cross-faded with complementary half-sine (sin²) ramps; the outer
quarter of every overlap is given weight 0 on the side that lies at a tile's edge, because a
network's output is unreliable where it lacked context. Accumulation is float32.

Memory stays bounded: tiles are processed row by row; a row is blended horizontally into a
row buffer, and rows are blended vertically into a stripe accumulator that only holds the
rows not yet final. Finished rows are converted and written straight into the caller's
output array, so nothing proportional to the whole image is allocated here.

`iter_tiled` is a plain generator (chaiNNer style): it yields progress after every tile,
checks the cancel token between tiles, and on out-of-memory halves the tile and goes on
from the current row (rows already written are kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from engine.errors import Cancelled, OutOfMemory
from engine.options import Progress

TileFn = Callable[[np.ndarray], np.ndarray]
"""Takes a float32 tile H×W×Cin, returns a float32 tile H×W×Cout."""

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
    """Equal-sized tiles covering [0, length), spread evenly so every overlap is >= `overlap`.

    The tile is shrunk to the smallest size (a multiple of `multiple`) that covers the length
    with the same number of tiles: 6000 px in 1024 px tiles would otherwise compute 7 × 1024
    = 7168 px for 6000, where 7 × 944 does.
    """
    if tile >= length:
        return [Span(0, length, 0, 0)]
    if overlap >= tile:
        raise ValueError(f"overlap {overlap} must be smaller than the tile {tile}")
    count = math.ceil((length - overlap) / (tile - overlap))
    count = max(count, 2)
    fitted = -(-(length + (count - 1) * overlap) // count)
    tile = min(tile, -(-fitted // multiple) * multiple)
    starts = [round(i * (length - tile) / (count - 1)) for i in range(count)]
    spans = []
    for i, start in enumerate(starts):
        before = starts[i - 1] + tile - start if i > 0 else 0
        after = start + tile - starts[i + 1] if i + 1 < count else 0
        spans.append(Span(start, start + tile, before, after))
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


class _StripeAccumulator:
    """Vertical blending of row buffers; writes rows to `out` once no later row touches them.

    Its buffer holds at most one tile row (it grows only if a row is taller than any before)
    and is reused in place, so memory is bounded by tile × width, not by the image.
    """

    def __init__(self, out: np.ndarray, channels: int, finalize: Finalize) -> None:
        self.out = out
        self.finalize = finalize
        self.base = 0  # first row not yet written to `out`
        self.filled = 0  # rows of the buffer in use, counted from `base`
        self.acc = np.zeros((0, out.shape[1], channels), np.float32)
        self.wsum = np.zeros(0, np.float32)

    def add(self, y0: int, rows: np.ndarray, wy: np.ndarray) -> None:
        """Blend `rows` (scaled in place by `wy`) into the buffer at image row `y0`."""
        lo, hi = y0 - self.base, y0 - self.base + rows.shape[0]
        if hi > self.acc.shape[0]:
            acc = np.zeros((hi,) + self.acc.shape[1:], np.float32)
            acc[: self.filled] = self.acc[: self.filled]
            wsum = np.zeros(hi, np.float32)
            wsum[: self.filled] = self.wsum[: self.filled]
            self.acc, self.wsum = acc, wsum
        if hi > self.filled:  # rows never written since the last shift start from zero
            self.acc[self.filled : hi] = 0.0
            self.wsum[self.filled : hi] = 0.0
            self.filled = hi
        rows *= wy[:, None, None]  # the row buffer is ours to scale: no 24 MP temporaries
        self.acc[lo:hi] += rows
        self.wsum[lo:hi] += wy

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


class _RowBlender:
    """Cross-fades the tiles of one row horizontally into a float32 row buffer.

    The buffers are kept from row to row (`start_row`): allocating a fresh tile × width
    buffer per row costs more in page faults than the blending itself.
    """

    def __init__(self, width: int, channels: int) -> None:
        self.buffer = np.zeros((0, width, channels), np.float32)
        self.scratch = np.zeros(0, np.float32)
        self.row = self.buffer
        self.wsum = np.zeros(width, np.float32)

    def start_row(self, ys: Span) -> None:
        height = ys.stop - ys.start
        if height > self.buffer.shape[0]:
            self.buffer = np.zeros((height,) + self.buffer.shape[1:], np.float32)
        self.row = self.buffer[:height]
        self.row.fill(0.0)
        self.wsum.fill(0.0)

    def add(self, xspan: Span, result: np.ndarray) -> None:
        wx = span_weights(xspan)
        if self.scratch.size < result.size:
            self.scratch = np.empty(result.size, np.float32)
        weighted = self.scratch[: result.size].reshape(result.shape)
        np.multiply(result, wx[None, :, None], out=weighted)
        self.row[:, xspan.start : xspan.stop] += weighted
        self.wsum[xspan.start : xspan.stop] += wx

    def result(self) -> np.ndarray:
        """The blended row; valid until the next `start_row`, and the caller may modify it."""
        self.row /= self.wsum[None, :, None]
        return self.row


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
) -> Iterator[Progress]:
    """Apply `fn` tile by tile over `src` (H×W×C), writing the blended result into `out`.

    `out` is H×W×Cout, preallocated by the caller in its final dtype; `finalize` converts
    float32 stripes to it. Yields a Progress after every tile. Raises Cancelled between
    tiles when `cancel` is set, OutOfMemory when even the smallest tile does not fit.
    """
    height, width = src.shape[:2]
    acc = _StripeAccumulator(out, out.shape[2], finalize)
    rows = plan_spans(height, plan.tile, plan.overlap, plan.multiple)
    xs = plan_spans(width, plan.tile, plan.overlap, plan.multiple)
    blender = _RowBlender(width, out.shape[2])
    done = 0
    k = 0
    while k < len(rows):
        ys = rows[k]
        done_before_row = done
        total = done + (len(rows) - k) * len(xs)

        try:
            blender.start_row(ys)
            for xspan in xs:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                blender.add(xspan, fn(src[ys.start : ys.stop, xspan.start : xspan.stop]))
                done += 1
                yield Progress("", done, total, plan.tile)
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            release_cached_memory()  # or the halved tile may fail on fragmentation
            plan = plan.halved()  # raises OutOfMemory below the smallest tile
            rows = rows[:k] + _replan_rows(height, ys, plan)
            xs = plan_spans(width, plan.tile, plan.overlap, plan.multiple)
            done = done_before_row
            continue
        acc.add(ys.start, blender.result(), span_weights(ys))
        k += 1
        acc.flush_until(rows[k].start if k < len(rows) else height)
