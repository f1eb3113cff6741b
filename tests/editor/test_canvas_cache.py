"""The canvas's display cache: what a change re-reads from the source, exact conversion,
smaller zoom levels, and timings on a 24 MP source."""

from __future__ import annotations

import time

import numpy as np
import pytest
from canvas_support import (
    BLUE,
    GREEN,
    FakeSource,
    loaded,
    make_view,
    rgb_at,
)
from PySide6.QtCore import QPointF
from PySide6.QtGui import (
    QColor,
)

from editor.canvas import CanvasView


@pytest.fixture
def view(qtbot) -> CanvasView:  # noqa: ANN001 (pytest-qt's types)
    return make_view(qtbot)


def test_update_region_rewrites_only_that_region_of_the_overlay(view: CanvasView) -> None:
    source = loaded(view)
    overlay = view.cache.overlay
    assert not overlay.base.any() and not view.cache.overlay_has_content
    source.mask[100:150, 200:260] = 255
    source.mask[400:420, 500:520] = 255  # changed, but not announced: the cache must not read it
    view.update_region("mask", (100, 150, 200, 260))
    inside = overlay.base[100:150, 200:260]
    alpha, red = inside >> 24, (inside >> 16) & 0xFF
    assert (alpha == 128).all() and (red == 128).all()  # premultiplied red at half opacity
    assert not ((inside >> 8) & 0xFF).any() and not (inside & 0xFF).any()
    outside = overlay.base.copy()
    outside[100:150, 200:260] = 0
    assert not outside.any()
    assert overlay.levels[1][50:75, 100:130].all() and not overlay.levels[1][200:210].any()
    assert view.cache.overlay_has_content
    source.mask[:] = 0  # erased everywhere
    view.update_region("mask", None)
    assert not overlay.base.any() and not overlay.levels[-1].any()
    assert not view.cache.overlay_has_content


def test_update_region_of_pixels_reads_only_that_region(view: CanvasView) -> None:
    source = loaded(view)
    composite = view.cache.composite.base
    assert (composite == 0xFF0000FF).all()  # RGB32 blue
    source.composite[10:20, 30:50] = GREEN
    source.reads.clear()
    view.update_region("pixels", (10, 20, 30, 50))
    assert source.reads == [("composite", (10, 20, 30, 50))]
    assert (composite[10:20, 30:50] == 0xFF00FF00).all()
    assert (composite[:10] == 0xFF0000FF).all() and (composite[20:] == 0xFF0000FF).all()
    view.update_region("pixels", (-5, 3, 790, 900))  # clipped to the image
    assert source.reads[-1] == ("composite", (0, 3, 790, 800))
    with pytest.raises(ValueError):
        view.update_region("colour", None)


def test_odd_sizes_convert_exactly_and_keep_smaller_levels_consistent(view: CanvasView) -> None:
    rng = np.random.default_rng(1)
    source = FakeSource(1203, 777)
    source.composite[:] = rng.integers(0, 256, source.composite.shape, dtype=np.uint8)
    view.set_source(source)
    composite = view.cache.composite

    def packed(rgb: np.ndarray) -> np.ndarray:
        r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
        return 0xFF000000 | (r << 16) | (g << 8) | b

    assert np.array_equal(composite.base, packed(source.composite))
    assert [level.shape for level in composite.levels] == [(777, 1203), (389, 602), (195, 301)]
    region = (771, 777, 1195, 1203)  # the bottom-right corner: odd rows and columns
    source.composite[771:, 1195:] = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    view.update_region("pixels", region)
    assert np.array_equal(composite.base, packed(source.composite))
    # Level 1 over that corner is the 2×2 box average, the missing last row/column repeated.
    base = composite.base.view(np.uint8).reshape(777, 1203, 4).astype(np.uint16)
    padded = np.pad(base, ((0, 1), (0, 1), (0, 0)), mode="edge")
    corner = padded[770:778, 1194:1204]
    box = corner[0::2, 0::2] + corner[1::2, 0::2] + corner[0::2, 1::2] + corner[1::2, 1::2] + 2
    level1 = composite.levels[1].view(np.uint8).reshape(389, 602, 4)
    assert np.array_equal(level1[385:389, 597:602], box >> 2)


def test_update_region_all_rereads_everything(view: CanvasView) -> None:
    source = loaded(view)
    view.cache.original()
    source.composite[:] = GREEN
    source.original[:] = BLUE
    source.mask[:10, :10] = 255
    view.update_region("all")
    assert (view.cache.composite.base == 0xFF00FF00).all()
    assert (view.cache.original().base == 0xFF0000FF).all()
    assert view.cache.overlay.base[:10, :10].all() and not view.cache.overlay.base[10:].any()
    # A new size: new buffers, fitted again.
    source.width, source.height = 400, 300
    source.composite = np.zeros((300, 400, 3), np.uint8)
    source._mask = np.zeros((300, 400), np.uint8)
    view.update_region("all")
    assert view.cache.composite.base.shape == (300, 400)
    assert view.zoom == pytest.approx(1.0)


def test_overlay_style_and_smooth_zoomed_out_levels(view: CanvasView) -> None:
    source = loaded(view, 3200, 2400)  # fit 12.5 %: drawn from a level 8× smaller
    source.mask[:, :1600] = 255
    view.update_region("mask")
    view.set_overlay_style(QColor(0, 255, 0), 1.0)
    shot = view.grab().toImage()
    assert rgb_at(shot, 100, 150) == GREEN and rgb_at(shot, 300, 150) == BLUE


def test_timings_on_a_24_megapixel_source(view: CanvasView) -> None:
    """Not a benchmark: prints what opening, a brush-sized region update and repaints cost."""
    view.resize(1600, 1000)
    source = FakeSource(6000, 4000)
    start = time.perf_counter()
    view.set_source(source)
    built_ms = (time.perf_counter() - start) * 1000
    view.repaint()
    fit_ms = view.last_paint_ms
    region_ms = []
    for i in range(10):  # a brush dab: mask region update, then repaint just that area
        y, x = 2000 + 10 * i, 3000 + 10 * i
        source.mask[y : y + 100, x : x + 100] = 255
        start = time.perf_counter()
        view.update_region("mask", (y, y + 100, x, x + 100))
        region_ms.append((time.perf_counter() - start) * 1000)
    rect = view.map_from_image(QPointF(3000, 2000))
    view.repaint(round(rect.x()) - 3, round(rect.y()) - 3, 40, 40)
    dab_ms = view.last_paint_ms
    view.actual_size()
    view.repaint()
    actual_ms = view.last_paint_ms
    view.set_split(True)
    view.repaint()  # the first before/after paint reads the original into the cache
    first_split_ms = view.last_paint_ms
    view.repaint()
    split_ms = view.last_paint_ms
    print(
        f"\n6000×4000 in a 1600×1000 canvas: set_source {built_ms:.0f} ms; "
        f"update_region(mask, 100×100) median {sorted(region_ms)[5]:.2f} ms; "
        f"paintEvent: fit {fit_ms:.2f} ms, dab area {dab_ms:.2f} ms, 100 % {actual_ms:.2f} ms, "
        f"first split {first_split_ms:.0f} ms, split at 100 % {split_ms:.2f} ms"
    )
    assert view.cache.overlay.base[2050, 3050] != 0 and view.cache.overlay_has_content
