"""Tiled processing: geometry, seam-free blending, bounded memory, cancel and OOM retry."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from torch import nn

from engine.errors import Cancelled, OutOfMemory
from engine.tiling import (
    CancelToken,
    TilePlan,
    iter_tiled,
    plan_spans,
    span_weights,
)


def _identity_finalize(stripe, _y0, _y1):
    return stripe


def _run(src, fn, plan, channels=None, cancel=None):
    out = np.zeros(src.shape[:2] + (channels or src.shape[2],), np.float32)
    steps = list(iter_tiled(src, fn, out, plan, _identity_finalize, cancel))
    return out, steps


def _local_net(seed: int = 0) -> nn.Module:
    """Three 3×3 convs: each output pixel sees 3 pixels around it (receptive radius 3)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 3, 3, padding=1),
    ).eval()


def _as_fn(net: nn.Module):
    def fn(tile: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None].float()
            return net(x)[0].numpy().transpose(1, 2, 0)

    return fn


@pytest.mark.parametrize("length,tile,overlap", [(1000, 256, 32), (257, 256, 32), (700, 100, 20)])
def test_spans_cover_everything_with_equal_tiles_and_enough_overlap(length, tile, overlap):
    spans = plan_spans(length, tile, overlap)
    assert spans[0].start == 0 and spans[-1].stop == length
    sizes = {s.stop - s.start for s in spans}
    assert len(sizes) == 1 and sizes.pop() <= tile
    assert len(spans) == max(2, -(-(length - overlap) // (tile - overlap)))  # no extra tile
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.stop - b.start >= overlap
        assert a.overlap_after == b.overlap_before == a.stop - b.start


def test_tiles_shrink_to_fit_the_length_without_adding_one():
    # 6000 px in 1024 px tiles with 64 px overlap needs 7 tiles; 7 of 1024 would compute
    # 7168 px, 7 of 912 (a multiple of 8) compute 6384.
    spans = plan_spans(6000, 1024, 64, multiple=8)
    size = spans[0].stop - spans[0].start
    assert len(spans) == 7 and size % 8 == 0 and size < 1024
    assert 7 * size < 6000 + 6 * 64 + 7 * 8  # the smallest multiple of 8 that still covers
    assert all(a.stop - b.start >= 64 for a, b in zip(spans, spans[1:], strict=False))


def test_small_image_is_one_tile():
    spans = plan_spans(100, 256, 32)
    assert len(spans) == 1 and spans[0].start == 0 and spans[0].stop == 100


def test_neighbour_weights_are_complementary_in_the_overlap():
    a, b = plan_spans(600, 256, 64)[:2]
    wa, wb = span_weights(a), span_weights(b)
    shared = a.stop - b.start
    total = wa[-shared:] + wb[:shared]
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    # The outer quarter of each side's overlap is (practically) ignored.
    assert wa[-(shared // 4) :].max() < 1e-6 and wb[: shared // 4].max() < 1e-6


def test_tiled_equals_whole_image_exactly_where_receptive_field_fits_overlap():
    rng = np.random.default_rng(0)
    src = rng.random((203, 317, 3), dtype=np.float32)
    fn = _as_fn(_local_net())
    whole = fn(src)
    tiled, steps = _run(src, fn, TilePlan(tile=64, overlap=32))
    assert len(steps) > 9
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    # Away from every overlap only one tile counts: there the result is bit-identical to the
    # network's output on that tile (vs. the whole image, conv kernels round differently).
    first_x = plan_spans(317, 64, 32)
    first_y = plan_spans(203, 64, 32)
    y_only = slice(0, first_y[0].stop - first_y[0].overlap_after)
    x_only = slice(0, first_x[0].stop - first_x[0].overlap_after)
    assert np.array_equal(tiled[y_only, x_only], fn(src[:64, :64])[y_only, x_only])


def test_flat_sky_has_no_seams():
    src = np.full((300, 500, 3), 0.6, np.float32)
    out, _ = _run(src, lambda t: t * 0.5 + 0.1, TilePlan(tile=96, overlap=24))
    assert np.abs(out - 0.4).max() < 1e-6


def test_output_channels_may_differ_from_input():
    src = np.random.default_rng(1).random((90, 130, 1), dtype=np.float32)
    out, _ = _run(src, lambda t: np.repeat(t, 2, axis=2), TilePlan(tile=48, overlap=16), 2)
    np.testing.assert_allclose(out, np.repeat(src, 2, axis=2), atol=1e-6)


def test_memory_does_not_grow_with_the_image():
    """Only a stripe of rows is accumulated: far less than a float copy of the image."""
    src = np.zeros((4000, 256, 3), np.uint8)
    out = np.zeros_like(src)
    full_float_copy = src.size * 4
    tracemalloc.start()
    for _ in iter_tiled(
        src,
        lambda t: t.astype(np.float32),
        out,
        TilePlan(128, 32),
        lambda s, _a, _b: s.astype(np.uint8),
    ):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < full_float_copy / 4


def test_progress_counts_every_tile_up_to_the_total():
    src = np.zeros((200, 300, 3), np.float32)
    _, steps = _run(src, lambda t: t, TilePlan(tile=100, overlap=20))
    assert [s.done for s in steps] == list(range(1, len(steps) + 1))
    assert steps[-1].done == steps[-1].total == len(steps)
    assert steps[-1].fraction == 1.0


def test_cancel_stops_within_one_tile():
    src = np.zeros((400, 400, 3), np.float32)
    calls = []
    token = CancelToken()

    def fn(tile):
        calls.append(tile.shape)
        return tile

    out = np.zeros_like(src)
    gen = iter_tiled(src, fn, out, TilePlan(tile=100, overlap=20), _identity_finalize, token)
    next(gen)  # one tile done
    token.cancel()
    with pytest.raises(Cancelled):
        next(gen)
    assert len(calls) == 1


def test_out_of_memory_halves_the_tile_and_finishes_correctly():
    rng = np.random.default_rng(2)
    src = rng.random((300, 420, 3), dtype=np.float32)
    net_fn = _as_fn(_local_net(1))
    attempts = []

    def fragile(tile):
        attempts.append(max(tile.shape[:2]))
        if max(tile.shape[:2]) > 64:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return net_fn(tile)

    out, steps = _run(src, fragile, TilePlan(tile=256, overlap=32, min_tile=32))
    # Halved twice before it fit (each plan's tiles shrink a little to fit the image).
    assert 128 < attempts[0] <= 256 and 64 < attempts[1] <= 128 and attempts[2] <= 64
    assert steps[-1].tile_size == 64
    assert steps[-1].done == steps[-1].total
    np.testing.assert_allclose(out, net_fn(src), atol=1e-5)


def test_out_of_memory_midway_keeps_finished_rows():
    src = np.random.default_rng(3).random((600, 200, 3), dtype=np.float32)
    seen = []

    def fails_on_third_tile(tile):
        seen.append(tile.shape[0])
        if len(seen) == 3:
            raise MemoryError()
        return tile * 2

    out, steps = _run(src, fails_on_third_tile, TilePlan(tile=200, overlap=40, min_tile=32))
    assert seen[:3] == [seen[0]] * 3 and seen[0] <= 200 and seen[3] <= 100
    np.testing.assert_allclose(out, src * 2, atol=1e-5)


def test_out_of_memory_at_the_smallest_tile_is_an_engine_error():
    def always_oom(_tile):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    with pytest.raises(OutOfMemory, match="out of memory"):
        _run(np.zeros((300, 300, 3), np.float32), always_oom, TilePlan(256, 16, min_tile=64))


def test_other_errors_are_not_mistaken_for_out_of_memory():
    def broken(_tile):
        raise ValueError("shape mismatch")

    with pytest.raises(ValueError, match="shape mismatch"):
        _run(np.zeros((100, 100, 3), np.float32), broken, TilePlan(64, 16))


@pytest.mark.parametrize("length,tile,overlap", [(6000, 1024, 64), (517, 216, 64), (1001, 104, 20)])
def test_tiles_start_on_the_networks_grid(length, tile, overlap):
    spans = plan_spans(length, tile, overlap, multiple=8)
    size = spans[0].stop - spans[0].start
    assert spans[0].start == 0 and spans[-1].stop == length and size % 8 == 0 and size <= tile
    assert all(s.start % 8 == 0 for s in spans)
    assert all(s.stop - s.start == size for s in spans[:-1])
    assert size - 8 < spans[-1].stop - spans[-1].start <= size  # the last ends at the length
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.overlap_after == b.overlap_before == a.stop - b.start >= overlap


def _blockwise_net() -> nn.Module:
    """Works on 8×8 blocks (a 3×3 conv between pixel-unshuffle and -shuffle): not
    shift-invariant by less than 8 px, as a U-Net at 1/8 of the side is not."""
    torch.manual_seed(4)
    return nn.Sequential(
        nn.PixelUnshuffle(8), nn.Conv2d(192, 192, 3, padding=1), nn.PixelShuffle(8)
    ).eval()


def test_a_blockwise_network_tiles_exactly_when_tiles_start_on_its_grid():
    net = _blockwise_net()

    def fn(tile: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1)))[None]
            h, w = tile.shape[:2]
            x = torch.nn.functional.pad(x, (0, -w % 8, 0, -h % 8), mode="replicate")
            return net(x)[0, :, :h, :w].numpy().transpose(1, 2, 0)

    src = np.random.default_rng(5).random((203, 317, 3), dtype=np.float32)
    tiled, _ = _run(src, fn, TilePlan(tile=64, overlap=32, multiple=8))
    np.testing.assert_allclose(tiled, fn(src), atol=1e-5)
    # The same tiles 4 px off the grid are another computation (the reason for the grid).
    shifted = fn(src[4:68, 4:68])[16:48, 16:48]
    assert np.abs(shifted - fn(src)[20:52, 20:52]).max() > 0.01


def test_with_origin_the_function_is_told_where_each_tile_starts_also_after_a_replan():
    src = np.random.default_rng(6).random((300, 260, 3), dtype=np.float32)
    origins = []

    def fragile(tile, origin):
        y0, x0 = origin
        assert np.array_equal(tile, src[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]])
        if y0 > 0 and max(tile.shape[:2]) > 64:  # out of memory from the second row on
            raise MemoryError()
        origins.append(origin)
        return tile * 2

    plan = TilePlan(tile=128, overlap=32, min_tile=32, multiple=8)
    out = np.zeros_like(src)
    steps = list(iter_tiled(src, fragile, out, plan, _identity_finalize, with_origin=True))
    np.testing.assert_allclose(out, src * 2, atol=1e-5)
    assert steps[-1].tile_size == 64 and steps[-1].done == steps[-1].total == len(steps)
    first_rows, first_xs = plan_spans(300, 128, 32, 8), plan_spans(260, 128, 32, 8)
    replanned = [s.start + first_rows[1].start for s in plan_spans(212, 64, 32, 8)]
    expected = [(0, x.start) for x in first_xs] + [
        (y, x.start) for y in replanned for x in plan_spans(260, 64, 32, 8)
    ]
    assert origins == expected and all(y % 8 == 0 and x % 8 == 0 for y, x in origins)
