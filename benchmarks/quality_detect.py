"""`quality.py detect`: damage found on photos it never saw, beside the classical detector.

Protocol (issue 21). Each photo of Kodak24, McMaster and CBSD68 is aged and damaged by the
*held-out* generator, `training.data.damage.DamageConfig.held_out()` — other ranges than
training's (wider cracks, curlier hairs, harsher JPEG: its docstring lists them) — seeded
``np.random.default_rng([HELD_OUT_SEED, set_index, photo_index])``, a seed training never
uses, with every sample damaged (``clean_prob = 0``). The damaged photo is saved to 8 bits
as a scan would be and given to each detector at its default sensitivity (0.5) unless
``--sensitivity`` lists others. Scores, pooled over the photos of a set (`training.metrics`
`damage_counts` / `damage_scores`): precision, recall and F1 with a 3 px tolerance, exact
IoU. Then the same photos *undamaged*, as they are: the share of pixels flagged (a false
alarm on a clean photo is a smear the inpainter puts on it).

Methods: each learned model (`--model LABEL=FILE`, and the shipped one unless
`--no-shipped`; `api.detect_damage` with that file) and the classical morphological
detector (`api.detect_scratches`), in the same run on the same pixels.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.quality_common import add_model_arguments, load_set, model_files
from engine import api
from training.data.damage import HELD_OUT_SEED, DamageConfig, damage
from training.metrics import damage_counts, damage_scores

SETS = ("kodak24", "mcmaster", "cbsd68")
CLASSICAL = "classical (morphology)"

Detector = Callable[[np.ndarray, float], np.ndarray]
"""(RGB uint8, sensitivity) -> bool H×W mask."""


def damaged_copy(clean: np.ndarray, set_index: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The held-out generator's damaged 8-bit copy of `clean` and its label (bool)."""
    config = dataclasses.replace(DamageConfig.held_out(), clean_prob=0.0)
    rng = np.random.default_rng([HELD_OUT_SEED, set_index, index])
    image, label, _ = damage(clean.astype(np.float32) / 255.0, rng, config)
    pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return pixels, label.astype(bool)


def learned(weights: Path | None) -> Detector:
    options = api.RunOptions(device="cpu", weights=weights)
    return lambda image, s: api.detect_damage(image, sensitivity=s, options=options)


def classical(image: np.ndarray, sensitivity: float) -> np.ndarray:
    return api.detect_scratches(image, sensitivity=sensitivity)


def _pooled(counts: list[dict[str, float]]) -> dict[str, float]:
    total = {key: float(sum(c[key] for c in counts)) for key in counts[0]}
    return damage_scores(total)


def score(detector: Detector, cases, clean: list[np.ndarray], sensitivity: float) -> dict:
    counts, seconds = [], 0.0
    for image, label in cases:
        started = time.perf_counter()
        mask = detector(image, sensitivity)
        seconds += time.perf_counter() - started
        counts.append(damage_counts(mask, label))
    flagged = [float(detector(image, sensitivity).mean()) for image in clean]
    scores = _pooled(counts)
    return {
        "images": len(cases),
        **{k: scores[k] for k in ("precision", "recall", "f1", "iou")},
        "clean_flagged": float(np.mean(flagged)),
        "clean_flagged_max": float(np.max(flagged)),
        "seconds": seconds / len(cases),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    add_model_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--sensitivity", type=float, nargs="+", default=[0.5])
    parser.add_argument("--no-classical", action="store_true", help="leave the classical out")


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    detectors: dict[str, Detector] = {}
    for label, file in model_files(args).items():
        # detect_damage falls back to the classical detector while none is installed:
        # that must not be scored under the shipped model's name.
        if file is not None or api.has_model("detect"):
            detectors[label] = learned(file)
    if not args.no_classical:
        detectors[CLASSICAL] = classical
    for set_name in args.sets:
        clean = load_set(set_name, args.limit)
        cases = [damaged_copy(image, SETS.index(set_name), i) for i, image in enumerate(clean)]
        for name, detector in detectors.items():
            for sensitivity in args.sensitivity:
                row = score(detector, cases, clean, sensitivity)
                emit({"set": set_name, "method": name, "sensitivity": sensitivity, **row})


def sort_key(row: dict) -> tuple:
    return (SETS.index(row["set"]),)


def table(rows: list[dict]) -> str:
    lines = [
        "| set | method | sensitivity | precision | recall | F1 (3 px) | IoU "
        "| clean photos flagged (max) | s / image |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} ({r['images']}) | {r['method']} | {r['sensitivity']:g} "
            f"| {r['precision']:.3f} | {r['recall']:.3f} | **{r['f1']:.3f}** | {r['iou']:.3f} "
            f"| {r['clean_flagged']:.2%} ({r['clean_flagged_max']:.2%}) | {r['seconds']:.2f} |"
        )
    return "\n".join(lines)
