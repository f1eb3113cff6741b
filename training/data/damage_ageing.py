"""The ageing steps of the damage generator (`training.data.damage`; its module doc says
what each step draws): the undamaged old-looking photo under the damage."""

from __future__ import annotations

import colorsys
from typing import Any

import cv2
import numpy as np

from training.data import damage_shapes as shapes
from training.data import real_noise as ops
from training.data.damage_kinds import (
    _BROWN,
    _DARK,
    _PAPER,
    _WHITE,
    draw_count,
    log_uniform,
    pick,
    rgb,
    uniform,
)

# The steps read a `training.data.damage.DamageConfig`, which imports this module: named
# here only in words, as in `damage_kinds`.
DamageConfig = Any

__all__ = ["TONES", "age"]

TONES = ("grey", "sepia", "colour")
_LIGHT_GREY = ((0.65, 0.65, 0.65), (0.82, 0.82, 0.82))  # a backdrop's, lighter than a tear's


def _tone(image, rng, cfg: DamageConfig):
    tone = pick(rng, cfg.tones)
    luma = ops.luma(image)[..., None]
    if TONES[tone] == "grey":  # a faint cool or warm cast: no print is neutral grey
        tint = 1.0 + rng.uniform(-0.03, 0.03, 3)
        return luma * tint, {"tone": "grey"}
    if TONES[tone] == "sepia":
        tint = np.array([1.0, uniform(rng, (0.82, 0.92)), uniform(rng, (0.6, 0.75))])
        return luma * tint, {"tone": "sepia", "tint": tuple(tint)}
    keep, cast = uniform(rng, cfg.saturation), uniform(rng, cfg.cast)
    gains = 1.0 + cast * rng.uniform(-1.0, 1.0, 3)  # dyes fade unevenly: a colour cast
    return (luma + keep * (image - luma)) * gains, {"tone": "colour", "keep": keep}


def _levels(image, rng, cfg: DamageConfig):
    contrast, black, white = (uniform(rng, r) for r in (cfg.contrast, cfg.black, cfg.white))
    mean = float(image.mean())
    flat = mean + contrast * (image - mean)
    return black + (white - black) * flat, {"contrast": contrast, "black": black, "white": white}


def _stain(image, rng, cfg: DamageConfig):
    """A soft brownish blotch with a smooth random outline (unlabelled: module doc)."""
    shape = image.shape[:2]
    field = shapes.smooth_field(rng, shape, uniform(rng, (0.3, 0.8)) * min(shape))
    level, opacity = uniform(rng, (0.55, 0.75)), uniform(rng, cfg.stain_opacity)
    alpha = np.clip((field - level) * 8.0, 0.0, 1.0)[..., None] * opacity
    brown = rgb(rng, *_BROWN)
    return image + alpha * (image * brown / brown.max() - image), {"opacity": opacity}


def _mount(image, rng, cfg: DamageConfig):
    """A straight or oval mount or scan border (black, dark or cream), not damage: so that
    the clean edges of a frame (old_photos g and h) are not taken for a torn corner."""
    height, width = image.shape[:2]
    rows, cols = np.indices((height, width), dtype=np.float32)
    margin = uniform(rng, (0.02, 0.08)) * min(height, width)
    oval = bool(rng.random() < 0.4)
    if oval:  # normalised radius of an inscribed ellipse, 1 at its rim
        ry, rx = height / 2 - margin, width / 2 - margin
        outside = np.hypot((rows - height / 2) / ry, (cols - width / 2) / rx) - 1.0
        alpha = np.clip(outside * min(rx, ry) + 0.5, 0.0, 1.0)
    else:
        inset = np.minimum.reduce([rows, cols, height - 1 - rows, width - 1 - cols])
        alpha = np.clip(margin + 0.5 - inset, 0.0, 1.0)
    colour = rgb(rng, *((0.0, 0.0, 0.0), (0.12, 0.11, 0.1)) if rng.random() < 0.7 else _BROWN)
    blended = image + alpha[..., None] * (colour - image)
    return blended, {"margin": margin, "oval": oval}


def _rails(image, rng, cfg: DamageConfig):
    """Fence rails and posts, window bars, frames: a few straight parallel bars and some
    across them, white, cream or black, shaded across their width. Content, not damage
    (unlabelled): a long bright bar is what a white crack looks like to a detector that
    has never seen a fence (McMaster's covered bridge, issue 21)."""
    height, width = image.shape[:2]
    rows, cols = np.indices((height, width), dtype=np.float32)
    bar = log_uniform(rng, cfg.rails_width)
    colour = rgb(rng, *(_WHITE, _PAPER, _DARK)[pick(rng, (0.5, 0.25, 0.25))])
    angle = rng.uniform(-0.35, 0.35) + (np.pi / 2 if rng.random() < 0.5 else 0.0)
    cover = np.zeros((height, width), np.float32)
    for turn, count in ((0.0, int(rng.integers(1, 5))), (np.pi / 2, int(rng.integers(0, 6)))):
        a = angle + turn + rng.uniform(-0.1, 0.1)  # posts need not stand square
        across = rows * np.cos(a) - cols * np.sin(a)  # signed distance across the bars
        along = rows * np.sin(a) + cols * np.cos(a)
        wide = bar * uniform(rng, (0.8, 1.25))
        gap = wide * uniform(rng, (1.5, 5.0))
        first = rng.uniform(across.min(), across.max())
        start = rng.uniform(along.min(), along.max())
        end = start + uniform(rng, (0.4, 1.2)) * max(height, width)
        inside = np.clip(np.minimum(along - start, end - along) + 0.5, 0.0, 1.0)
        for k in range(count):
            d = np.abs(across - (first + k * gap))
            cover = np.maximum(cover, np.clip(wide / 2 - d + 0.5, 0.0, 1.0) * inside)
    light = shapes.smooth_field(rng, (height, width), uniform(rng, (0.2, 0.6)) * min(height, width))
    paint = (colour * (0.75 + 0.25 * light)[..., None]).astype(np.float32)  # uneven light
    return image + cover[..., None] * (paint - image), {"width": bar, "angle": float(angle)}


def _backdrop_region(luma, detail, rng, cfg: DamageConfig):
    """The first of eight seeds (corners and edge midpoints, in random order) whose flood
    fill over the blurred `luma` is light, plain and of a plausible size: (its 0/1 mask,
    its share of the picture), or (None, 0.0)."""
    height, width = luma.shape
    tolerance = uniform(rng, cfg.backdrop_tolerance)
    corners = [(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)]
    middles = [
        (width // 2, 0),
        (width - 1, height // 2),
        (width // 2, height - 1),
        (0, height // 2),
    ]
    seeds = corners + middles
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    for index in rng.permutation(len(seeds)):
        region = np.zeros((height + 2, width + 2), np.uint8)
        cv2.floodFill(luma, region, seeds[index], 0, tolerance, tolerance, flags)  # mask only
        inside = region[1:-1, 1:-1] > 0
        area = float(inside.mean())
        if not cfg.backdrop_area[0] <= area <= cfg.backdrop_area[1]:
            continue
        # Only ground that is light and plain already (a sky, a wall, a backdrop): whitening a
        # dark coat or textured sand makes a paper-like patch with an arbitrary, blotchy
        # outline, i.e. a tear labelled "not damage".
        if detail[inside].mean() <= cfg.backdrop_max_detail and (
            luma[inside].mean() >= cfg.backdrop_min_luma
        ):
            return inside.astype(np.float32), area
    return None, 0.0


def _backdrop(image, rng, cfg: DamageConfig):
    """A plain light studio backdrop or sky behind the subject: the photo's own background
    region reached from a corner or an edge (a flood fill over its blurred brightness, so
    the boundary is a real object's outline), made flat, light ground — as a torn-off
    corner shows, but bounded by the subject's contour instead of a jagged tear — lit
    unevenly and keeping a trace of its own shading. Content, not damage (unlabelled): the
    plain cream backdrop of a studio portrait is what the detectors after stage 12 took for
    a torn corner as they learnt tears again. Returns the image unchanged (params
    ``{"area": 0}``) when no seed reaches a region of a plausible size."""
    sharp = np.ascontiguousarray(ops.luma(image), np.float32)
    luma = cv2.GaussianBlur(sharp, (0, 0), 2.0)
    region, area = _backdrop_region(luma, np.abs(sharp - luma), rng, cfg)
    if region is None:
        return image, {"area": 0.0}
    alpha = shapes.soften(region, uniform(rng, (0.5, 1.5)))
    colour = rgb(rng, *(_WHITE, _PAPER, _LIGHT_GREY)[pick(rng, (0.35, 0.45, 0.2))])
    light = shapes.smooth_field(rng, luma.shape, uniform(rng, (0.3, 1.0)) * min(luma.shape))
    trace = uniform(rng, (0.1, 0.5))  # the backdrop's own shading and texture, faintly
    shading = image - float(luma[alpha > 0.5].mean())
    ground = colour * (0.85 + 0.15 * light)[..., None] + trace * shading
    blended = image + alpha[..., None] * (ground.astype(np.float32) - image)
    return blended, {"area": area, "trace": trace}


def _strokes(image, rng, cfg: DamageConfig):
    """Thin saturated-colour lines: flower stems, paint drips and splatter, coloured wires
    and threads. Content, not damage (unlabelled): a thin line is what a scratch or a
    hair looks like, but no damage is green, red or violet — McMaster's flower stems and
    splattered shirt were its commonest false alarms after the fence. Drawn on photos that
    keep their colour only, since ageing to grey or sepia would leave an achromatic line
    the same as a labelled scratch."""
    shape = image.shape[:2]
    diagonal = float(np.hypot(*shape))
    count = draw_count(rng, cfg.strokes_count)
    for _ in range(count):
        length = uniform(rng, (0.1, 0.8)) * diagonal
        points, _ = shapes.arc(rng, shape, length, uniform(rng, (-0.1, 0.1)))
        alpha = shapes.stroke_alpha(shapes.draw_paths(shape, [points]), uniform(rng, (0.5, 2.5)))
        hue, sat, val = rng.random(), uniform(rng, (0.6, 1.0)), uniform(rng, (0.3, 0.95))
        colour = np.array(colorsys.hsv_to_rgb(hue, sat, val), np.float32)
        image = image + alpha[..., None] * (colour - image)
    return image, {"count": count}


def _grain(image, rng, cfg: DamageConfig):
    """Film grain shared by the channels: per-channel (chroma) grain costs three more FFT
    fields (≈10 ms at 256²) and the scan noise adds channel noise anyway."""
    scaling = rng.uniform(0.4, 1.0, 4)
    params = {
        "sigma": uniform(rng, cfg.age_grain),
        "size": uniform(rng, (0.5, 1.0)),
        "strength": uniform(rng, (0.5, 0.9)),
        "chroma": 0.0,
        "scaling": tuple(float(s) for s in scaling / scaling.max()),
    }
    return ops.film_grain(image, rng, **params), params


def age(clean: np.ndarray, rng: np.random.Generator, cfg: DamageConfig):
    """The undamaged old-looking photo and its steps: rails and backdrops (content, so fresh
    photos get them too), then tone, levels, stain, blur, grain (or the photo as it is, with
    probability ``fresh_prob``: then only the rails, backdrop and coloured strokes, if any,
    are listed)."""
    steps = []
    if cfg.rails_prob and rng.random() < cfg.rails_prob:  # no draw at 0: seeds keep their photos
        clean, params = _rails(np.asarray(clean, np.float32), rng, cfg)
        steps.append(("rails", params))
    if cfg.backdrop_prob and rng.random() < cfg.backdrop_prob:  # likewise
        clean, params = _backdrop(np.asarray(clean, np.float32), rng, cfg)
        steps.append(("backdrop", params))
    if rng.random() < cfg.fresh_prob:
        if cfg.strokes_prob and rng.random() < cfg.strokes_prob:  # colour photos only
            clean, params = _strokes(np.asarray(clean, np.float32), rng, cfg)
            steps.append(("strokes", params))
        return np.clip(clean, 0.0, 1.0).astype(np.float32), tuple(steps)
    image, params = _tone(clean, rng, cfg)
    steps.append(("tone", params))
    image, params = _levels(image, rng, cfg)
    steps.append(("levels", params))
    for name, step in (("stain", _stain), ("mount", _mount)):
        if rng.random() < cfg.probability(name):
            image, params = step(image, rng, cfg)
            steps.append((name, params))
    if rng.random() < cfg.age_blur_prob:
        sigma = uniform(rng, cfg.age_blur)
        image = ops.gaussian_blur(image.astype(np.float32), sigma)
        steps.append(("blur", {"sigma": sigma}))
    if rng.random() < cfg.age_grain_prob:
        image, params = _grain(image.astype(np.float32), rng, cfg)
        steps.append(("grain", params))
    return np.clip(image, 0.0, 1.0).astype(np.float32), tuple(steps)
