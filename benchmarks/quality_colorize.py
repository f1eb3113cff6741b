"""`quality.py colorize`: colour from luminance alone, beside the grayscale baseline.

Protocol: each photo of Kodak24, McMaster and CBSD68 is reduced to its CIE L channel (a = b =
0, converted back to RGB: exactly what a black-and-white scan gives the engine) and
colorized through `api.colorize`. Scores: PSNR (RGB, [0, 255]) and SSIM against the colour
original, and the mean Hasler-Süsstrunk colourfulness, beside the grayscale baseline itself
(PSNR of the a = b = 0 image) and the ground truth's colourfulness, all in the same run.

`--chroma-gain K ...` also scores every model with its ab multiplied by K afterwards: the
measured price in PSNR of making a regression model's (greyish) colours more vivid.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.quality_common import add_model_arguments, load_set, model_files
from engine import api
from engine.color import lab_to_rgb, rgb_to_lab
from training.metrics import colourfulness, psnr, ssim

SETS = ("kodak24", "mcmaster", "cbsd68")

Method = Callable[[np.ndarray], np.ndarray]
"""(grayscale RGB uint8) -> RGB uint8."""


def greyscale(rgb: np.ndarray) -> np.ndarray:
    """The photo's L channel with a = b = 0, as 8-bit RGB."""
    lab = rgb_to_lab(rgb.astype(np.float32) / 255.0)
    lab[..., 1:] = 0.0
    return np.clip(lab_to_rgb(lab) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def engine_method(weights: Path | None) -> Method:
    options = api.RunOptions(device="cpu", weights=weights)
    return lambda grey: api.colorize(grey, options=options)


def with_chroma_gain(method: Method, gain: float) -> Method:
    """`method`, then its a and b multiplied by `gain` (L untouched)."""

    def run(grey: np.ndarray) -> np.ndarray:
        lab = rgb_to_lab(method(grey).astype(np.float32) / 255.0)
        lab[..., 1:] *= np.float32(gain)
        return np.clip(lab_to_rgb(lab) * 255.0 + 0.5, 0, 255).astype(np.uint8)

    return run


def score(method: Method | None, images: list[np.ndarray]) -> dict:
    """`method` None scores the grayscale input itself (the baseline)."""
    values, seconds = [], 0.0
    for clean in images:
        grey = greyscale(clean)
        started = time.perf_counter()
        out = grey if method is None else method(grey)
        seconds += time.perf_counter() - started
        a, b = out.astype(np.float64) / 255.0, clean.astype(np.float64) / 255.0
        values.append((psnr(a, b), ssim(a, b), colourfulness(out.astype(np.float64))))
    mean = np.mean(values, axis=0)
    return {
        "images": len(images),
        "psnr": float(mean[0]),
        "ssim": float(mean[1]),
        "colourfulness": float(mean[2]),
        "seconds": seconds / len(images),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    add_model_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument(
        "--chroma-gain",
        type=float,
        nargs="+",
        default=[],
        metavar="K",
        help="also score each model with its ab multiplied by K (the vividness/PSNR trade)",
    )


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    methods: dict[str, Method | None] = {"grayscale baseline (a = b = 0)": None}
    for label, file in model_files(args).items():
        methods[label] = method = engine_method(file)
        for gain in args.chroma_gain:
            methods[f"{label}, chroma × {gain:g}"] = with_chroma_gain(method, gain)
    for set_name in args.sets:
        images = load_set(set_name, args.limit)
        truth = float(np.mean([colourfulness(im.astype(np.float64)) for im in images]))
        for name, method in methods.items():
            emit(
                {
                    "set": set_name,
                    "method": name,
                    **score(method, images),
                    "truth_colourfulness": truth,
                }
            )


def sort_key(row: dict) -> tuple:
    return (SETS.index(row["set"]),)


def table(rows: list[dict]) -> str:
    lines = [
        "| set | method | PSNR (dB) | SSIM | colourfulness (truth) | s / image |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['set']} ({r['images']}) | {r['method']} | {r['psnr']:.2f} | {r['ssim']:.4f} "
            f"| {r['colourfulness']:.1f} ({r['truth_colourfulness']:.1f}) | {r['seconds']:.2f} |"
        )
    return "\n".join(lines)
