"""`quality.py denoise`: the denoiser on CBSD68, Kodak24 and McMaster beside classical peers.

Gaussian part: additive white Gaussian noise on the clean image in [0, 255], a fixed seed per
image and sigma, reported twice: the noisy input not clipped (the papers' protocol: the engine
gets it as float32 through `api.denoise`, BM3D as float) and rounded and clipped to 8 bits
(what a real file holds: every method gets the uint8 image). OpenCV's NL-means takes only
8-bit input, so its "unclipped" rows see the clipped input (marked in the table).

Impulse/speckle part (Kodak24): salt-and-pepper on 10 % and 30 % of the pixels (whole pixels,
half black, half white) and speckle ``clean * (1 + n)``, ``n ~ N(0, 0.05)`` (variance 0.05),
clipped to 8 bits, beside a 3×3 median, a switching adaptive median and NL-means.

Peers that need the noise level get the true one (an oracle the blind network does not get):
NL-means, BM3D and FFDNet; CDnCNN-B is blind (both networks: `peers.py`, Gaussian part only).
`--parts polyu jpeg` adds real camera noise (PolyU) and JPEG damage (Kodak24), with their own
protocol in `quality_real.py`; `--parts synthetic` is the Gaussian and impulse table alone.
`--strength S ...` scores each of our models at each strength (1 = the model's own level).
Scores: PSNR and SSIM on RGB in [0, 255]; "detail" is the mean gradient magnitude of the
result over that of the clean image (1 = as much fine structure as the original; below it,
smoothed; above it, noise left or invented).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks import peers, quality_common, quality_real
from benchmarks.quality_common import add_model_arguments, model_files
from engine import api
from training.metrics import psnr, ssim

SETS = ("cbsd68", "kodak24", "mcmaster")
PARTS = ("synthetic", "polyu", "jpeg")
PEERS = ("nlm", "bm3d", "ffdnet", "dncnn")

Method = Callable[[np.ndarray, float], np.ndarray]
"""(noisy RGB, float64 in [0, 255] or uint8; noise std on the 0-255 scale) -> RGB [0, 255]."""


@dataclass(frozen=True)
class Noise:
    kind: str  # gaussian, salt_and_pepper, speckle
    level: float  # sigma (0-255), impulse share, or speckle variance
    clipped: bool


def load_set(name: str, limit: int | None) -> list[np.ndarray]:
    return [image.astype(np.float64) for image in quality_common.load_set(name, limit)]


def make_noisy(clean: np.ndarray, noise: Noise, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if noise.kind == "gaussian":
        noisy = clean + rng.normal(0.0, noise.level, clean.shape)
    elif noise.kind == "salt_and_pepper":
        noisy = clean.copy()
        hit = rng.random(clean.shape[:2]) < noise.level
        white = rng.random(clean.shape[:2]) < 0.5
        noisy[hit & white], noisy[hit & ~white] = 255.0, 0.0
    else:
        noisy = clean * (1.0 + rng.normal(0.0, np.sqrt(noise.level), clean.shape))
    if noise.clipped:
        return np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return noisy


def noise_std(noisy: np.ndarray, clean: np.ndarray) -> float:
    """The true noise level, for the peers that need one."""
    return float(np.std(noisy.astype(np.float64) - clean))


# --- methods ----------------------------------------------------------------------------


def engine_method(weights: Path | None, precision: str = "auto", strength: float = 1.0) -> Method:
    options = api.RunOptions(device="cpu", weights=weights, precision=api.Precision(precision))

    def run(noisy: np.ndarray, _std: float) -> np.ndarray:
        if noisy.dtype == np.uint8:
            return api.denoise(noisy, strength=strength, options=options).astype(np.float64)
        unit = (noisy / 255.0).astype(np.float32)
        restored = api.denoise(unit, strength=strength, options=options)
        return restored.astype(np.float64) * 255.0

    return run


def _as_uint8(noisy: np.ndarray) -> np.ndarray:
    return noisy if noisy.dtype == np.uint8 else np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def nlm(noisy: np.ndarray, std: float) -> np.ndarray:
    h = max(3.0, 0.8 * std)  # OpenCV's filter strength scales with the noise level
    return cv2.fastNlMeansDenoisingColored(_as_uint8(noisy), None, h, h, 7, 21).astype(np.float64)


def median3(noisy: np.ndarray, _std: float) -> np.ndarray:
    return cv2.medianBlur(_as_uint8(noisy), 3).astype(np.float64)


def switching_median(noisy: np.ndarray, _std: float) -> np.ndarray:
    """Adaptive switching median: only 0/255 values are treated as impulses; each is
    replaced by the median of the non-impulse values in the smallest window (3, 5, 7, 9)
    that has any, the rest of the image is left alone."""
    image = _as_uint8(noisy).astype(np.float64)
    out = image.copy()
    for c in range(3):
        channel = image[:, :, c]
        todo = (channel == 0) | (channel == 255)
        for size in (3, 5, 7, 9):
            if not todo.any():
                break
            r = size // 2
            padded = np.pad(np.where(todo, np.nan, channel), r, mode="reflect")
            windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size))
            ys, xs = np.nonzero(todo)
            values = windows[ys, xs].reshape(len(ys), -1)
            with warnings.catch_warnings():  # all-NaN windows are expected: grow them
                warnings.simplefilter("ignore", RuntimeWarning)
                med = np.nanmedian(values, axis=1)
            found = ~np.isnan(med)
            out[ys[found], xs[found], c] = med[found]
            todo[ys[found], xs[found]] = False
        out[:, :, c][todo] = cv2.medianBlur(_as_uint8(noisy)[:, :, c], 3)[todo]
    return out


def bm3d_method() -> Method | None:
    try:
        import bm3d  # optional: pip install -e '.[bench]'
    except ImportError:
        return None

    def run(noisy: np.ndarray, std: float) -> np.ndarray:
        return bm3d.bm3d_rgb(noisy.astype(np.float64) / 255.0, std / 255.0) * 255.0

    return run


# --- evaluation -------------------------------------------------------------------------


def detail(image: np.ndarray) -> float:
    grey = image.mean(axis=2)
    return float(np.mean(np.abs(np.diff(grey, axis=0))) + np.mean(np.abs(np.diff(grey, axis=1))))


def score(
    method: Method, images: list[np.ndarray], noise: Noise, seed_base: int
) -> dict[str, float]:
    values, seconds, pixels = [], 0.0, 0
    for index, clean in enumerate(images):
        noisy = make_noisy(clean, noise, seed=seed_base + index)
        std = noise_std(noisy, clean)
        started = time.perf_counter()
        restored = np.clip(method(noisy, std), 0, 255)
        seconds += time.perf_counter() - started
        pixels += clean.shape[0] * clean.shape[1]
        a, b = restored / 255.0, clean / 255.0
        values.append((psnr(a, b), ssim(a, b), detail(restored) / max(detail(clean), 1e-9)))
    mean = np.mean(values, axis=0)
    return {
        "images": len(images),
        "psnr": float(mean[0]),
        "ssim": float(mean[1]),
        "detail": float(mean[2]),
        "mp_per_s": pixels / 1e6 / seconds if seconds else 0.0,
    }


def gaussian_rows(
    methods: dict[str, Method], args: argparse.Namespace, emit: Callable[[dict], None]
) -> None:
    bm3d_run = bm3d_method() if "bm3d" in args.peers else None
    if "bm3d" in args.peers and bm3d_run is None:
        print("bm3d is not installed (pip install -e '.[bench]'): BM3D left out", file=sys.stderr)
    for set_name in args.sets:
        images = load_set(set_name, args.limit)
        for sigma in args.sigmas:
            for clipped in (False, True):
                noise = Noise("gaussian", sigma, clipped)
                seed = 1000 * int(sigma)
                for name, method in methods.items():
                    emit(row(set_name, noise, name, score(method, images, noise, seed)))
                if bm3d_run is not None and not clipped:  # BM3D's own protocol: unclipped
                    subset = images[: args.bm3d_limit]
                    scores = score(bm3d_run, subset, noise, seed)
                    emit(row(set_name, noise, "BM3D (oracle σ)", scores))


def impulse_rows(
    methods: dict[str, Method], args: argparse.Namespace, emit: Callable[[dict], None]
) -> None:
    images = load_set("kodak24", args.limit)
    for kind, level in (("salt_and_pepper", 0.1), ("salt_and_pepper", 0.3), ("speckle", 0.05)):
        noise = Noise(kind, level, clipped=True)
        for name, method in methods.items():
            emit(row("kodak24", noise, name, score(method, images, noise, seed_base=7000)))


def row(set_name: str, noise: Noise, method: str, scores: dict[str, float]) -> dict:
    return {
        "set": set_name,
        "noise": noise.kind,
        "level": noise.level,
        "clipped": noise.clipped,
        "method": method,
        **scores,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--sigmas", nargs="+", type=float, default=[15, 25, 50])
    add_model_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--peers", nargs="*", default=list(PEERS), choices=PEERS)
    parser.add_argument("--bm3d-limit", type=int, default=4, help="BM3D on the first N images")
    parser.add_argument("--skip-impulse", action="store_true", help="Gaussian part only")
    parser.add_argument(
        "--parts",
        nargs="+",
        default=list(PARTS),
        choices=PARTS,
        help="synthetic: Gaussian and impulse noise on --sets; polyu: real camera noise; "
        "jpeg: Kodak24 saved as JPEG (default: all three)",
    )
    parser.add_argument(
        "--strength",
        nargs="+",
        type=float,
        default=[1.0],
        help="denoise strength(s) 0..2 for our models (1 = the model's own level)",
    )
    parser.add_argument(
        "--polyu-every", type=int, default=1, metavar="N", help="every Nth PolyU pair"
    )
    parser.add_argument(
        "--jpeg-qualities", nargs="+", type=int, default=list(quality_real.JPEG_QUALITIES)
    )
    parser.add_argument(
        "--also-float32",
        action="store_true",
        help="score every model a second time in float32 (the engine's precision=full), "
        "to measure what the default reduced precision costs",
    )


def model_runs(args: argparse.Namespace) -> dict[str, tuple[Path | None, float]]:
    """Label -> (weight file, strength): each model at each --strength; the label names the
    strength when it is not 1, so rows of one run (or of merged runs) never collide."""
    runs = {}
    for label, file in model_files(args).items():
        for strength in args.strength:
            named = label if strength == 1 else f"{label}, strength {strength:g}"
            runs[named] = (file, strength)
    return runs


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    models = model_runs(args)
    networks = peers.load_networks(args.peers)
    if "synthetic" in args.parts:
        synthetic_rows(models, networks, args, emit)
    if "polyu" in args.parts or "jpeg" in args.parts:
        quality_real.run(models, networks, args, emit)


def synthetic_rows(
    models: dict[str, tuple[Path | None, float]],
    networks: dict,
    args: argparse.Namespace,
    emit: Callable[[dict], None],
) -> None:
    engines = {label: engine_method(f, "auto", s) for label, (f, s) in models.items()}
    if args.also_float32:
        engines.update(
            {f"{label}, float32": engine_method(f, "full", s) for label, (f, s) in models.items()}
        )
    classic = {"OpenCV NL-means (oracle σ)": nlm} if "nlm" in args.peers else {}
    gaussian_rows({**engines, **peers.gaussian_methods(networks), **classic}, args, emit)
    if not args.skip_impulse:
        classical = {"median 3×3": median3, "switching median": switching_median, **classic}
        impulse_rows({**engines, **classical}, args, emit)


def sort_key(row: dict) -> tuple:
    """Set, then noise kind and level, unclipped before clipped; methods keep their order.
    The real-photo rows (PolyU, JPEG) come after the synthetic ones."""
    if row["noise"] in quality_real.KINDS:
        return (1, *quality_real.sort_key(row))
    return (0, SETS.index(row["set"]), row["noise"], row["level"], row["clipped"])


def table(rows: list[dict]) -> str:
    """The synthetic table, then the real-photo table, each only if it has rows."""
    real = [r for r in rows if r["noise"] in quality_real.KINDS]
    synthetic = [r for r in rows if r["noise"] not in quality_real.KINDS]
    tables = [synthetic_table(synthetic)] if synthetic else []
    return "\n\n".join(tables + ([quality_real.table(real)] if real else []))


def synthetic_table(rows: list[dict]) -> str:
    lines = [
        "| set | noise | input | method | PSNR (dB) | SSIM | detail | MP/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["noise"] == "gaussian":
            noise = f"Gaussian σ={r['level']:g}"
        elif r["noise"] == "salt_and_pepper":
            noise = f"salt & pepper {r['level']:.0%}"
        else:
            noise = f"speckle var {r['level']:g}"
        given = "clipped 8-bit" if r["clipped"] else "unclipped"
        if not r["clipped"] and r["method"].startswith("OpenCV"):
            given = "unclipped (sees 8-bit)"
        lines.append(
            f"| {r['set']} ({r['images']}) | {noise} | {given} | {r['method']} "
            f"| {r['psnr']:.2f} | {r['ssim']:.4f} | {r['detail']:.2f} | {r['mp_per_s']:.2g} |"
        )
    return "\n".join(lines)


def summary(rows: list[dict], clipped: bool) -> str:
    """Gaussian PSNR / SSIM by method (rows) and set × σ (columns), for one protocol."""
    gaussian = [r for r in rows if r["noise"] == "gaussian" and r["clipped"] == clipped]
    if not gaussian:
        return ""  # a merge of real-photo rows only
    methods = list(dict.fromkeys(r["method"] for r in gaussian))
    sets = [s for s in SETS if any(r["set"] == s for r in gaussian)]
    header = "| method | " + " | ".join(f"{s} σ15 / 25 / 50" for s in sets) + " |"
    lines = [header, "|---|" + "---|" * len(sets)]
    for method in methods:
        cells = []
        for set_name in sets:
            found = {
                r["level"]: r for r in gaussian if r["method"] == method and r["set"] == set_name
            }
            cell = " / ".join(
                f"{found[s]['psnr']:.2f}" if s in found else "–" for s in (15, 25, 50)
            )
            images = min((r["images"] for r in found.values()), default=0)
            cells.append(cell + (f" ({images} img)" if 0 < images < 18 else ""))
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
