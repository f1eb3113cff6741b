"""training.data.damage's unlabelled look-alikes (content that looks like damage to a
detector that never saw it: fence rails, plain backdrops, coloured strokes): each is drawn
as documented, is never labelled, and is off — with no random draw — unless a recipe asks."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from damage_support import KERNEL as _KERNEL
from damage_support import luma as _luma
from damage_support import photo as _photo
from damage_support import plain as _plain

from training.data.damage import DamageConfig, age, damage


def _sky_over_ground(size: int = 128) -> np.ndarray:
    """A plain light sky above a dark, textured ground: a backdrop's only candidate."""
    rng = np.random.default_rng(0)
    image = np.full((size, size, 3), 0.7, np.float32)
    image += np.linspace(0.0, 0.05, size, dtype=np.float32)[:, None, None]  # a soft gradient
    ground = slice(size // 2, None)
    image[ground] = 0.25 + rng.uniform(-0.1, 0.1, image[ground].shape).astype(np.float32)
    return image


def test_backdrops_flatten_light_plain_ground_unlabelled_and_off_unless_asked() -> None:
    cfg = dataclasses.replace(_plain("crack", backdrop_prob=1.0, fresh_prob=1.0), clean_prob=1.0)
    clean = _sky_over_ground()
    for seed in range(8):
        image, label, info = damage(clean, np.random.default_rng(seed), cfg)
        (name, params), *_ = info.ageing
        assert name == "backdrop" and not label.any()  # content, not damage
        changed = np.abs(image - clean).max(axis=2) > 0.03
        # Only the light plain sky, never the dark textured ground (a few rows of its
        # softened edge aside), and the sky nearly whole: the fill follows the horizon.
        assert changed[72:].mean() < 0.01
        assert 0.4 <= params["area"] <= 0.6 and changed[:60].mean() > 0.5
        sky = _luma(image[:60])
        assert sky.mean() > 0.6 and sky.std() < 0.08  # light, nearly flat ground
    # A photo with no light plain region gets none (and says so).
    dark = np.clip(_photo(96) - 0.3, 0.0, 1.0)
    image, _, info = damage(dark, np.random.default_rng(1), cfg)
    assert info.ageing[0] == ("backdrop", {"area": 0.0})
    assert np.abs(image - dark).max() <= 0.5 / 255 + 1e-6  # the 8-bit quantisation alone
    for default in (DamageConfig(), DamageConfig.held_out()):
        assert default.backdrop_prob == 0.0


def test_coloured_strokes_are_saturated_unlabelled_and_only_on_colour_photos() -> None:
    cfg = dataclasses.replace(_plain("crack", strokes_prob=1.0, fresh_prob=1.0), clean_prob=1.0)
    grey = np.full((96, 96, 3), 0.5, np.float32)
    for seed in range(6):
        image, label, info = damage(grey, np.random.default_rng(seed), cfg)
        (name, params), *_ = info.ageing
        assert name == "strokes" and 1 <= params["count"] <= 6 and not label.any()
        core = np.abs(image - grey).max(axis=2) > 0.2
        assert core.any()
        # Coloured: the cores differ between channels as no damage colour does.
        spread = image[core].max(axis=1) - image[core].min(axis=1)
        assert np.median(spread) > 0.15
        assert core.mean() < 0.25  # thin lines, not paint over the photo
    # Aged photos (grey, sepia, faded) never get them: their line would be achromatic.
    aged = dataclasses.replace(cfg, fresh_prob=0.0)
    for seed in range(6):
        _, _, info = damage(grey, np.random.default_rng(seed), aged)
        assert "strokes" not in [name for name, _ in info.ageing]
    for default in (DamageConfig(), DamageConfig.held_out()):
        assert default.strokes_prob == 0.0


def test_rails_are_straight_unlabelled_bars_and_off_unless_asked() -> None:
    fresh = dataclasses.replace(_plain("crack", rails_prob=1.0, fresh_prob=1.0), clean_prob=1.0)
    for seed in range(12):
        clean = _photo(128, seed)
        image, label, info = damage(clean, np.random.default_rng(seed), fresh)
        (name, params), *_ = info.ageing
        assert name == "rails" and 6.0 <= params["width"] <= 24.0
        assert not label.any()  # content, not damage
        changed = np.abs(image - clean).max(axis=2) > 0.1
        if changed.mean() < 0.01:
            continue  # a fence that lies mostly outside the crop
        # Painted solid in one colour, lit unevenly: white, cream or black, not the photo
        # (inside the bars: their anti-aliased edges mix with it).
        luma = _luma(image)[cv2.erode(changed.astype(np.uint8), _KERNEL) > 0]
        assert (luma > 0.6).mean() > 0.9 or (luma < 0.25).mean() > 0.9
        # Straight: each bar's pixels lie on lines, so the longest segment Hough finds
        # spans a good part of the crop.
        lines = cv2.HoughLinesP(changed.astype(np.uint8) * 255, 1, np.pi / 180, 40, None, 40, 2)
        assert lines is not None
    # Off in the default and benchmark generators, and then no draw is spent on them, so
    # the benchmark's seeds give the photos they gave before rails existed: a fresh photo
    # costs exactly one draw, the coin for "fresh".
    for cfg in (DamageConfig(), DamageConfig.held_out()):
        assert cfg.rails_prob == 0.0
        rng, same = np.random.default_rng(3), np.random.default_rng(3)
        _, steps = age(_photo(64), rng, dataclasses.replace(cfg, fresh_prob=1.0))
        same.random()
        assert steps == () and rng.random() == same.random()
