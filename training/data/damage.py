"""Synthetic damage on old-looking photos, for training a damage detector (issue 21).

`damage(clean, rng, config)` turns a clean photo into an old-looking scan with damage on it
and returns the **label**: 1 where damage should be inpainted. Three stages, in this order:

1. **Ageing** (the photo itself, unlabelled; skipped for ``fresh_prob`` = 25 % of the
   samples, which keep the photo's own colour and contrast: modern prints and colour
   scans are brought too, and a detector that only ever saw faded photos marked 2-5 % of
   vivid, undamaged validation photos): a tone — grey (35 %), sepia (30 %) or faded
   colour (35 %: chroma kept ∈ [0.2, 0.8], a per-channel cast of ±[0, 0.2], as the teal
   and magenta autochromes in samples/old_photos); contrast ∈ [0.55, 0.95] about the mean
   and levels (black lifted to [0, 0.15], white dropped to [0.8, 1]); soft brownish
   **stains** (20 %); a straight or oval **mount** border, black or brown, 2-8 % of the
   short side (10 %; unlabelled, so frames like old_photos g and h are not taken for
   tears); blur σ ∈ [0.4, 1.2] px (50 %); luma film grain σ ∈ [2, 10] levels (60 %; via
   `real_noise.film_grain`). Stains are *not* labelled: they are large, soft and
   semi-transparent, the picture shows through, and inpainting would invent content where
   colour correction restores it; a detector that marks them would hand the inpainter
   holes the size of a face. Small dense foxing spots are labelled (``spot`` below).
   Before all of this, and on fresh photos too, with ``rails_prob`` (0 by default and in
   the benchmark's generator; a recipe turns it on): **rails**, content that looks like
   cracks to a detector that never saw it — 1-4 straight parallel bars of width
   log-uniform in [6, 24] px (each ×[0.8, 1.25]: wider than any scratch), spaced 1.5-5
   widths apart, at ±0.35 rad of level or upright, 0.4-1.2 × the long side long, and 0-5
   bars across them (posts), white (50 %), cream (25 %) or black (25 %), lit unevenly
   ([0.75, 1] × the colour).
   Unlabelled: fences, window bars and frames are not damage.
   Likewise ``backdrop_prob`` (0 by default and in the benchmark): a plain light
   **backdrop** or sky behind the subject — the photo's own region reached from a corner
   or edge midpoint by a flood fill over its blurred brightness within ±[0.04, 0.15]
   (`backdrop_tolerance`; the first of the eight seeds, in random order, whose region
   covers [0.04, 0.6] of the picture, `backdrop_area`, and is light and plain already:
   mean brightness ≥ 0.5, `backdrop_min_luma`, and mean detail (|luma − its 2 px blur|)
   ≤ 0.02, `backdrop_max_detail`; else none), edge softened by σ ∈ [0.5, 1.5] px, made
   white (35 %), cream (45 %) or light grey (20 %), lit unevenly ([0.85, 1] × the
   colour) and keeping [0.1, 0.5] of its own shading and texture: a torn corner's flat
   ground bounded by a subject's outline. And ``strokes_prob`` (likewise 0), on fresh
   photos only (ageing to grey or sepia would make them achromatic, like a scratch):
   1-6 thin **coloured strokes** — stems, paint drips, wires — arcs 0.1-0.8 × the
   diagonal long, bowed up to ±10 %, half-width [0.5, 2.5] px, in a random hue at
   saturation [0.6, 1] and value [0.3, 0.95]: no damage is green, red or violet.
2. **Damage** (labelled): with probability ``clean_prob`` = 0.2 none at all (the network
   must learn to say "nothing here"); otherwise each kind independently with its
   ``<kind>_prob``, and if none came up, one kind drawn in proportion to those
   probabilities (so a damaged sample is never empty; `DamageConfig.kind_probability`
   gives the resulting share of samples holding each kind). Drawn in this order, later on
   top: ``crack``, ``crease``, ``scratch``, ``spot``, ``dust``, ``hair``, ``torn``.
3. **Scan** (whole image, after the damage, so damage is no crisper than the photo under
   it): blur σ ∈ [0.3, 0.9] px (70 %), scanner noise σ ∈ [1, 5] levels blurred at
   0.4-0.8 px (50 %), JPEG quality ∈ [50, 95] (50 %), then 8-bit quantisation (always);
   all by `real_noise`'s operators.

Kinds (lengths in pixels of the sample; counts per sample unless said):

- ``crack`` (50 %): emulsion flaked off. Branching random walks (1-4 cracks, each 0.3-1 ×
  the diagonal, running both ways from a point of the picture, with 0-4 branches of
  0.1-0.4 × its length leaving at 0.4-1.2 rad) or, 35 % of the time, a craquelure network
  of warped Voronoi cells 16-64 px across of which a patch holding a [0.3, 1] share of
  the walls is kept (walls at most cell/4 wide). Widest width log-uniform in [1, 15]
  (thin cracks are commoner), wandering along the crack down to 0.25-0.7 × that, notched
  back to the widest at sparse chips, edges frayed by ±1 px. Inside: paper-white or cream
  (70 %), yellowed (20 %) or dark (10 %), mottled by ±5 %.
- ``scratch`` (45 %): 1-5 long thin lines, 0.3-1 × the diagonal, 1-3 px, bowed by up to
  4 % of their length; bright (60 %) or dark, opacity [0.6, 1].
- ``crease`` (15 %): 1-2 long folds (0.5-1.2 × the diagonal, bowed ≤ 3 %): a bright and a
  dark band, 1-3 px each, sharing one edge, opacity [0.35, 0.8] (a fold catches the light
  on one side and shades the other).
- ``dust`` (50 %): 3-40 specks per 256² px, radius log-uniform in [1, 3] px, elongation
  1-2.2; dark (60 %) or bright, opacity [0.7, 1].
- ``hair`` (25 %): 1-4 hairs and fibres, 15-90 px long, 1 px (a third with a soft fringe),
  curling at a
  wandering rate of σ ∈ [0.02, 0.15] rad/px; dark (70 %) or bright.
- ``spot`` (25 %): 1-12 spots clustered within ~10-60 px, radius log-uniform in [1.5, 8]
  px: brown foxing with a soft halo (60 %), white (20 %) or black (20 %).
- ``torn`` (15 %): a corner (60 %) or edge strip torn off, reaching [0.04, 0.25] × the
  short side, along a meandering jagged tear; showing white (35 %), cream paper (35 %),
  black (20 %) or grey (10 %) background.

**Label rule.** Every damage layer has a coverage alpha (see `damage_shapes`: a stroke of
width w covers the pixels within w/2 of its path, with a one-pixel anti-aliased edge) and
an opacity; the image gets ``coverage × opacity`` of the damage colour and the label is
``coverage > 0.5`` **and** a change of more than ``min_change`` = 0.04 (10 levels) in some
channel before the scan step: damage whose colour matches the photo under it (a white
crack over a white sky) changed nothing that could be found or needs filling. So the label
is the visible geometry of the damage: soft fringes (anti-aliased edges, foxing halos, the
scan blur's spread) are not marked and no dilation is applied — a dilated label teaches the
network to thicken everything, which costs precision and false positives on clean edges;
the inpainting step should grow the predicted mask by 1-2 px instead. Opacities stay
≥ 0.35 so that labelled pixels changed clearly.

`DamageConfig.held_out()` is the benchmark's generator (issue 21: "held out from
training"): wider cracks ([2, 20] px, cells 24-96 px, more yellowed and dark), more curved
and wider scratches (bowed 3-8 %, 1-4 px, mostly dark), wider creases (2-4 px), larger
dust ([1.5, 4] px) and spots ([3, 12] px), longer curlier hairs, deeper tears ([0.1, 0.3]),
more sepia, lower contrast and harsher JPEG ([35, 80]). Benchmarks seed it with
``np.random.default_rng([HELD_OUT_SEED, index])``; training must not use that seed.

Cost: ≈14 ms per 256×256 sample on average (default and held-out alike; one thread, measured
while a training run shared the two cores); about half is the ageing's FFT film grain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.data import real_noise as ops
from training.data.damage_ageing import age
from training.data.damage_kinds import DRAW, Range, checked_tuple, pick, uniform
from training.data.folders import TrainingDataError

KINDS = ("crack", "crease", "scratch", "spot", "dust", "hair", "torn")  # drawing order
HELD_OUT_SEED = 21_000_021


@dataclass(frozen=True)
class DamageConfig:
    """Probabilities and ranges of `damage` (see the module doc for what each one means).

    ``*_prob`` are probabilities; `Range` fields are sampled uniformly per sample (``*_count``
    as integers, inclusive; crack width, dust and spot radius log-uniformly); ``*_colours``
    are the shares of the colour choices listed in the module doc. A training recipe sets
    them in its ``[damage]`` table (`training.config.TrainConfig.damage`).
    """

    clean_prob: float = 0.2
    fresh_prob: float = 0.25
    tones: tuple[float, float, float] = (0.35, 0.3, 0.35)
    saturation: Range = (0.2, 0.8)
    cast: Range = (0.0, 0.2)
    contrast: Range = (0.55, 0.95)
    black: Range = (0.0, 0.15)
    white: Range = (0.8, 1.0)
    mount_prob: float = 0.1
    rails_prob: float = 0.0
    rails_width: Range = (6.0, 24.0)
    backdrop_prob: float = 0.0
    backdrop_tolerance: Range = (0.04, 0.15)
    backdrop_area: Range = (0.04, 0.6)
    backdrop_min_luma: float = 0.5
    backdrop_max_detail: float = 0.02
    strokes_prob: float = 0.0
    strokes_count: Range = (1, 6)
    stain_prob: float = 0.2
    stain_opacity: Range = (0.1, 0.35)
    age_blur_prob: float = 0.5
    age_blur: Range = (0.4, 1.2)
    age_grain_prob: float = 0.6
    age_grain: Range = (2.0, 10.0)
    crack_prob: float = 0.5
    crack_count: Range = (1, 4)
    crack_branches: Range = (0, 4)
    crack_width: Range = (1.0, 15.0)
    crack_network_prob: float = 0.35
    crack_cell: Range = (16.0, 64.0)
    crack_keep: Range = (0.3, 1.0)
    crack_colours: tuple[float, float, float] = (0.7, 0.2, 0.1)
    scratch_prob: float = 0.45
    scratch_count: Range = (1, 5)
    scratch_length: Range = (0.3, 1.0)
    scratch_width: Range = (1.0, 3.0)
    scratch_sag: Range = (0.0, 0.04)
    scratch_bright_prob: float = 0.6
    crease_prob: float = 0.15
    crease_count: Range = (1, 2)
    crease_width: Range = (1.0, 3.0)
    crease_opacity: Range = (0.35, 0.8)
    dust_prob: float = 0.5
    dust_count: Range = (3, 40)
    dust_radius: Range = (1.0, 3.0)
    dust_dark_prob: float = 0.6
    hair_prob: float = 0.25
    hair_count: Range = (1, 4)
    hair_length: Range = (15.0, 90.0)
    hair_curl: Range = (0.02, 0.15)
    hair_dark_prob: float = 0.7
    spot_prob: float = 0.25
    spot_count: Range = (1, 12)
    spot_radius: Range = (1.5, 8.0)
    spot_colours: tuple[float, float, float] = (0.6, 0.2, 0.2)
    torn_prob: float = 0.15
    torn_depth: Range = (0.04, 0.25)
    torn_corner_prob: float = 0.6
    torn_colours: tuple[float, float, float, float] = (0.35, 0.35, 0.2, 0.1)
    scan_blur_prob: float = 0.7
    scan_blur: Range = (0.3, 0.9)
    scan_grain_prob: float = 0.5
    scan_grain: Range = (1.0, 5.0)
    jpeg_prob: float = 0.5
    jpeg_quality: Range = (50, 95)
    min_change: float = 0.04

    def __post_init__(self) -> None:
        """Refuse, in one line naming the setting, what a recipe's ``[damage]`` table got
        wrong; `Range`s of whole numbers (counts, JPEG quality) are stored as ints."""
        for spec in dataclasses.fields(self):
            name, value, default = spec.name, getattr(self, spec.name), spec.default
            if isinstance(default, tuple):
                object.__setattr__(self, name, checked_tuple(name, value, default))
            elif name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise TrainingDataError(f"damage.{name} must be in [0, 1], got {value!r}")
        for name in ("crack_width", "dust_radius", "spot_radius", "rails_width"):  # log-uniform
            if getattr(self, name)[0] <= 0:
                raise TrainingDataError(f"damage.{name} must be > 0, got {getattr(self, name)}")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 100:
            raise TrainingDataError(
                f"damage.jpeg_quality must lie in [1, 100], got {self.jpeg_quality}"
            )
        if self.clean_prob < 1.0 and not any(self.probability(k) for k in KINDS):
            raise TrainingDataError("damage: some <kind>_prob must be > 0 unless clean_prob=1")

    def probability(self, kind: str) -> float:
        return float(getattr(self, f"{kind}_prob"))

    def kind_probability(self, kind: str) -> float:
        """The share of all samples that hold `kind` (including the fallback draw)."""
        probs = np.array([self.probability(k) for k in KINDS])
        none = float(np.prod(1.0 - probs))
        own = self.probability(kind)
        return (1.0 - self.clean_prob) * (own + none * own / probs.sum())

    def only(self, *kinds: str, **changes: Any) -> DamageConfig:
        """This config with exactly `kinds` in every sample (no clean samples)."""
        probs = {f"{k}_prob": float(k in kinds) for k in KINDS}
        return dataclasses.replace(self, clean_prob=0.0, **{**probs, **changes})

    @classmethod
    def held_out(cls) -> DamageConfig:
        """The benchmark's generator: other ranges than training (see the module doc)."""
        return cls(
            tones=(0.2, 0.5, 0.3),
            contrast=(0.45, 0.8),
            jpeg_quality=(35, 80),
            crack_width=(2.0, 20.0),
            crack_cell=(24.0, 96.0),
            crack_colours=(0.5, 0.3, 0.2),
            scratch_width=(1.0, 4.0),
            scratch_sag=(0.03, 0.08),
            scratch_bright_prob=0.35,
            crease_width=(2.0, 4.0),
            dust_radius=(1.5, 4.0),
            hair_length=(30.0, 120.0),
            hair_curl=(0.08, 0.25),
            spot_radius=(3.0, 12.0),
            torn_depth=(0.1, 0.3),
            torn_colours=(0.2, 0.3, 0.3, 0.2),
        )


@dataclass(frozen=True)
class DamageInfo:
    """What `damage` drew: ``(name, parameters)`` per ageing step, damage kind and scan
    step, in the order applied, and the labelled share of pixels."""

    ageing: tuple[tuple[str, dict[str, Any]], ...]
    damage: tuple[tuple[str, dict[str, Any]], ...]
    scan: tuple[tuple[str, dict[str, Any]], ...]
    coverage: float

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.damage)


def _choose(rng: np.random.Generator, cfg: DamageConfig) -> list[str]:
    if rng.random() < cfg.clean_prob:
        return []
    chosen = [kind for kind in KINDS if rng.random() < cfg.probability(kind)]
    if not chosen:  # a damaged sample holds something
        chosen = [KINDS[pick(rng, [cfg.probability(kind) for kind in KINDS])]]
    return chosen


def _scan(image, rng, cfg: DamageConfig):
    """Scanner blur, noise and JPEG over photo and damage alike, then 8-bit quantisation."""
    steps = []
    if rng.random() < cfg.scan_blur_prob:
        sigma = uniform(rng, cfg.scan_blur)
        image = ops.gaussian_blur(image, sigma)
        steps.append(("blur", {"sigma": sigma}))
    if rng.random() < cfg.scan_grain_prob:
        # Scanner noise, softened by its optics; one field shared by the channels mostly.
        sigma, scale = uniform(rng, cfg.scan_grain), uniform(rng, (0.4, 0.8))
        shared = bool(rng.random() < 0.7)
        image = ops.blurred_noise(image, rng, sigma, scale, shared)
        steps.append(("noise", {"sigma": sigma, "scale": scale, "shared": shared}))
    image = np.clip(image, 0.0, 1.0)
    if rng.random() < cfg.jpeg_prob:
        quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
        image = ops.jpeg(image, quality)
        steps.append(("jpeg", {"quality": quality}))
    return ops.to_uint8(image).astype(np.float32) / np.float32(255.0), tuple(steps)


def damage(
    clean: np.ndarray, rng: np.random.Generator, config: DamageConfig | None = None
) -> tuple[np.ndarray, np.ndarray, DamageInfo]:
    """An aged, damaged, scanned copy of `clean` (float32 H×W×3 in [0, 1]), its label (uint8
    H×W, 1 = damage to inpaint) and what was drawn. Deterministic in `rng`'s state; the
    first draws are `age`'s, so ``age(clean, same_rng_state, cfg)`` gives the picture under
    the damage."""
    cfg = config or DamageConfig()
    clean = np.ascontiguousarray(clean, np.float32)
    if clean.ndim != 3 or clean.shape[2] != 3:
        raise ValueError(f"damage needs an H×W×3 image, got shape {clean.shape}")
    shape = clean.shape[:2]
    aged, ageing = age(clean, rng, cfg)
    image, label = aged, np.zeros(shape, bool)
    drawn = []
    for kind in _choose(rng, cfg):
        layers, params = DRAW[kind](shape, rng, cfg)
        for coverage, colour, opacity in layers:
            alpha = (coverage * np.float32(opacity))[..., None]
            image = image + alpha * (np.asarray(colour, np.float32) - image)
            label |= coverage > 0.5
        drawn.append((kind, params))
    if drawn:  # damage the colour of what lies under it changed nothing to find or fill
        label &= np.abs(image - aged).max(axis=2) > cfg.min_change
    image, scan = _scan(image, rng, cfg)
    info = DamageInfo(ageing, tuple(drawn), scan, float(label.mean()))
    return image, label.astype(np.uint8), info
