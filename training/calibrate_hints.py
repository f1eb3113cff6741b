"""The hint colorizer's pin size, chosen on the validation split of the training photos.

A user's pin fills a square at the network's working resolution (`Colorizer.hint_patch`,
``meta["hint_patch"]`` of the weight file, `engine.hints.DEFAULT_PATCH` without). Training
draws patch sides 1-9, and which side serves a model best differs by model and by how many
pins there are, so it is measured per model (``python -m training.calibrate colorize-hints``,
see `training.calibrate`) on the same held-out photos the chroma gain is chosen on:

For every patch side and every hint count N: the mean PSNR of the engine's colorizer (float32)
against the photo, given N hints drawn as the colorize benchmark draws its own (Zhang et al.
2017's protocol: N uniformly random pixels, each carrying the mean RGB of the truth's 3×3
patch around it; `truth_hints`), seeded by (`HINT_SEED`, the photo's place in the split,
N) but never with the benchmark's seed; and the PSNR with no hint at all, for reference.
Grey photos are skipped (no hint colour to give). The rule, stated before looking: the
patch side with the best PSNR averaged over the counts (a tie goes to the side listed
first). Pass it to ``training.export --hint-patch``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.io import read_image
from engine.options import ColorizeRequest, ColourHint
from engine.pixels import has_colour, to_unit
from engine.run import RunOptions, load_task_model
from engine.tasks.registry import get_task
from training.errors import TrainingError
from training.metrics import psnr
from training.validation import engine_restore

__all__ = [
    "DEFAULT_COUNTS",
    "DEFAULT_PATCHES",
    "HINT_SEED",
    "MAX_SIDE",
    "PatchRow",
    "choose_patch",
    "load_photo",
    "patch_table",
    "score_patches",
    "truth_hints",
]

DEFAULT_PATCHES = (1, 3, 5, 7, 9)  # every side training draws
DEFAULT_COUNTS = (5, 10)
HINT_SEED = 7_000_022  # the calibration's own draws (the benchmark's is 2017)
MAX_SIDE = 1024  # photos larger than this are area-shrunk first: the colorizer works at 512


@dataclass(frozen=True)
class PatchRow:
    patch: int
    psnr: dict[int, float]  # hint count -> mean PSNR over the photos, dB
    mean: float  # the mean of those over the counts: what the rule ranks


def load_photo(path: Path) -> np.ndarray:
    """A validation photo as the calibration gives it to the engine: 8-bit RGB, at most
    `MAX_SIDE` px on its long side."""
    import cv2

    pixels = read_image(path).pixels
    pixels = pixels if pixels.dtype == np.uint8 else (pixels // 257).astype(np.uint8)
    scale = MAX_SIDE / max(pixels.shape[:2])
    if scale < 1.0:
        size = (round(pixels.shape[1] * scale), round(pixels.shape[0] * scale))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(pixels)


def truth_hints(
    truth: np.ndarray, count: int, index: int, seed: int = HINT_SEED
) -> tuple[ColourHint, ...]:
    """`count` hints at uniformly random pixels of `truth` (H×W×3 uint8), each the mean RGB
    of the 3×3 patch around its point (clipped to the photo), placed at the pixel's centre;
    fixed per (seed, photo index, count), as the benchmark draws its own."""
    rng = np.random.default_rng([seed, index, count])
    height, width = truth.shape[:2]
    hints = []
    for _ in range(count):
        x, y = int(rng.integers(width)), int(rng.integers(height))
        patch = truth[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2].reshape(-1, 3)
        rgb = tuple(int(v) for v in np.round(patch.mean(axis=0)))
        hints.append(ColourHint(x + 0.5, y + 0.5, rgb))
    return tuple(hints)


def score_patches(
    weights: Path,
    photos: Sequence[Path],
    patches: Sequence[int],
    counts: Sequence[int],
    seed: int = HINT_SEED,
) -> tuple[list[PatchRow], float, int]:
    """Run the engine's hint colorizer from `weights` (float32) over `photos` at every patch
    side and hint count: the rows, one per side, the mean PSNR with no hint, and the number
    of (colour) photos scored.
    TrainingError for a model that takes no hints; SystemExit when no photo has colour."""
    model = load_task_model(get_task("colorize"), RunOptions(weights=weights, precision="full"))
    if not model.takes_hints:
        raise TrainingError(f"{weights} holds a colorizer that takes no colour hints")
    scores: dict[tuple[int, int], list[float]] = {(p, n): [] for p in patches for n in counts}
    no_hints: list[float] = []
    own_patch = model.hint_patch  # the engine caches the model: leave it as it was loaded
    try:
        for index, path in enumerate(photos):
            photo = load_photo(path)
            if not has_colour(photo):  # a grey truth has no colour to pin (training skips it)
                continue
            truth = to_unit(photo)
            automatic = engine_restore("colorize", model, photo, ColorizeRequest())
            no_hints.append(psnr(to_unit(automatic), truth))
            for count in counts:
                request = ColorizeRequest(hints=truth_hints(photo, count, index, seed))
                for patch in patches:
                    model.hint_patch = int(patch)  # the value export would write into the file
                    out = to_unit(engine_restore("colorize", model, photo, request))
                    scores[patch, count].append(psnr(out, truth))
            print(f"\r{index + 1}/{len(photos)} photos", end="", file=sys.stderr, flush=True)
    finally:
        model.hint_patch = own_patch
    print(file=sys.stderr)
    if not no_hints:
        raise SystemExit("no colour photo among the validation photos: nothing to calibrate on")
    rows = []
    for patch in patches:
        by_count = {int(n): float(np.mean(scores[patch, n])) for n in counts}
        rows.append(PatchRow(int(patch), by_count, float(np.mean(list(by_count.values())))))
    return rows, float(np.mean(no_hints)), len(no_hints)


def choose_patch(rows: Sequence[PatchRow]) -> PatchRow:
    """The side with the best PSNR averaged over the hint counts (ties: the first listed)."""
    return max(rows, key=lambda row: row.mean)


def patch_table(
    rows: Sequence[PatchRow], chosen: PatchRow, no_hints: float, scored: int
) -> list[str]:
    """Markdown: PSNR (dB) by patch side × hint count, their mean, the chosen side marked,
    and the no-hint PSNR below."""
    counts = list(rows[0].psnr)
    lines = [
        "| patch | " + " | ".join(f"{n} hints" for n in counts) + " | mean |",
        "|---" * (len(counts) + 2) + "|",
    ]
    for row in rows:
        mark = " (chosen)" if row is chosen else ""
        cells = " | ".join(f"{row.psnr[n]:.2f}" for n in counts)
        lines.append(f"| {row.patch}×{row.patch}{mark} | {cells} | {row.mean:.2f} |")
    lines.append(f"\nmean PSNR (dB) over {scored} colour photos; no hints: {no_hints:.2f} dB")
    return lines
