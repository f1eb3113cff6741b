"""Restoration quality on the public benchmark sets, beside classical peers in the same run.

    .venv/bin/python benchmarks/quality.py denoise [--sets cbsd68 kodak24 mcmaster]
        [--sigmas 15 25 50] [--weights FILE] [--limit N] [--peers nlm bm3d] [--out FILE.json]

Denoising protocol: additive white Gaussian noise on the clean image in [0, 255] with a
fixed seed per image; reported twice — the noisy input not clipped (the papers' protocol)
and clipped to 8 bits (what a real file holds). CAVEAT: the engine's public API and OpenCV
take integer images, so their "unclipped" rows still see the input clipped to [0, 255]
(rounded into 16 bits for the engine): only BM3D really gets the unclipped input. Running
the network on float input for the papers' protocol is left to the denoising-model issue.
PSNR and SSIM on RGB in [0, 255]. Benchmark images are read from ../shared/data/bench and
are never trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import api  # noqa: E402
from training.metrics import psnr, ssim  # noqa: E402

BENCH = ROOT.parent / "shared" / "data" / "bench"
SETS = {"cbsd68": "cbsd68", "kodak24": "kodak24", "mcmaster": "mcmaster"}

Denoiser = Callable[[np.ndarray, float], np.ndarray]
"""(noisy float RGB in [0, 255], sigma) -> restored float RGB in [0, 255]."""


def load_set(name: str, limit: int | None) -> list[tuple[str, np.ndarray]]:
    folder = BENCH / SETS[name]
    paths = sorted(p for p in folder.iterdir() if api.is_supported_image_path(p))[:limit]
    return [(p.name, api.read_image(p).pixels.astype(np.float64)) for p in paths]


def add_noise(clean: np.ndarray, sigma: float, seed: int, clip: bool) -> np.ndarray:
    noisy = clean + np.random.default_rng(seed).normal(0.0, sigma, clean.shape)
    return np.clip(np.round(noisy), 0, 255) if clip else noisy


def engine_denoiser(weights: Path | None) -> Denoiser:
    options = api.RunOptions(device="cpu", weights=weights)

    def run(noisy: np.ndarray, _sigma: float) -> np.ndarray:
        # 16-bit carries an unclipped input's precision into the engine (it takes integers).
        pixels = np.clip(noisy / 255.0 * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
        return api.denoise(pixels, options=options).astype(np.float64) / 65535.0 * 255.0

    return run


def nlm_denoiser(noisy: np.ndarray, sigma: float) -> np.ndarray:
    image = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    h = max(3.0, 0.8 * sigma)  # OpenCV's filter strength scales with the noise level
    return cv2.fastNlMeansDenoisingColored(image, None, h, h, 7, 21).astype(np.float64)


def bm3d_denoiser() -> Denoiser | None:
    try:
        import bm3d  # optional: pip install bm3d
    except ImportError:
        return None

    def run(noisy: np.ndarray, sigma: float) -> np.ndarray:
        return bm3d.bm3d_rgb(noisy / 255.0, sigma / 255.0) * 255.0

    return run


def evaluate(
    methods: dict[str, Denoiser], sets: list[str], sigmas: list[float], limit: int | None
) -> list[dict]:
    rows = []
    for set_name in sets:
        images = load_set(set_name, limit)
        for sigma in sigmas:
            for clip in (False, True):
                for method, denoise in methods.items():
                    scores, started = [], time.perf_counter()
                    for index, (_name, clean) in enumerate(images):
                        noisy = add_noise(clean, sigma, seed=1000 * int(sigma) + index, clip=clip)
                        restored = np.clip(denoise(noisy, sigma), 0, 255)
                        a, b = restored / 255.0, clean / 255.0
                        scores.append((psnr(a, b), ssim(a, b)))
                    rows.append(
                        {
                            "set": set_name,
                            "sigma": sigma,
                            "clipped": clip,
                            "method": method,
                            "images": len(images),
                            "psnr": float(np.mean([s[0] for s in scores])),
                            "ssim": float(np.mean([s[1] for s in scores])),
                            "seconds": time.perf_counter() - started,
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| set | σ | input | method | PSNR (dB) | SSIM |", "|---|---|---|---|---|---|"]
    for r in rows:
        kind = "clipped 8-bit" if r["clipped"] else "unclipped"
        lines.append(
            f"| {r['set']} ({r['images']}) | {r['sigma']:g} | {kind} | {r['method']} "
            f"| {r['psnr']:.2f} | {r['ssim']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["denoise"])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--sigmas", nargs="+", type=float, default=[15, 25, 50])
    parser.add_argument("--weights", type=Path, help="a weight file instead of the shipped one")
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--peers", nargs="*", default=["nlm", "bm3d"], choices=["nlm", "bm3d"])
    parser.add_argument("--out", type=Path, help="also write the raw rows as JSON")
    args = parser.parse_args()
    methods: dict[str, Denoiser] = {"engine": engine_denoiser(args.weights)}
    if "nlm" in args.peers:
        methods["OpenCV NL-means"] = nlm_denoiser
    if "bm3d" in args.peers:
        bm3d_run = bm3d_denoiser()
        if bm3d_run is None:
            print("bm3d is not installed (pip install bm3d): BM3D left out", file=sys.stderr)
        else:
            methods["BM3D"] = bm3d_run
    rows = evaluate(methods, args.sets, args.sigmas, args.limit)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
