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
alarm on a clean photo is a smear the inpainter puts on it). And, unless ``--no-kinds``, the
recall of each kind of damage alone: every photo damaged again by the held-out generator
with only that kind (`DamageConfig.only`, seeded ``[HELD_OUT_SEED, set, photo, 100 + kind]``)
— the pooled recall hides that a detector finding 80 % of the cracks may find no dust.

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
from training.data.damage import HELD_OUT_SEED, KINDS, DamageConfig, damage
from training.metrics import damage_counts, pooled_damage_scores

SETS = ("kodak24", "mcmaster", "cbsd68")
CLASSICAL = "classical (morphology)"

Detector = Callable[[np.ndarray, float], np.ndarray]
"""(RGB uint8, sensitivity) -> bool H×W mask."""


def damaged_copy(
    clean: np.ndarray, set_index: int, index: int, kind: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The held-out generator's damaged 8-bit copy of `clean` and its label (bool): every
    kind it draws, or only `kind`."""
    config = DamageConfig.held_out()
    if kind is None:
        config = dataclasses.replace(config, clean_prob=0.0)
        rng = np.random.default_rng([HELD_OUT_SEED, set_index, index])
    else:
        config = config.only(kind)
        rng = np.random.default_rng([HELD_OUT_SEED, set_index, index, 100 + KINDS.index(kind)])
    image, label, _ = damage(clean.astype(np.float32) / 255.0, rng, config)
    pixels = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return pixels, label.astype(bool)


def learned(weights: Path | None) -> Detector:
    options = api.RunOptions(device="cpu", weights=weights)
    # margin 0: the network's own mask, scored against the label's visible geometry.
    return lambda image, s: api.detect_damage(image, sensitivity=s, margin=0, options=options)


def classical(image: np.ndarray, sensitivity: float) -> np.ndarray:
    return api.detect_scratches(image, sensitivity=sensitivity)


def kind_recall(detector: Detector, by_kind: dict, sensitivity: float) -> dict[str, float]:
    """The pooled recall of each kind's cases ({kind: [(image, label), ...]})."""
    return {
        kind: pooled_damage_scores(
            [damage_counts(detector(image, sensitivity), label) for image, label in cases]
        )["recall"]
        for kind, cases in by_kind.items()
    }


def score(
    detector: Detector,
    cases,
    clean: list[np.ndarray],
    sensitivity: float,
    by_kind: dict | None = None,
) -> dict:
    counts, seconds = [], 0.0
    for image, label in cases:
        started = time.perf_counter()
        mask = detector(image, sensitivity)
        seconds += time.perf_counter() - started
        counts.append(damage_counts(mask, label))
    flagged = [float(detector(image, sensitivity).mean()) for image in clean]
    scores = pooled_damage_scores(counts)
    return {
        "images": len(cases),
        **{k: scores[k] for k in ("precision", "recall", "f1", "iou")},
        "clean_flagged": float(np.mean(flagged)),
        "clean_flagged_max": float(np.max(flagged)),
        "seconds": seconds / len(cases),
        **({"recall_by_kind": kind_recall(detector, by_kind, sensitivity)} if by_kind else {}),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    add_model_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--sensitivity", type=float, nargs="+", default=[0.5])
    parser.add_argument("--no-classical", action="store_true", help="leave the classical out")
    parser.add_argument("--no-kinds", action="store_true", help="skip the recall by kind")


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
        index = SETS.index(set_name)
        cases = [damaged_copy(image, index, i) for i, image in enumerate(clean)]
        by_kind = None
        if not args.no_kinds:
            by_kind = {
                kind: [damaged_copy(image, index, i, kind) for i, image in enumerate(clean)]
                for kind in KINDS
            }
        for name, detector in detectors.items():
            for sensitivity in args.sensitivity:
                row = score(detector, cases, clean, sensitivity, by_kind)
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
    kinds = [r for r in rows if r.get("recall_by_kind")]
    if kinds:
        lines += [
            "",
            "Recall by kind (each photo with only that kind of damage):",
            "",
            "| set | method | sensitivity | " + " | ".join(KINDS) + " |",
            "|---|---|---|" + "---|" * len(KINDS),
        ]
        for r in kinds:
            cells = " | ".join(f"{r['recall_by_kind'][k]:.2f}" for k in KINDS)
            lines.append(f"| {r['set']} | {r['method']} | {r['sensitivity']:g} | {cells} |")
    return "\n".join(lines)
