"""`quality.py colours`: faded and toned prints restored, beside two classical corrections.

Protocol (issue 23). Each photo of Kodak24 and McMaster is aged by the documented fading
model `benchmarks.fading` with ``numpy.random.default_rng([FADE_SEED, set, kind, photo])``:
a faded colour print of it (per-channel gamma, scale and offset, a colour cast, loss of
contrast), and a sepia-toned, faded print of its grey version. Each method gets the 8-bit
aged print; scores against the original (the grey version for the toned prints): PSNR on
RGB ([0, 255], the mean of the photos' PSNR) and the mean CIEDE2000 (`benchmarks.ciede2000`).
Then the photos as they are, unfaded, through every method: PSNR of the result against the
photo itself (from the set's pooled squared error; identical photos count as error 0), the
worst photo's, and how many came back unchanged to the bit.

Methods, in the same run on the same pixels: the aged input itself; grey-world white balance
(each channel scaled so the three means are equal); per-channel auto-levels (each channel
stretched from its minimum to its maximum: of the clips 0, 0.05, 0.1 and 0.5 % the minimum
and maximum scored best on the validation photos, so the strongest is shown); and
`api.restore_colours` at strength 1. The bar (issue 23): ours at least 1 dB above the better
classical method on each set, and unfaded photos left (nearly) alone.

``--sets validation validation-crops`` runs the same on `VALIDATION` photos of
../shared/data/train with another seed, and on their most colourful 256-pixel squares
(`colourful_crop`: crops of saturated scenes, the kind McMaster is made of): the photos the
correction's constants were chosen on (`tune_colours.py`). Benchmark photos are never used
for choosing anything.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import cv2
import numpy as np

from benchmarks import fading
from benchmarks.ciede2000 import mean_delta_e
from benchmarks.quality_common import BENCH, load_set
from engine import api

SETS = ("kodak24", "mcmaster", "validation", "validation-crops")
KINDS = ("faded colour print", "toned print (sepia)", "unfaded photo")
FADE_SEED = 2323
VALIDATION_SEED = 777
# Training photos: every n-th of each folder (offset n // 2), the long side shrunk to 768.
VALIDATION = (("bsds432", 18), ("sun80", 8), ("urban100", 10), ("imagenet_a", 44),
              ("imagenet_b", 44))  # fmt: skip
TRAIN = BENCH.parent / "train"

Method = Callable[[np.ndarray], np.ndarray]
"""(aged RGB uint8) -> RGB uint8."""


def grey_world(image: np.ndarray) -> np.ndarray:
    """Each channel scaled so its mean is the mean of the three (Buchsbaum 1980)."""
    values = image.astype(np.float64)
    means = values.reshape(-1, 3).mean(axis=0)
    gains = means.mean() / np.maximum(means, 1e-6)
    return np.clip(values * gains + 0.5, 0, 255).astype(np.uint8)


def auto_levels(image: np.ndarray, clip: float = 0.0) -> np.ndarray:
    """Each channel stretched from its `clip` % to its (100 - clip) % value onto 0..255."""
    values = image.astype(np.float64)
    low, high = np.percentile(values.reshape(-1, 3), [clip, 100.0 - clip], axis=0)
    stretched = (values - low) / np.maximum(high - low, 1.0) * 255.0
    return np.clip(stretched + 0.5, 0, 255).astype(np.uint8)


METHODS: dict[str, Method] = {
    "aged input": lambda image: image,
    "grey-world": grey_world,
    "auto-levels (per channel)": auto_levels,
    "ours (restore_colours)": lambda image: api.restore_colours(image),
}
CLASSICAL = ("grey-world", "auto-levels (per channel)")
OURS = "ours (restore_colours)"


def validation_photos(limit: int | None = None) -> list[np.ndarray]:
    """The validation photos (never benchmark photos), long side at most 768 px."""
    photos = []
    for folder, every in VALIDATION:
        paths = sorted(p for p in (TRAIN / folder).iterdir() if api.is_supported_image_path(p))
        for path in paths[every // 2 :: every]:
            image = api.read_image(path).pixels
            factor = 768 / max(image.shape[:2])
            if factor < 1.0:
                size = (round(image.shape[1] * factor), round(image.shape[0] * factor))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            photos.append(image)
    return photos[:limit]


def colourful_crop(image: np.ndarray, side: int = 256) -> np.ndarray:
    """The `side` × `side` square (on a 16-pixel grid) of highest mean HSV saturation."""
    side = min(side, *image.shape[:2])
    saturation = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)[..., 1]
    sums = cv2.integral(saturation, sdepth=cv2.CV_64F)
    window = sums[side:, side:] - sums[:-side, side:] - sums[side:, :-side] + sums[:-side, :-side]
    grid = window[::16, ::16]
    y, x = np.unravel_index(int(np.argmax(grid)), grid.shape)
    return np.ascontiguousarray(image[y * 16 : y * 16 + side, x * 16 : x * 16 + side])


def aged(photo: np.ndarray, kind: str, seed: int, set_index: int, index: int):
    """(the aged 8-bit print, the truth it is scored against) for one photo."""
    rng = np.random.default_rng([seed, set_index, KINDS.index(kind), index])
    if kind == KINDS[0]:
        return fading.fade(photo, rng), photo
    if kind == KINDS[1]:
        grey = fading.grey_version(photo)
        return fading.tone(grey, rng), grey
    return photo, photo


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if error == 0.0 else 10.0 * math.log10(255.0**2 / error)


def score(method: Method, pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Mean PSNR and ΔE00 of `method` on (input, truth) pairs, and what the unfaded rows
    report: the PSNR of the pooled error, the worst photo's PSNR, photos unchanged."""
    psnrs, errors, deltas, seconds = [], [], [], 0.0
    for source, truth in pairs:
        started = time.perf_counter()
        out = method(source)
        seconds += time.perf_counter() - started
        psnrs.append(psnr(out, truth))
        errors.append(float(np.mean((out.astype(np.float64) - truth) ** 2)))
        deltas.append(mean_delta_e(out, truth))
    pooled = float(np.mean(errors))
    return {
        "images": len(pairs),
        "psnr": float(np.mean(psnrs)),
        "pooled_psnr": math.inf if pooled == 0 else 10.0 * math.log10(255.0**2 / pooled),
        "worst_psnr": float(np.min(psnrs)),
        "unchanged": int(sum(math.isinf(p) for p in psnrs)),
        "delta_e": float(np.mean(deltas)),
        "seconds": seconds / len(pairs),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=list(SETS[:2]), choices=SETS)
    parser.add_argument("--limit", type=int, help="only the first N photos of each set")


def photos_of(set_name: str, limit: int | None) -> list[np.ndarray]:
    if set_name == "validation-crops":
        return [colourful_crop(photo) for photo in validation_photos(limit)]
    return validation_photos(limit) if set_name == "validation" else load_set(set_name, limit)


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    for set_name in args.sets:
        photos = photos_of(set_name, args.limit)
        seed = VALIDATION_SEED if set_name.startswith("validation") else FADE_SEED
        for kind in KINDS:
            pairs = [aged(p, kind, seed, SETS.index(set_name), i) for i, p in enumerate(photos)]
            for name, method in METHODS.items():
                if kind == KINDS[2] and name == "aged input":
                    continue  # the photo itself: nothing to score
                emit({"set": set_name, "kind": kind, "method": name, **score(method, pairs)})


def sort_key(row: dict) -> tuple:
    return (SETS.index(row["set"]), KINDS.index(row["kind"]), list(METHODS).index(row["method"]))


def _number(value: float) -> str:
    return "∞" if math.isinf(value) else f"{value:.2f}"


def bar_lines(rows: list[dict]) -> list[str]:
    """Ours against the better classical method, per set and aged kind; unfaded: ours."""
    lines = []
    for set_name in dict.fromkeys(r["set"] for r in rows):
        for kind in KINDS:
            found = {r["method"]: r for r in rows if r["set"] == set_name and r["kind"] == kind}
            if OURS not in found:
                continue
            ours = found[OURS]
            if kind == KINDS[2]:
                lines.append(
                    f"- {set_name}, unfaded: ours changes the photos by PSNR "
                    f"{_number(ours['pooled_psnr'])} dB (worst {_number(ours['worst_psnr'])}), "
                    f"{ours['unchanged']}/{ours['images']} unchanged"
                )
                continue
            best = max((found[m] for m in CLASSICAL if m in found), key=lambda r: r["psnr"])
            gain = ours["psnr"] - best["psnr"]
            verdict = "meets" if gain >= 1.0 else "misses"
            lines.append(
                f"- {set_name}, {kind}: ours {ours['psnr']:.2f} dB, best classical "
                f"({best['method']}) {best['psnr']:.2f} dB: {gain:+.2f} dB ({verdict} ≥ +1 dB)"
            )
    return lines


def table(rows: list[dict]) -> str:
    lines = [
        "| set | print | method | PSNR (dB) | ΔE00 | worst photo (dB) | unchanged | s / image |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        unfaded = r["kind"] == KINDS[2]
        value = r["pooled_psnr"] if unfaded else r["psnr"]
        lines.append(
            f"| {r['set']} ({r['images']}) | {r['kind']} | {r['method']} | {_number(value)} "
            f"| {r['delta_e']:.2f} | {_number(r['worst_psnr'])} "
            f"| {r['unchanged'] if unfaded else '–'} | {r['seconds']:.3f} |"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(bar_lines(rows))
