"""Free-form hole masks for the inpainting task (1 = hole, 0 = known pixel).

Masks look like DeepFill v2's: brush strokes (polylines with a random width) plus, sometimes,
a rectangle. Each mask first draws a target hole ratio uniformly from the configured range
and adds shapes segment by segment until it is reached, so hole ratios are spread about
uniformly over the range instead of piling up where random strokes happen to land.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from training.data.folders import TrainingDataError


def _pair(value: Sequence[float], name: str, low: float, high: float) -> tuple[float, float]:
    """Validate a ``(low, high)`` range (TOML gives lists) inside [low, high]."""
    if len(value) != 2 or not low <= float(value[0]) <= float(value[1]) <= high:
        raise TrainingDataError(
            f"{name} must be a pair with {low} <= first <= second <= {high}, got {value!r}"
        )
    return float(value[0]), float(value[1])


@dataclass
class MaskConfig:
    """How inpainting holes are drawn. Sizes are fractions of the mask's short side, so one
    config suits any crop size.

    Attributes:
        hole_ratio: range of the share of pixels that are holes; each mask draws its target
            uniformly from it and stops once reached (overshoot is at most one stroke segment).
        stroke_vertices: range of the number of segments in one brush stroke.
        stroke_width: range of a stroke's brush width (one width per stroke), as a fraction
            of the short side.
        stroke_length: range of one segment's length, as a fraction of the short side.
        max_strokes: safety cap on strokes per mask; only reached with extreme settings.
        rect_probability: chance that a mask also holds one rectangle (like a torn corner
            or a removed object's box); strokes then fill the rest of the target.
        rect_share: range of the share of the target hole area the rectangle covers.
    """

    hole_ratio: tuple[float, float] = (0.05, 0.60)
    stroke_vertices: tuple[int, int] = (4, 12)
    stroke_width: tuple[float, float] = (0.03, 0.10)
    stroke_length: tuple[float, float] = (0.05, 0.20)
    max_strokes: int = 200
    rect_probability: float = 0.5
    rect_share: tuple[float, float] = (0.2, 0.7)

    def __post_init__(self) -> None:
        self.hole_ratio = _pair(self.hole_ratio, "masks.hole_ratio", 0.0, 1.0)
        vertices = _pair(self.stroke_vertices, "masks.stroke_vertices", 1, 1000)
        self.stroke_vertices = (round(vertices[0]), round(vertices[1]))  # TOML may give floats
        self.stroke_width = _pair(self.stroke_width, "masks.stroke_width", 1e-6, 1.0)
        self.stroke_length = _pair(self.stroke_length, "masks.stroke_length", 1e-6, 2.0)
        self.rect_share = _pair(self.rect_share, "masks.rect_share", 0.0, 1.0)
        if int(self.max_strokes) < 1:
            raise TrainingDataError(f"masks.max_strokes must be at least 1, got {self.max_strokes}")
        self.max_strokes = int(self.max_strokes)
        if not 0.0 <= float(self.rect_probability) <= 1.0:
            raise TrainingDataError(
                f"masks.rect_probability must be in [0, 1], got {self.rect_probability}"
            )
        self.rect_probability = float(self.rect_probability)


def _draw_rectangle(canvas: np.ndarray, rng: np.random.Generator, area: float) -> None:
    """A rectangle of about `area` pixels, aspect ratio between 1:2 and 2:1, anywhere."""
    height, width = canvas.shape
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))  # width / height
    rect_h = int(min(height, max(1, round(math.sqrt(area / aspect)))))
    rect_w = int(min(width, max(1, round(area / rect_h))))
    top = int(rng.integers(0, height - rect_h + 1))
    left = int(rng.integers(0, width - rect_w + 1))
    canvas[top : top + rect_h, left : left + rect_w] = 1


def _draw_strokes(
    canvas: np.ndarray, rng: np.random.Generator, cfg: MaskConfig, target: int
) -> None:
    """Add brush strokes to `canvas` (uint8, 1 = hole) until `target` pixels are holes."""
    height, width = canvas.shape
    side = min(height, width)
    holes = int(np.count_nonzero(canvas))
    for _ in range(cfg.max_strokes):
        if holes >= target:
            return
        brush = max(1, round(rng.uniform(*cfg.stroke_width) * side))
        segments = int(rng.integers(cfg.stroke_vertices[0], cfg.stroke_vertices[1] + 1))
        x, y = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        angle = float(rng.uniform(0.0, 2.0 * math.pi))
        for _ in range(segments):
            # Turns of up to ±120° make the wiggly scribbles of DeepFill v2 without knots.
            angle += float(rng.uniform(-2.0 * math.pi / 3.0, 2.0 * math.pi / 3.0))
            length = rng.uniform(*cfg.stroke_length) * side
            nx = float(np.clip(x + length * math.cos(angle), 0, width - 1))
            ny = float(np.clip(y + length * math.sin(angle), 0, height - 1))
            # cv2 draws thick lines with round caps, so joints between segments stay closed.
            cv2.line(canvas, (round(x), round(y)), (round(nx), round(ny)), 1, brush)
            x, y = nx, ny
            # Stop mid-stroke: keeps the overshoot below one segment's area.
            holes = int(np.count_nonzero(canvas))
            if holes >= target:
                return


def random_mask(
    height: int, width: int, rng: np.random.Generator, cfg: MaskConfig | None = None
) -> np.ndarray:
    """A float32 H×W mask with values in {0, 1}, **1 = hole**.

    A target hole ratio is drawn uniformly from ``cfg.hole_ratio``; with probability
    ``cfg.rect_probability`` a rectangle covers part of it, then brush strokes are added until
    the target is reached.
    """
    cfg = cfg or MaskConfig()
    if height < 1 or width < 1:
        raise ValueError(f"mask size must be positive, got {height}x{width}")
    canvas = np.zeros((height, width), np.uint8)
    target = round(rng.uniform(*cfg.hole_ratio) * height * width)
    if target > 0 and rng.random() < cfg.rect_probability:
        _draw_rectangle(canvas, rng, rng.uniform(*cfg.rect_share) * target)
    _draw_strokes(canvas, rng, cfg, target)
    return canvas.astype(np.float32)
