"""`quality.py colorize`: colour from luminance alone, beside the grayscale baseline.

Protocol: each photo of Kodak24, McMaster and CBSD68 is reduced to its CIE L channel (a = b =
0, converted back to RGB: exactly what a black-and-white scan gives the engine) and
colorized through `api.colorize`. Scores: PSNR (RGB, [0, 255]) and SSIM against the colour
original, and the mean Hasler-Süsstrunk colourfulness, beside the grayscale baseline itself
(PSNR of the a = b = 0 image) and the ground truth's colourfulness, all in the same run.

`--chroma-gain K ...` also scores every model with its ab multiplied by K afterwards: the
measured price in PSNR of making a regression model's (greyish) colours more vivid.

`--hints N ...` scores every hint-taking model with N colour hints per photo (Zhang et al.
2017's protocol): N points at uniformly random pixels (seed ``[HINT_SEED, photo index, N]``,
the same points for every model), each carrying the truth's colour as the mean RGB of the
3×3 patch around it (the engine keeps only its ab: the photo keeps its own lightness).
Zhang 2017's published gains over their own automatic result are printed beside ours.
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
from training.calibrate_hints import truth_hints
from training.metrics import colourfulness, psnr, ssim

SETS = ("kodak24", "mcmaster", "cbsd68")

Method = Callable[[np.ndarray], np.ndarray]
"""(grayscale RGB uint8) -> RGB uint8."""
HintedMethod = Callable[[np.ndarray, list[api.ColourHint]], np.ndarray]
"""(grayscale RGB uint8, hints) -> RGB uint8."""

HINT_SEED = 2017
# Zhang et al. 2017, Real-Time User-Guided Image Colorization (ImageNet, their Fig. 4):
# PSNR gain of N random ground-truth points over their own automatic result.
ZHANG_2017_GAIN = {1: 0.9, 2: 1.8, 5: 3.0, 10: 4.0, 20: 4.9}


def random_hints(truth: np.ndarray, count: int, index: int) -> list[api.ColourHint]:
    """`count` hints at uniformly random pixels of `truth` (H×W×3 uint8), each the mean RGB
    of the 3×3 patch around its point; fixed per (photo index, count). Drawn as the
    calibration draws them on the validation photos, with the benchmark's own seed."""
    return list(truth_hints(truth, count, index, seed=HINT_SEED))


def greyscale(rgb: np.ndarray) -> np.ndarray:
    """The photo's L channel with a = b = 0, as 8-bit RGB."""
    lab = rgb_to_lab(rgb.astype(np.float32) / 255.0)
    lab[..., 1:] = 0.0
    return np.clip(lab_to_rgb(lab) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def engine_method(weights: Path | None) -> Method:
    options = api.RunOptions(device="cpu", weights=weights)
    return lambda grey: api.colorize(grey, options=options)


def takes_hints(weights: Path | None) -> bool:
    """Whether the model in `weights` (None: the shipped one) is hint-conditioned: rows with
    hints are scored for those only."""
    probe = np.zeros((16, 16, 3), np.uint8)
    hint = api.ColourHint(1, 1, (200, 60, 40))
    try:
        api.colorize(probe, hints=[hint], options=api.RunOptions(device="cpu", weights=weights))
    except api.InvalidRequest:
        return False
    return True


def engine_hinted(weights: Path | None) -> HintedMethod:
    options = api.RunOptions(device="cpu", weights=weights)
    return lambda grey, hints: api.colorize(grey, hints=hints, options=options)


def with_chroma_gain(method: Method, gain: float) -> Method:
    """`method`, then its a and b multiplied by `gain` (L untouched)."""

    def run(grey: np.ndarray) -> np.ndarray:
        lab = rgb_to_lab(method(grey).astype(np.float32) / 255.0)
        lab[..., 1:] *= np.float32(gain)
        return np.clip(lab_to_rgb(lab) * 255.0 + 0.5, 0, 255).astype(np.uint8)

    return run


def hinted(method: HintedMethod, count: int) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    return lambda grey, clean, index: method(grey, random_hints(clean, count, index))


def score(method: Method | Callable | None, images: list[np.ndarray], hints: int = 0) -> dict:
    """`method` None scores the grayscale input itself (the baseline); with `hints` it is
    called as ``method(grey, truth, photo_index)`` (the truth only gives the hints)."""
    values, seconds = [], 0.0
    for index, clean in enumerate(images):
        grey = greyscale(clean)
        started = time.perf_counter()
        if method is None:
            out = grey
        elif hints:
            out = method(grey, clean, index)
        else:
            out = method(grey)
        seconds += time.perf_counter() - started
        a, b = out.astype(np.float64) / 255.0, clean.astype(np.float64) / 255.0
        baseline = psnr(grey.astype(np.float64) / 255.0, b)
        quality = psnr(a, b)
        values.append(
            (quality, ssim(a, b), colourfulness(out.astype(np.float64)), quality > baseline)
        )
    mean = np.mean(values, axis=0)
    return {
        "images": len(images),
        "psnr": float(mean[0]),
        "ssim": float(mean[1]),
        "colourfulness": float(mean[2]),
        "beats_grey": float(mean[3]),  # share of photos scored above their grey version
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
    parser.add_argument(
        "--hints",
        type=int,
        nargs="+",
        default=[],
        metavar="N",
        help="also score each model with N random ground-truth colour hints (Zhang 2017)",
    )


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    methods: dict[str, tuple[Method | Callable | None, int]] = {
        "grayscale baseline (a = b = 0)": (None, 0)
    }
    for label, file in model_files(args).items():
        method = engine_method(file)
        methods[label] = (method, 0)
        for gain in args.chroma_gain:
            methods[f"{label}, chroma × {gain:g}"] = (with_chroma_gain(method, gain), 0)
        counts = [n for n in args.hints if n > 0] if args.hints and takes_hints(file) else []
        for count in counts:
            methods[f"{label}, {count} hints"] = (hinted(engine_hinted(file), count), count)
    for set_name in args.sets:
        images = load_set(set_name, args.limit)
        truth = float(np.mean([colourfulness(im.astype(np.float64)) for im in images]))
        grey_psnr = None
        for name, (method, hints) in methods.items():
            row = score(method, images, hints)
            grey_psnr = row["psnr"] if method is None else grey_psnr
            emit(
                {
                    "set": set_name,
                    "method": name,
                    "hints": hints,
                    **row,
                    "over_grey": row["psnr"] - grey_psnr,
                    "zhang_2017_gain": ZHANG_2017_GAIN.get(hints),
                    "truth_colourfulness": truth,
                }
            )


def sort_key(row: dict) -> tuple:
    return (SETS.index(row["set"]),)


def table(rows: list[dict]) -> str:
    lines = [
        "| set | method | PSNR (dB) | over grey | Zhang 2017 gain | SSIM "
        "| colourfulness (truth) | beats grey | s / image |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        over, zhang = r.get("over_grey"), r.get("zhang_2017_gain")
        over_text = "" if over is None else f"{over:+.2f}"
        zhang_text = "" if zhang is None else f"+{zhang:g}"
        lines.append(
            f"| {r['set']} ({r['images']}) | {r['method']} | {r['psnr']:.2f} "
            f"| {over_text} | {zhang_text} "
            f"| {r['ssim']:.4f} | {r['colourfulness']:.1f} ({r['truth_colourfulness']:.1f}) "
            f"| {r.get('beats_grey', 0.0):.0%} | {r['seconds']:.2f} |"
        )
    return "\n".join(lines)
