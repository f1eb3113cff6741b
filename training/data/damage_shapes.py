"""Geometry behind `training.data.damage`: random fields, paths and soft alpha maps.

Nothing here reads a config: `damage` draws the parameters and passes them explicitly, as
`real_degrade` does with `real_noise`. Every alpha map is float32 H×W in [0, 1] and follows
one rule, so the label is the same everywhere: a stroke of half-width ``h`` around a path has
alpha ``clip(h + 0.5 − d, 0, 1)`` at distance ``d`` from the path, i.e. a one-pixel
anti-aliased edge whose alpha crosses 0.5 exactly at ``d = h``; filled shapes are drawn
anti-aliased by OpenCV. `damage` labels ``alpha > 0.5``. Paths are drawn as 8-connected
one-pixel skeletons and widened with a distance transform, which lets the width vary along
the path (a per-pixel half-width field) at the cost of one `cv2.distanceTransform`, with no
per-pixel Python. Points are (x, y) in pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel bits for OpenCV's anti-aliased shapes
_SCALE = 1 << _SHIFT


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """A float32 H×W random field in about [0, 1] with features about `cell` pixels across:
    uniform noise on a coarse grid, cubic-upsampled (cheap value noise)."""
    height, width = shape
    rows = max(2, math.ceil(height / cell) + 1)
    cols = max(2, math.ceil(width / cell) + 1)
    grid = rng.random((rows, cols), dtype=np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def smooth_1d(rng: np.random.Generator, count: int, knots: int) -> np.ndarray:
    """`count` samples of a piecewise-linear random curve through `knots` N(0, 1) values."""
    values = rng.standard_normal(max(2, int(knots)))
    return np.interp(np.linspace(0, 1, count), np.linspace(0, 1, values.size), values)


def walk(
    rng: np.random.Generator,
    start: tuple[float, float],
    angle: float,
    length: float,
    step: float,
    wander: float,
    jitter: float,
) -> np.ndarray:
    """Points of a meandering path: heading `angle` plus a smooth deviation of standard
    deviation `wander` (rad; the path bends on a scale of ~40 px) plus per-step `jitter`
    (rad; the small zig-zags that make cracks look torn rather than drawn)."""
    count = max(2, int(length / step))
    heading = angle + wander * smooth_1d(rng, count, count * step / 40 + 2)
    heading = heading + jitter * rng.standard_normal(count)
    steps = step * np.stack([np.cos(heading), np.sin(heading)], axis=1)
    return np.vstack([start, start + np.cumsum(steps, axis=0)])


def curl(
    rng: np.random.Generator, start: tuple[float, float], length: float, curvature: float
) -> np.ndarray:
    """A hair or fibre: the heading turns at a rate that itself wanders (rad per pixel of
    standard deviation `curvature`), so the curve bends both ways and sometimes loops."""
    count = max(2, int(length))
    turn = curvature * smooth_1d(rng, count, 4)
    heading = float(rng.uniform(0, 2 * math.pi)) + np.cumsum(turn)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=1)
    return np.vstack([start, start + np.cumsum(steps, axis=0)])


def bezier(p0, p1, p2, count: int = 64) -> np.ndarray:
    """Points of the quadratic Bézier curve p0 → p2 pulled towards p1."""
    t = np.linspace(0.0, 1.0, count)[:, None]
    p0, p1, p2 = (np.asarray(p, np.float64) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t * t * p2


def arc(rng: np.random.Generator, shape: tuple[int, int], length: float, sag: float):
    """A gently curved line of about `length` px through a random point of the image, bowed
    sideways by `sag` × length at its middle (a scratch or a crease). Returns the points
    and the unit normal of the chord, towards which it bows."""
    height, width = shape
    centre = np.array([rng.uniform(0, width - 1), rng.uniform(0, height - 1)])
    angle = float(rng.uniform(0, math.pi))
    direction = np.array([math.cos(angle), math.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    half = direction * length / 2
    points = bezier(centre - half, centre + normal * 2 * sag * length, centre + half)
    return points, normal


def draw_paths(shape: tuple[int, int], paths: list[np.ndarray]) -> np.ndarray:
    """A uint8 H×W skeleton (1 on the paths): 8-connected one-pixel polylines."""
    canvas = np.zeros(shape, np.uint8)
    polys = [np.round(p).astype(np.int32).reshape(-1, 1, 2) for p in paths if len(p) > 1]
    cv2.polylines(canvas, polys, False, 1, 1, cv2.LINE_8)
    return canvas


def stroke_alpha(skeleton: np.ndarray, half_width) -> np.ndarray:
    """Alpha of the skeleton widened to `half_width` (a number or an H×W field): the stroke
    covers ``d < half_width`` (a width of ``2·half_width`` px) with a one-pixel soft edge."""
    if not skeleton.any():
        return np.zeros(skeleton.shape, np.float32)
    distance = cv2.distanceTransform((skeleton == 0).astype(np.uint8), cv2.DIST_L2, 5)
    return np.clip(half_width + 0.5 - distance, 0.0, 1.0).astype(np.float32)


def sided_strokes(
    skeleton: np.ndarray, normal: np.ndarray, positive: float, negative: float
) -> tuple[np.ndarray, np.ndarray]:
    """Alphas of two strokes that share the skeleton as their boundary: `positive` px wide
    on the side `normal` points to, `negative` px on the other (the skeleton itself goes to
    the positive side). Drawing two offset lines instead leaves a seam of half-covered
    pixels between them. Each pixel's side is that of the offset from its nearest skeleton
    pixel (labels of a distance transform, numbered in raster order) along `normal`."""
    if not skeleton.any():
        empty = np.zeros(skeleton.shape, np.float32)
        return empty, empty
    distance, nearest = cv2.distanceTransformWithLabels(
        (skeleton == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    sites = np.argwhere(skeleton)[nearest - 1]  # (row, col) of each pixel's nearest site
    rows, cols = np.indices(skeleton.shape)
    side = (cols - sites[..., 1]) * normal[0] + (rows - sites[..., 0]) * normal[1] >= 0
    # The skeleton (d = 0) counts on the positive side, so that side's w px reach d < w − ½
    # and the other side's d < w + ½: each crosses alpha ½ there.
    pos = np.where(side, np.clip(positive - distance, 0.0, 1.0), 0.0)
    neg = np.where(side, 0.0, np.clip(negative + 1.0 - distance, 0.0, 1.0))
    return pos.astype(np.float32), neg.astype(np.float32)


def width_field(
    rng: np.random.Generator, shape: tuple[int, int], widest: float, thinnest: float, jag: float
) -> np.ndarray:
    """Half-width field for a crack: wanders smoothly between `thinnest` and `widest` (full
    widths in px) along ~30 px, jumps to `widest` at sparse chips ~6 px across (where
    more emulsion flaked off: real cracks are notched, not worm-like), plus a ±`jag` px
    fine field that frays its edges."""
    smooth = np.clip(smooth_field(rng, shape, 30.0), 0.0, 1.0)
    chips = np.clip((smooth_field(rng, shape, 6.0) - 0.7) * 4.0, 0.0, 1.0)
    fine = smooth_field(rng, shape, 3.0) - 0.5
    width = thinnest + (widest - thinnest) * np.maximum(smooth, chips) + 2 * jag * fine
    return np.maximum(width, 1.0) / 2


def voronoi_edges(
    rng: np.random.Generator, shape: tuple[int, int], cell: float, warp: float
) -> np.ndarray:
    """uint8 skeleton of the boundaries of random cells `cell` px across (craquelure): a
    Voronoi diagram from a distance transform with labels, its coordinates displaced by a
    smooth field of ±`warp` px so the cell walls wander like real cracks instead of
    running straight."""
    height, width = shape
    seeds = np.ones(shape, np.uint8)
    count = max(2, int(height * width / (cell * cell)))
    seeds[rng.integers(0, height, count), rng.integers(0, width, count)] = 0
    _, labels = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, cv2.DIST_LABEL_PIXEL)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    shift_x = warp * 2 * (smooth_field(rng, shape, cell / 1.5) - 0.5)
    shift_y = warp * 2 * (smooth_field(rng, shape, cell / 1.5) - 0.5)
    labels = cv2.remap(
        labels.astype(np.float32),
        grid_x + shift_x,
        grid_y + shift_y,
        cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_REFLECT,
    )
    edges = np.zeros(shape, np.uint8)
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    return edges


def ellipses(
    shape: tuple[int, int],
    centres: np.ndarray,
    radii: np.ndarray,
    aspects: np.ndarray,
    angles: np.ndarray,
) -> np.ndarray:
    """Alpha of filled anti-aliased ellipses (radius = semi-major axis in px, aspect ≥ 1 its
    ratio to the minor axis, angle in degrees)."""
    canvas = np.zeros(shape, np.uint8)
    for (x, y), r, a, t in zip(centres, radii, aspects, angles, strict=True):  # one per shape
        axes = (round(r * _SCALE), max(round(0.7 * _SCALE), round(r / a * _SCALE)))
        centre = (round(x * _SCALE), round(y * _SCALE))
        cv2.ellipse(canvas, centre, axes, float(t), 0, 360, 255, -1, cv2.LINE_AA, _SHIFT)
    return canvas.astype(np.float32) / np.float32(255.0)


def torn_region(
    rng: np.random.Generator,
    shape: tuple[int, int],
    corner: int | None,
    side: int,
    depth: float,
    rough: float,
) -> np.ndarray:
    """Alpha of paper torn off: at `corner` (0-3 clockwise from top-left) a region cut off by
    a jagged line across the corner, else along edge `side` (0 top, 1 right, 2 bottom,
    3 left) a strip with a jagged inner boundary. `depth` px is its mean reach from the
    corner or edge, `rough` px the amplitude of the tear's meander and fibre-scale jitter."""
    height, width = shape
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    if corner is not None:
        flip_x, flip_y = corner in (1, 2), corner in (2, 3)
        x = (width - 1 - grid_x) if flip_x else grid_x
        y = (height - 1 - grid_y) if flip_y else grid_y
        reach, along = (x + y) / math.sqrt(2), (x - y) / math.sqrt(2)
        span = (-height / math.sqrt(2), width / math.sqrt(2))
    else:
        reach = [grid_y, width - 1 - grid_x, height - 1 - grid_y, grid_x][side]
        along = grid_x if side in (0, 2) else grid_y
        span = (0.0, float(width if side in (0, 2) else height))
    samples = 512
    meander = smooth_1d(rng, samples, 6) * rough
    fibres = np.cumsum(rng.standard_normal(samples)) * rough / math.sqrt(samples) * 2
    profile = depth + meander + fibres - fibres.mean()
    limit = np.interp(along, np.linspace(*span, samples), profile).astype(np.float32)
    return np.clip(limit + 0.5 - reach, 0.0, 1.0)


def soften(alpha: np.ndarray, sigma: float) -> np.ndarray:
    """`alpha` blurred by a Gaussian of `sigma` px (halos, soft stain edges)."""
    return cv2.GaussianBlur(alpha, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
