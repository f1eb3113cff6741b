"""`quality.py inpaint`: hole filling on Kodak24 by hole-area band, beside OpenCV's inpainting.

Protocol: the centre 512×512 crop of each Kodak24 photo; the NVIDIA irregular test masks
(../shared/data/bench/masks, white = hole) of one band per row, `r10` (0-10 % of the image)
… `r60` (50-60 %); image i is paired with the band's i-th mask (sorted by name), so every
method sees the same holes. Scores: PSNR and SSIM on the whole RGB image, PSNR inside the
hole alone, and seconds per image. OpenCV's Telea and Navier-Stokes methods (radius 3), the
harmonic fill that the shipped generator refines (`engine.archs.layers.harmonic_fill`) and the
cheaper push-pull fill (`push_pull_fill`) run in the same run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from benchmarks.quality_common import BENCH, add_model_arguments, load_set, model_files
from engine import api
from training.metrics import psnr, ssim

BANDS = ("r10", "r20", "r30", "r40", "r50", "r60")
SETS = ("kodak24",)
CROP = 512

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(RGB uint8 with holes, bool hole mask) -> filled RGB uint8."""


def centre_crop(image: np.ndarray, side: int = CROP) -> np.ndarray:
    y = (image.shape[0] - side) // 2
    x = (image.shape[1] - side) // 2
    return image[y : y + side, x : x + side]


def load_images(limit: int | None) -> list[np.ndarray]:
    return [centre_crop(image) for image in load_set("kodak24", limit)]


def load_masks(band: str, count: int) -> list[np.ndarray]:
    paths = sorted((BENCH / "masks").glob(f"{band}_*.png"))[:count]
    if len(paths) < count:
        raise SystemExit(f"only {len(paths)} masks of band {band} in {BENCH / 'masks'}")
    return [api.read_image(p).pixels[..., 0] > 127 for p in paths]


def engine_method(weights: Path | None) -> Method:
    options = api.RunOptions(device="cpu", weights=weights)

    def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return api.inpaint(image, hole, options=options)

    return run


def opencv_method(flag: int) -> Method:
    def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(image, hole.astype(np.uint8) * 255, 3, flag)

    return run


def damage(clean: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The photo with its holes zeroed: what is under a hole must not matter."""
    damaged = clean.copy()
    damaged[hole] = 0
    return damaged


def score(method: Method, images: list[np.ndarray], masks: list[np.ndarray]) -> dict:
    values, seconds = [], 0.0
    method(damage(images[0], masks[0]), masks[0])  # warm-up: loading is not inpainting time
    for clean, hole in zip(images, masks, strict=True):
        damaged = damage(clean, hole)
        started = time.perf_counter()
        filled = method(damaged, hole)
        seconds += time.perf_counter() - started
        a, b = filled.astype(np.float64) / 255.0, clean.astype(np.float64) / 255.0
        values.append((psnr(a, b), ssim(a, b), psnr(a, b, mask=hole)))
    mean = np.mean(values, axis=0)
    return {
        "images": len(images),
        "psnr": float(mean[0]),
        "ssim": float(mean[1]),
        "hole_psnr": float(mean[2]),
        "seconds": seconds / len(images),
    }


def fill_method(name: str) -> Method:
    """A parameter-free fill a generator can start from (``prefill``): ``"harmonic"`` (what
    the shipped generator refines) or ``"push_pull"``."""
    import torch

    from engine.archs.inpaint_gated import PREFILLS

    fill = PREFILLS[name]

    def run(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        rgb = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
        mask = torch.from_numpy(hole.astype(np.float32))[None, None]
        with torch.inference_mode():
            filled = fill(rgb * (1.0 - mask), mask)[0].permute(1, 2, 0).numpy()
        return np.clip(filled * 255.0 + 0.5, 0, 255).astype(np.uint8)

    return run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bands", nargs="+", default=list(BANDS), choices=BANDS)
    add_model_arguments(parser)
    parser.add_argument("--limit", type=int, help="only the first N images")
    parser.add_argument(
        "--peers",
        nargs="*",
        default=["telea", "ns", "harmonic", "pushpull"],
        choices=["telea", "ns", "harmonic", "pushpull"],
    )


def run(args: argparse.Namespace, emit: Callable[[dict], None]) -> None:
    methods = {label: engine_method(file) for label, file in model_files(args).items()}
    if "telea" in args.peers:
        methods["OpenCV Telea"] = opencv_method(cv2.INPAINT_TELEA)
    if "ns" in args.peers:
        methods["OpenCV Navier-Stokes"] = opencv_method(cv2.INPAINT_NS)
    if "harmonic" in args.peers:
        methods["harmonic fill (the generator's prefill)"] = fill_method("harmonic")
    if "pushpull" in args.peers:
        methods["push-pull fill"] = fill_method("push_pull")
    images = load_images(args.limit)
    for band in args.bands:
        masks = load_masks(band, len(images))
        for name, method in methods.items():
            emit({"set": "kodak24", "band": band, "method": name, **score(method, images, masks)})


def table(rows: list[dict]) -> str:
    lines = [
        "| band | method | PSNR (dB) | SSIM | hole PSNR (dB) | s / image |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['band']} ({r['images']}) | {r['method']} | {r['psnr']:.2f} | "
            f"{r['ssim']:.4f} | {r['hole_psnr']:.2f} | {r['seconds']:.2f} |"
        )
    return "\n".join(lines)


def sort_key(row: dict) -> tuple:
    return (row["band"], row["method"])
