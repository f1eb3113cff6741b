"""The damage kinds of `training.data.damage`: each draws its parameters from the config
and returns its layers ``(coverage, colour, opacity)``; see `damage`'s module doc for the
kinds, their ranges and the label rule, and `damage_shapes` for the geometry."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from training.data import damage_shapes as shapes
from training.data.folders import TrainingDataError

# The kinds read a `training.data.damage.DamageConfig`, which imports this module: named
# here only in words, so the two modules do not import each other.
DamageConfig = Any

Range = tuple[float, float]
Layer = tuple[np.ndarray, np.ndarray, float]  # coverage H×W, colour (3,) or H×W×3, opacity


def uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def log_uniform(rng: np.random.Generator, bounds: Range) -> float:
    return math.exp(uniform(rng, (math.log(bounds[0]), math.log(bounds[1]))))


def draw_count(rng: np.random.Generator, bounds: Range, scale: float = 1.0) -> int:
    return max(1, round(int(rng.integers(bounds[0], bounds[1] + 1)) * scale))


def checked_tuple(name: str, value: Any, default: tuple) -> tuple:
    """`value` as shares (``tones``, ``*_colours``: as many as `default`, summing to 1) or as
    a `Range` (``(low, high)`` with 0 <= low <= high, whole numbers where `default`'s are)."""
    shares = name == "tones" or name.endswith("_colours")
    numbers = isinstance(value, tuple | list) and len(value) == len(default)
    if not numbers or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
    ):
        what = f"{len(default)} shares" if shares else "a (low, high) pair"
        raise TrainingDataError(f"damage.{name} must be {what} of finite numbers, got {value!r}")
    if shares:
        if min(value) < 0 or not math.isclose(sum(value), 1.0, abs_tol=1e-6):
            raise TrainingDataError(f"damage.{name} must be shares summing to 1, got {value!r}")
        return tuple(float(v) for v in value)
    if not 0.0 <= value[0] <= value[1]:
        raise TrainingDataError(
            f"damage.{name} must be (low, high) with 0 <= low <= high, got {tuple(value)!r}"
        )
    if all(isinstance(v, int) for v in default):
        if any(v != int(v) for v in value):
            raise TrainingDataError(f"damage.{name} must be whole numbers, got {tuple(value)!r}")
        return tuple(int(v) for v in value)
    return tuple(float(v) for v in value)


def rgb(rng: np.random.Generator, low, high) -> np.ndarray:
    """A colour in the box [low, high]: one shared position plus a small per-channel
    jitter, so a dark box gives near-neutral darks rather than saturated blues and greens."""
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    share = np.clip(rng.uniform() + rng.uniform(-0.15, 0.15, 3), 0.0, 1.0)
    return (low + (high - low) * share).astype(np.float32)


def pick(rng: np.random.Generator, shares) -> int:
    return int(rng.choice(len(shares), p=np.asarray(shares) / np.sum(shares)))


# Colours, as (low, high) RGB boxes: paper white/cream, yellowed gelatine, dark, brown foxing.
_WHITE = ((0.9, 0.88, 0.8), (1.0, 1.0, 0.97))
_YELLOW = ((0.82, 0.72, 0.42), (0.95, 0.85, 0.6))
_DARK = ((0.02, 0.02, 0.02), (0.22, 0.2, 0.18))
_BROWN = ((0.38, 0.22, 0.08), (0.58, 0.38, 0.2))
_PAPER = ((0.85, 0.8, 0.65), (0.95, 0.9, 0.8))
_GREY = ((0.4, 0.4, 0.4), (0.6, 0.6, 0.6))


def _branch_sites(main: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Indices of the main crack's points inside the picture (where a branch can be seen)."""
    inside = (main >= 0).all(axis=1) & (main[:, 0] < shape[1]) & (main[:, 1] < shape[0])
    return np.flatnonzero(inside[:-1])


def _crack_paths(rng, shape, count: int, branches: Range) -> list[np.ndarray]:
    """Branching random walks: each main crack runs both ways from a point of the picture
    (so it crosses it rather than leaving at once); branches leave it at 0.4-1.2 rad."""
    height, width = shape
    diagonal = math.hypot(height, width)
    paths = []
    for _ in range(count):
        start = (rng.uniform(0, width - 1), rng.uniform(0, height - 1))
        length, step = uniform(rng, (0.3, 1.0)) * diagonal, uniform(rng, (2.0, 4.0))
        angle, wander = uniform(rng, (0, 2 * math.pi)), uniform(rng, (0.2, 0.6))
        ahead = shapes.walk(rng, start, angle, length / 2, step, wander, 0.35)
        behind = shapes.walk(rng, start, angle + math.pi, length / 2, step, wander, 0.35)
        main = np.vstack([behind[::-1], ahead[1:]])
        paths.append(main)
        sites = _branch_sites(main, shape)
        for _ in range(int(rng.integers(branches[0], branches[1] + 1))):
            i = int(sites[rng.integers(len(sites))])
            dx, dy = main[i + 1] - main[i]
            turn = uniform(rng, (0.4, 1.2)) * rng.choice((-1, 1))
            branch = length * uniform(rng, (0.1, 0.4))
            paths.append(
                shapes.walk(rng, main[i], math.atan2(dy, dx) + turn, branch, step, 0.4, 0.35)
            )
    return paths


def _crack(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    widest = log_uniform(rng, cfg.crack_width)
    params: dict[str, Any] = {"widest": widest}
    if rng.random() < cfg.crack_network_prob:
        cell = uniform(rng, cfg.crack_cell)
        widest = params["widest"] = min(widest, cell / 4)  # walls, not blobs
        skeleton = shapes.voronoi_edges(rng, shape, cell, cell / 4)
        keep = uniform(rng, cfg.crack_keep)
        # Keep the walls where a smooth field is lowest: a patch of `keep` of the network.
        field = shapes.smooth_field(rng, shape, cell * 2)
        if skeleton.any():
            skeleton &= (field <= np.quantile(field[skeleton > 0], keep)).astype(np.uint8)
        params.update(style="network", cell=cell, keep=keep)
    else:
        count = draw_count(rng, cfg.crack_count)
        skeleton = shapes.draw_paths(shape, _crack_paths(rng, shape, count, cfg.crack_branches))
        params.update(style="walk", count=count)
    thinnest = max(1.0, widest * uniform(rng, (0.25, 0.7)))
    half = shapes.width_field(rng, shape, widest, thinnest, min(1.0, widest / 6))
    colour_kind = pick(rng, cfg.crack_colours)
    colour = rgb(rng, *(_WHITE, _YELLOW, _DARK)[colour_kind])
    mottle = 0.9 + 0.1 * shapes.smooth_field(rng, shape, 6.0)[..., None]
    params["colour"] = ("white", "yellowed", "dark")[colour_kind]
    return [(shapes.stroke_alpha(skeleton, half), colour * mottle, 1.0)], params


def _scratch(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    diagonal = math.hypot(*shape)
    layers, bright = [], []
    for _ in range(draw_count(rng, cfg.scratch_count)):
        length, sag = uniform(rng, cfg.scratch_length) * diagonal, uniform(rng, cfg.scratch_sag)
        points, _ = shapes.arc(rng, shape, length, sag * rng.choice((-1, 1)))
        skeleton = shapes.draw_paths(shape, [points])
        half = uniform(rng, cfg.scratch_width) / 2
        bright.append(bool(rng.random() < cfg.scratch_bright_prob))
        colour = rgb(rng, *(_WHITE if bright[-1] else _DARK))
        layers.append((shapes.stroke_alpha(skeleton, half), colour, uniform(rng, (0.6, 1.0))))
    return layers, {"count": len(layers), "bright": tuple(bright)}


def _crease(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    diagonal = math.hypot(*shape)
    layers = []
    for _ in range(draw_count(rng, cfg.crease_count)):
        points, normal = shapes.arc(
            rng, shape, uniform(rng, (0.5, 1.2)) * diagonal, uniform(rng, (-0.03, 0.03))
        )
        opacity = uniform(rng, cfg.crease_opacity)
        widths = (uniform(rng, cfg.crease_width), uniform(rng, cfg.crease_width))
        skeleton = shapes.draw_paths(shape, [points])
        bright, dark = shapes.sided_strokes(skeleton, normal * rng.choice((-1, 1)), *widths)
        layers.append((bright, rgb(rng, *_WHITE), opacity))
        layers.append((dark, rgb(rng, *_DARK), opacity))
    return layers, {"count": len(layers) // 2}


def _specks(shape, rng, count: int, radius: Range, aspect: Range) -> np.ndarray:
    height, width = shape
    centres = rng.uniform((0, 0), (width - 1, height - 1), (count, 2))
    radii = np.exp(rng.uniform(math.log(radius[0]), math.log(radius[1]), count))
    aspects, angles = rng.uniform(*aspect, count), rng.uniform(0, 180, count)
    return shapes.ellipses(shape, centres, radii, aspects, angles)


def _dust(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    count = draw_count(rng, cfg.dust_count, shape[0] * shape[1] / 65536)
    dark = int(rng.binomial(count, cfg.dust_dark_prob))
    layers = []
    for number, box in ((dark, _DARK), (count - dark, _WHITE)):
        if number:
            alpha = _specks(shape, rng, number, cfg.dust_radius, (1.0, 2.2))
            layers.append((alpha, rgb(rng, *box), uniform(rng, (0.7, 1.0))))
    return layers, {"count": count, "dark": dark}


def _hair(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    height, width = shape
    count = draw_count(rng, cfg.hair_count)
    layers = []
    for _ in range(count):
        start = (rng.uniform(0, width - 1), rng.uniform(0, height - 1))
        path = shapes.curl(rng, start, uniform(rng, cfg.hair_length), uniform(rng, cfg.hair_curl))
        half = 0.5 if rng.random() < 0.7 else 0.8  # 1 px, or 1 px with a soft 0.3 fringe
        box = _DARK if rng.random() < cfg.hair_dark_prob else _WHITE
        alpha = shapes.stroke_alpha(shapes.draw_paths(shape, [path]), half)
        layers.append((alpha, rgb(rng, *box), uniform(rng, (0.6, 1.0))))
    return layers, {"count": count}


def _spot(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    height, width = shape
    count, spread = draw_count(rng, cfg.spot_count), uniform(rng, (10.0, 60.0))
    centres = rng.uniform((0, 0), (width - 1, height - 1)) + rng.normal(0, spread, (count, 2))
    centres = np.clip(centres, 0, (width - 1, height - 1))  # a sample with spots shows them
    radii = np.exp(rng.uniform(*np.log(cfg.spot_radius), count))
    core = shapes.ellipses(
        shape, centres, radii, rng.uniform(1.0, 1.6, count), rng.uniform(0, 180, count)
    )
    colour_kind = pick(rng, cfg.spot_colours)
    if colour_kind == 0:  # foxing: rust fading outwards, the halo below the label's 0.5
        blurred = shapes.soften(core, float(np.mean(radii)))
        core = np.maximum(core, 0.45 * blurred / max(float(blurred.max()), 1e-6))
    colour = rgb(rng, *(_BROWN, _WHITE, _DARK)[colour_kind])
    opacity = uniform(rng, (0.55, 0.9) if colour_kind == 0 else (0.7, 1.0))
    return [(core, colour, opacity)], {"count": count, "colour": colour_kind}


def _torn(shape, rng, cfg: DamageConfig) -> tuple[list[Layer], dict]:
    depth = uniform(rng, cfg.torn_depth) * min(shape)
    corner = int(rng.integers(4)) if rng.random() < cfg.torn_corner_prob else None
    side = int(rng.integers(4))
    alpha = shapes.torn_region(rng, shape, corner, side, depth, depth * uniform(rng, (0.1, 0.3)))
    colour_kind = pick(rng, cfg.torn_colours)
    colour = rgb(rng, *(_WHITE, _PAPER, ((0, 0, 0), (0.08, 0.08, 0.08)), _GREY)[colour_kind])
    return [(alpha, colour, 1.0)], {"corner": corner, "side": side, "depth": depth}


DRAW = {
    "crack": _crack,
    "crease": _crease,
    "scratch": _scratch,
    "spot": _spot,
    "dust": _dust,
    "hair": _hair,
    "torn": _torn,
}
