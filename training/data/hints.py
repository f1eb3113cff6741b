"""Colour hints drawn from the truth, as Zhang et al. 2017 train their user-guided colorizer.

Per sample (every draw from the sample's own generator, so a resumed run sees the same):

* **how many**: a geometric count, P(n) = p (1 - p)^n with p = 1/8 as in the paper (its
  training code reveals another point while ``rand() < 1 - 1/8``): 1 sample in 8 has no
  hint at all and trains the automatic case, the mean is 7; capped at 20 points, the most
  the paper evaluates (the cap takes the ~6 % tail, which lands on 20);
* **where**: uniformly over the crop, except a share (1/4) drawn with probability
  proportional to the truth's chroma |ab|: users pin colour on coloured things (skin, a
  garment, the sky), not on grey walls, and those are where an automatic guess is most
  wrong. A crop with no chroma falls back to uniform. (The paper's code draws positions
  from a centred Gaussian or uniformly; chroma is our saliency proxy.)
* **what**: the truth's mean ab over a P×P patch centred on the point, P odd in 1-9
  (the paper draws P in 1-9 too), written over that same patch with the mask at 1 there
  (`engine.hints.place_hints`, which the engine uses for a user's pins, at 3×3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.hints import MAX_PATCH, patch_mean_ab, place_hints

__all__ = ["HintConfig", "Hints", "draw_count", "draw_hints", "hint_maps"]


@dataclass(frozen=True)
class HintConfig:
    """How hints are drawn (defaults: Zhang 2017's, see the module doc).

    Args:
        stop_prob: p of the geometric count; P(no hint) = p, mean (1 - p) / p.
        max_points: the count's cap.
        salient_share: the share of points placed by chroma instead of uniformly.
        patch_sides: the odd patch sides P, drawn uniformly.
    """

    stop_prob: float = 1.0 / 8.0
    max_points: int = 20
    salient_share: float = 0.25
    patch_sides: tuple[int, ...] = (1, 3, 5, 7, 9)

    def __post_init__(self) -> None:
        if not 0.0 < self.stop_prob <= 1.0:
            raise ValueError(f"stop_prob must be in (0, 1], got {self.stop_prob}")
        if self.max_points < 0 or not 0.0 <= self.salient_share <= 1.0:
            raise ValueError("max_points must be >= 0 and salient_share in [0, 1]")
        if not self.patch_sides or any(
            p < 1 or p % 2 == 0 or p > MAX_PATCH for p in self.patch_sides
        ):
            raise ValueError(f"patch sides must be odd, 1 to {MAX_PATCH}: {self.patch_sides}")


@dataclass(frozen=True)
class Hints:
    """N hints: ``points`` (N, 2) int (x, y); ``values`` (N, 2) float32 ab in LAB units;
    ``sides`` (N,) int patch sides."""

    points: np.ndarray
    values: np.ndarray
    sides: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


def draw_count(rng: np.random.Generator, config: HintConfig) -> int:
    """The number of hints of one sample: geometric from 0, capped."""
    # numpy's geometric counts trials up to the first success (from 1): minus one is the
    # number of points revealed before stopping.
    return min(int(rng.geometric(config.stop_prob)) - 1, config.max_points)


def _positions(
    ab: np.ndarray, count: int, rng: np.random.Generator, config: HintConfig
) -> np.ndarray:
    """(count, 2) (x, y): uniform, or by chroma for the salient share."""
    height, width = ab.shape[:2]
    flat = rng.integers(0, height * width, size=count)
    salient = rng.random(count) < config.salient_share
    if salient.any():
        chroma = np.hypot(ab[..., 0], ab[..., 1]).ravel().astype(np.float64)
        total = chroma.sum()
        if total > 0.0:  # a grey crop has no salient colour: keep those points uniform
            flat[salient] = rng.choice(chroma.size, size=int(salient.sum()), p=chroma / total)
    return np.stack([flat % width, flat // width], axis=1)


def draw_hints(ab: np.ndarray, rng: np.random.Generator, config: HintConfig) -> Hints:
    """Hints drawn from the truth's ``ab`` (H×W×2, LAB units), see the module doc."""
    count = draw_count(rng, config)
    points = _positions(ab, count, rng, config)
    sides = np.asarray(config.patch_sides)[rng.integers(0, len(config.patch_sides), count)]
    return Hints(points, patch_mean_ab(ab, points, sides.tolist()), sides)


def hint_maps(
    ab: np.ndarray, rng: np.random.Generator, config: HintConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The (H×W×2 hint ab in LAB units, H×W mask) of hints drawn from ``ab``."""
    hints = draw_hints(ab, rng, config)
    return place_hints(ab.shape[:2], hints.points, hints.values, hints.sides.tolist())
