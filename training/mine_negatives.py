"""Hard negatives for the damage detector: where a detector marks undamaged training photos.

The detector's false alarms are few but large and all alike: a portrait's plain cream
backdrop taken for torn paper, the white rails of a fence taken for cracks (issue 21).
Random crops reach such regions seldom, so the network is told "nothing here" about them
too rarely. This command runs a detector over the *training* split's photos (never the
validation split a run holds out: the settings chosen there must stay honest), each as it
is and once aged (`training.data.damage.age`, fixed seed), and writes every piece it marks
to a JSON file; a recipe's ``[hard_negatives]`` table (`training.data.hard_negatives`)
then centres a share of the training crops on those pieces, damaged or not as usual:

    python -m training.mine_negatives --weights resources/weights/detect.pt \\
        --data ../shared/data/train/* --out runs/hard_negatives.json

The cut is lower than the shipped one (default 0.5, coarse pass 0.9) so near misses are
taught as well as the misses themselves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from engine.pixels import to_unit
from engine.run import RunOptions, load_task_model
from engine.tasks.registry import get_task
from training.calibrate import engine_mask, probability_map
from training.calibrate_hints import load_photo
from training.data import scan_images, split_train_val
from training.data.damage import DamageConfig, age

__all__ = ["MINING_SEED", "marked_pieces", "mine", "main"]

MINING_SEED = 5_000_011  # the ageing draws of the aged copy of each photo
MAX_PIECES = 8  # per photo and look: the largest pieces (a fence's rails are a few)
MIN_AREA = 16  # px: smaller marks are specks a crop centred on them teaches little about


def marked_pieces(mask: np.ndarray) -> list[list[float]]:
    """The largest 8-connected pieces of `mask` as ``[top, left, bottom, right, area]``,
    box edges on the 0-1 scale of the photo, area as a share of its pixels."""
    height, width = mask.shape
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    pieces = []
    for x, y, w, h, area in stats[1:count]:
        if area >= MIN_AREA:
            box = [y / height, x / width, (y + h) / height, (x + w) / width]
            pieces.append([*(round(float(v), 4) for v in box), round(float(area) / mask.size, 6)])
    return sorted(pieces, key=lambda piece: -piece[4])[:MAX_PIECES]


def mine(weights: Path, photos: Sequence[Path], cut: float, coarse: float | None) -> list[dict]:
    """One entry per photo the detector marks (as it is or aged): its path, the share of
    pixels marked in each look and the marked pieces of both."""
    model = load_task_model(get_task("detect"), RunOptions(weights=weights, precision="full"))
    aged_look = dataclasses.replace(DamageConfig(), fresh_prob=0.0)
    found = []
    for index, path in enumerate(photos):
        photo = load_photo(path)
        aged, _ = age(to_unit(photo), np.random.default_rng([MINING_SEED, index]), aged_look)
        aged = np.clip(aged * 255.0 + 0.5, 0, 255).astype(np.uint8)
        entry: dict = {"path": str(path), "flagged": [], "pieces": []}
        for look in (photo, aged):
            maps = (probability_map(model, look), probability_map(model, look, coarse=True))
            mask = engine_mask(maps, cut, coarse)
            entry["flagged"].append(round(float(mask.mean()), 6))
            entry["pieces"].extend(marked_pieces(mask))
        if entry["pieces"]:
            found.append(entry)
        print(f"\r{index + 1}/{len(photos)} photos, {len(found)} marked", end="", file=sys.stderr)
    print(file=sys.stderr)
    return found


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m training.mine_negatives", description=__doc__)
    parser.add_argument("--weights", type=Path, required=True, help="a detector weight file")
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="training folders")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--threshold", type=float, default=0.5, help="full-pass cut")
    parser.add_argument("--coarse-threshold", type=float, default=0.9, help="coarse-pass cut")
    parser.add_argument("--no-coarse", action="store_true", help="the full pass only")
    parser.add_argument("--seed", type=int, default=0, help="the run's split seed")
    parser.add_argument("--val-fraction", type=float, default=0.05)
    parser.add_argument("--min-side", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None, help="use the first N photos")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    scan = scan_images(list(args.data), min_side=args.min_side)
    photos = split_train_val(scan.paths, args.val_fraction, args.seed)[0][: args.limit]
    coarse = None if args.no_coarse else args.coarse_threshold
    found = mine(args.weights, photos, args.threshold, coarse)
    report = {
        "weights": str(args.weights),
        "threshold": args.threshold,
        "coarse_threshold": coarse,
        "photos_scanned": len(photos),
        "photos": found,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"{len(found)} of {len(photos)} training photos marked; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
