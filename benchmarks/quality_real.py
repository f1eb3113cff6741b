"""`quality.py denoise --parts polyu jpeg`: real camera noise and JPEG damage, beside peers.

PolyU (../shared/data/bench/polyu): 100 pairs of 512×512 crops, `NAME_real.JPG` (one high-ISO
shot) and `NAME_mean.JPG` (the mean of ~500 shots: the clean reference), paired by NAME,
sorted by name; `--polyu-every N` keeps every Nth pair (the 1st, the (N+1)th, ...), then
`--limit` the first of those. No method is told a noise level.

JPEG (Kodak24): each clean image saved by Pillow at quality 10, 20, 30, 40 with 4:2:0 chroma
subsampling (`subsampling=2`, Pillow's standard tables), decoded, then restored.

Every method gets the 8-bit input and its result is rounded and clipped to 8 bits (what a
saved file holds); PSNR and SSIM on RGB in [0, 255]. "gain" is the PSNR over the input's own
PSNR on the same images (the first row of each block: the photo as it comes). Peers without a
level estimator get an oracle: the candidate (FFDNet's σ, NL-means' h, BM3D's σ) with the best
mean PSNR on the whole set, chosen with the clean reference, which no user has; the row says
which. CDnCNN-B is blind. BM3D runs on the first `--bm3d-limit` images only (it is slow).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from torch import nn

from benchmarks import peers
from benchmarks.quality_common import BENCH, load_set
from engine import api
from training.metrics import psnr, ssim

POLYU = BENCH / "polyu"
KINDS = ("real", "jpeg")
"""The `noise` value of this module's rows, in table order."""
JPEG_QUALITIES = (10, 20, 30, 40)
NLM_HS = (2.0, 3.0, 5.0, 7.0, 10.0)
"""NL-means strengths tried on real photos (the data README found h = 3 best on PolyU;
JPEG at quality 10 wants more)."""

Restorer = Callable[[np.ndarray], np.ndarray]
"""8-bit RGB input -> RGB on the 0-255 scale (any dtype; rounded and clipped when scored)."""
Pair = tuple[np.ndarray, np.ndarray]
"""(degraded, clean), both uint8 RGB."""


@dataclass(frozen=True)
class Entry:
    """A method as a table row: one restorer, or an oracle's candidates keyed by the value."""

    label: str
    candidates: dict[float, Restorer]
    setting: str = ""  # the oracle's parameter name ("σ", "h"); "" for a plain method
    limit: int | None = None  # only the first N images (BM3D)


# --- data -------------------------------------------------------------------------------


def polyu_paths(folder: Path = POLYU) -> list[tuple[Path, Path]]:
    """(noisy, clean) file pairs sorted by name: `X_real.JPG` with `X_mean.JPG`; a noisy
    file without its mean is left out (with a line on stderr), never scored against another."""
    if not folder.is_dir():
        raise SystemExit(f"PolyU set not found: {folder} (../shared/data/README.md)")
    pairs = []
    for noisy in sorted(folder.glob("*_real.*")):
        clean = noisy.with_name(noisy.name.replace("_real.", "_mean.", 1))
        if clean.is_file():
            pairs.append((noisy, clean))
        else:
            print(f"{noisy.name}: no {clean.name}, left out", file=sys.stderr)
    return pairs


def polyu_pairs(every: int = 1, limit: int | None = None, folder: Path = POLYU) -> list[Pair]:
    chosen = polyu_paths(folder)[::every][:limit]
    return [(api.read_image(a).pixels, api.read_image(b).pixels) for a, b in chosen]


def jpeg_bytes(clean: np.ndarray, quality: int) -> bytes:
    """The uint8 RGB image as Pillow saves it: a 4:2:0 JPEG at `quality`."""
    buffer = io.BytesIO()
    Image.fromarray(clean).save(buffer, "JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def jpeg_degrade(clean: np.ndarray, quality: int) -> np.ndarray:
    """`jpeg_bytes` decoded back to uint8 RGB: what a user's JPEG file holds."""
    with Image.open(io.BytesIO(jpeg_bytes(clean, quality))) as decoded:
        return np.asarray(decoded.convert("RGB")).copy()


# --- scoring ----------------------------------------------------------------------------


def _detail(image: np.ndarray) -> float:
    grey = image.astype(np.float64).mean(axis=2)
    return float(np.mean(np.abs(np.diff(grey, axis=0))) + np.mean(np.abs(np.diff(grey, axis=1))))


def score_pairs(restorer: Restorer, pairs: list[Pair]) -> dict[str, float]:
    values, seconds, pixels = [], 0.0, 0
    for degraded, clean in pairs:
        started = time.perf_counter()
        restored = restorer(degraded)
        seconds += time.perf_counter() - started
        restored = np.clip(np.round(np.asarray(restored, np.float64)), 0, 255)
        pixels += clean.shape[0] * clean.shape[1]
        a, b, given = restored / 255.0, clean / 255.0, degraded / 255.0
        detail = _detail(restored) / max(_detail(clean), 1e-9)
        values.append((psnr(a, b), ssim(a, b), detail, psnr(given, b)))
    mean = np.mean(values, axis=0)
    return {
        "images": len(pairs),
        "psnr": float(mean[0]),
        "ssim": float(mean[1]),
        "detail": float(mean[2]),
        "input_psnr": float(mean[3]),
        "gain": float(mean[0] - mean[3]),
        "mp_per_s": pixels / 1e6 / seconds if seconds > 1e-3 else 0.0,
    }


def best_of(candidates: dict[float, Restorer], pairs: list[Pair]) -> tuple[float, dict]:
    """The candidate with the best mean PSNR on `pairs` (an oracle: it sees the clean
    images) and its scores; the others are reported on stderr."""
    scores = {value: score_pairs(restorer, pairs) for value, restorer in candidates.items()}
    best = max(scores, key=lambda value: scores[value]["psnr"])
    if len(scores) > 1:
        tried = ", ".join(f"{v:g}: {s['psnr']:.2f}" for v, s in scores.items())
        print(f"  oracle tried {tried} dB -> {best:g}", file=sys.stderr)
    return best, scores[best]


# --- methods ----------------------------------------------------------------------------


def identity(image: np.ndarray) -> np.ndarray:
    return image


def engine_restorer(weights: Path | None, strength: float) -> Restorer:
    options = api.RunOptions(device="cpu", weights=weights)
    return lambda image: api.denoise(image, strength=strength, options=options)


def nlm_restorer(h: float) -> Restorer:
    return lambda image: cv2.fastNlMeansDenoisingColored(image, None, h, h, 7, 21)


def bm3d_restorer(sigma: float) -> Restorer | None:
    try:
        import bm3d  # optional: pip install -e '.[bench]'
    except ImportError:
        return None
    return lambda image: bm3d.bm3d_rgb(image / 255.0, sigma / 255.0) * 255.0


def entries(
    input_label: str,
    engines: dict[str, Restorer],
    networks: dict[str, nn.Module],
    args: argparse.Namespace,
) -> list[Entry]:
    """The input as it comes, our models, then the peers, in table order."""
    found = [Entry(input_label, {0.0: identity})]
    found += [Entry(label, {0.0: run}) for label, run in engines.items()]
    if "ffdnet" in networks:
        ffdnet = {s: peers.ffdnet_restorer(networks["ffdnet"], s) for s in peers.ORACLE_SIGMAS}
        found.append(Entry(peers.LABELS["ffdnet"], ffdnet, "σ"))
    if "dncnn" in networks:
        found.append(Entry(peers.LABELS["dncnn"], {0.0: peers.dncnn_restorer(networks["dncnn"])}))
    if "nlm" in args.peers:
        nlm = {h: nlm_restorer(h) for h in NLM_HS}
        found.append(Entry("OpenCV NL-means (oracle h)", nlm, "h"))
    if "bm3d" in args.peers:
        bm3d = {s: bm3d_restorer(s) for s in peers.ORACLE_SIGMAS}
        if any(run is None for run in bm3d.values()):
            print("bm3d not installed (pip install -e '.[bench]'): CBM3D left out", file=sys.stderr)
        else:
            oracle: dict[float, Restorer] = {s: run for s, run in bm3d.items() if run}
            found.append(Entry("CBM3D (oracle σ)", oracle, "σ", args.bm3d_limit))
    return found


def block_rows(
    block: dict, pairs: list[Pair], methods: list[Entry], emit: Callable[[dict], None]
) -> None:
    """Score every method on `pairs` and emit a row each; `block` names the data."""
    for entry in methods:
        value, scores = best_of(entry.candidates, pairs[: entry.limit])
        setting = {"param": value, "param_name": entry.setting} if entry.setting else {}
        emit({**block, "method": entry.label, **setting, **scores})


def run(
    models: dict[str, tuple[Path | None, float]],
    networks: dict[str, nn.Module],
    args: argparse.Namespace,
    emit: Callable[[dict], None],
) -> None:
    """The PolyU and JPEG rows for `models` (label -> weight file, strength) and the peers."""
    engines = {label: engine_restorer(file, s) for label, (file, s) in models.items()}
    if args.polyu_every < 1:
        raise SystemExit(f"--polyu-every wants a positive N, got {args.polyu_every}")
    if "polyu" in args.parts:
        pairs = polyu_pairs(args.polyu_every, args.limit)
        block = {"set": "polyu", "noise": "real", "level": 0.0, "clipped": True}
        methods = entries("noisy photo (input)", engines, networks, args)
        block_rows({**block, "every": args.polyu_every}, pairs, methods, emit)
    if "jpeg" in args.parts:
        clean_images = load_set("kodak24", args.limit)
        methods = entries("decoded JPEG (input)", engines, networks, args)
        for quality in args.jpeg_qualities:
            pairs = [(jpeg_degrade(clean, quality), clean) for clean in clean_images]
            block = {"set": "kodak24", "noise": "jpeg", "level": float(quality), "clipped": True}
            block_rows(block, pairs, methods, emit)


# --- tables -----------------------------------------------------------------------------


def sort_key(row: dict) -> tuple:
    return (KINDS.index(row["noise"]), row["level"])


def table(rows: list[dict]) -> str:
    lines = [
        "| set | degradation | method | PSNR (dB) | gain (dB) | SSIM | detail | setting | MP/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["noise"] == "real":
            every = r.get("every", 1)
            where = f"polyu ({r['images']}{f', 1 in {every}' if every > 1 else ''})"
            degradation = "real camera noise"
        else:
            where, degradation = f"kodak24 ({r['images']})", f"JPEG q{r['level']:g} 4:2:0"
        setting = f"{r['param_name']} {r['param']:g}" if "param" in r else ""
        speed = f"{r['mp_per_s']:.2g}" if r["mp_per_s"] else "–"  # the input: nothing run
        lines.append(
            f"| {where} | {degradation} | {r['method']} | {r['psnr']:.2f} | {r['gain']:+.2f} "
            f"| {r['ssim']:.4f} | {r['detail']:.2f} | {setting} | {speed} |"
        )
    return "\n".join(lines)
