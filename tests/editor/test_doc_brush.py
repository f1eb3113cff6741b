"""The mask brush (`stamp_segment`, `BrushStroke`, `StrokeRecorder`)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from editor.doc import BrushStroke, StrokeRecorder, stamp_segment

# --- brush --------------------------------------------------------------------------------


def test_a_fast_diagonal_stroke_leaves_no_gaps() -> None:
    mask = np.zeros((200, 260), np.uint8)
    stamp_segment(mask, (10, 10), (200, 150), radius=5, hardness=1.0, erase=False)
    for t in np.linspace(0.0, 1.0, 2000):
        x, y = 10 + 190 * t, 10 + 140 * t
        assert mask[int(y), int(x)] == 255, (x, y)
    assert set(np.unique(mask)) == {0, 255}  # hardness 1: a hard edge


def test_hard_brush_edge_and_dirty_rect_are_exact() -> None:
    mask = np.zeros((60, 60), np.uint8)
    rect = stamp_segment(mask, (30, 30), (30, 30), radius=10, hardness=1.0, erase=False)
    ys, xs = np.mgrid[0:60, 0:60]
    dist = np.hypot(xs + 0.5 - 30, ys + 0.5 - 30)
    assert np.all(mask[dist <= 9.9] == 255) and np.all(mask[dist >= 10.1] == 0)
    nz = np.nonzero(mask)
    assert rect == (nz[0].min(), nz[0].max() + 1, nz[1].min(), nz[1].max() + 1)


def test_soft_brush_is_max_combined_not_additive() -> None:
    once = np.zeros((40, 40), np.uint8)
    rect = stamp_segment(once, (20, 20), (20, 20), radius=12, hardness=0.3, erase=False)
    assert len(np.unique(once)) > 0 and np.any((once > 0) & (once < 255))
    many = once.copy()
    for _ in range(5):
        stamp_segment(many, (20, 20), (20, 20), radius=12, hardness=0.3, erase=False)
    assert np.array_equal(many, once)
    nz = np.nonzero(once)
    assert rect == (nz[0].min(), nz[0].max() + 1, nz[1].min(), nz[1].max() + 1)


def test_erase_clears_and_clipping_stays_in_the_image() -> None:
    mask = np.full((50, 50), 255, np.uint8)
    rect = stamp_segment(mask, (-5, 25), (20, 25), radius=4, hardness=1.0, erase=True)
    assert rect is not None and rect[2] == 0 and rect[0] >= 0
    assert mask[25, 0] == 0 and mask[25, 19] == 0 and mask[25, 30] == 255
    assert int((mask == 0).sum()) > 0
    assert stamp_segment(mask, (-50, -50), (-40, -40), 5, 1.0, False) is None


def test_brush_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        BrushStroke(radius=0)
    with pytest.raises(ValueError):
        BrushStroke(radius=3, hardness=1.5)
    with pytest.raises(ValueError):
        stamp_segment(np.zeros((4, 4), np.uint16), (1, 1), (2, 2), 1, 1.0, False)


def test_stroke_recorder_keeps_only_the_changed_region() -> None:
    mask = np.zeros((400, 500), np.uint8)
    mask[100:120, 100:140] = 255  # already a hole: painting over it changes nothing there
    start = mask.copy()
    recorder = StrokeRecorder(BrushStroke(radius=6, hardness=0.5))
    recorder.begin(mask)
    for point in [(110, 110), (130, 112), (300, 150), (310, 280)]:  # crosses 128 px tiles
        recorder.stroke_to(point)
    painted = mask.copy()
    edit = recorder.finish()
    assert edit is not None and not recorder.active
    changed = np.nonzero(painted != start)
    y0, y1, x0, x1 = edit.region
    assert (y0, y1, x0, x1) == (
        changed[0].min(),
        changed[0].max() + 1,
        changed[1].min(),
        changed[1].max() + 1,
    )
    assert edit.before.shape == edit.after.shape == (y1 - y0, x1 - x0)
    mask[y0:y1, x0:x1] = edit.before
    assert np.array_equal(mask, start)
    mask[y0:y1, x0:x1] = edit.after
    assert np.array_equal(mask, painted)


def test_a_stroke_that_changes_nothing_records_nothing() -> None:
    mask = np.full((50, 50), 255, np.uint8)
    recorder = StrokeRecorder(BrushStroke(radius=5))
    recorder.begin(mask)
    recorder.stroke_to((20, 20))
    assert recorder.finish() is None


def test_stamp_speed_on_a_24_mp_mask() -> None:
    """Measured, not asserted (shared CI machines): printed with ``-s``."""
    mask = np.zeros((4000, 6000), np.uint8)
    timings = {}
    for label, p0, p1 in [
        ("dab", (3000.0, 2000.0), (3000.0, 2000.0)),
        ("30 px move", (3000.0, 2000.0), (3021.0, 2021.0)),
        ("200 px move", (3000.0, 2000.0), (3141.0, 2141.0)),
        ("1000 px move", (1000.0, 1000.0), (1707.0, 1707.0)),
    ]:
        for hardness in (1.0, 0.5):
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                stamp_segment(mask, p0, p1, 50.0, hardness, False)
                best = min(best, time.perf_counter() - start)
            timings[f"{label} h={hardness}"] = best * 1000
    print("\nstamp_segment, radius 50 on 6000×4000 (best of 5, ms):")
    for label, ms in timings.items():
        print(f"  {label:22s} {ms:6.2f}")
    # What was stamped: the dab's centre, the middle of each move, nothing far from them.
    assert mask[2000, 3000] == 255 and mask[2070, 3070] == 255 and mask[1353, 1353] == 255
    assert mask[3500, 500] == 0 and mask[2000, 3200] == 0
