"""Inpainting speed: a 512×512 region, and a 24 MP scan with a few painted scratches.

    .venv/bin/python -m benchmarks.speed_inpaint [--threads 2] [--repeat 3]

Two measurements through the engine's public API, on synthetic photos (the time does not
depend on the content):

* one 512×512 photo whose holes spread over the whole frame, so the model runs once at its
  full 512×512 resolution (the issue's budget: at most 1 s on 2 cores);
* a 6000×4000 scan with a handful of thin scratches, beside the same scratches inpainted one
  crop at a time on their own: the crop-around-the-mask strategy should make the first cost
  about the sum of the second, whatever the size of the photo.

The model is the shipped one when resources/weights has it; otherwise the CPU-sized
architecture with untrained weights (speed does not depend on the weight values).
OpenCV's Telea on the same 512×512 holes runs in the same run as the reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.speed import shipped_or_untrained, synthetic_photo
from engine import api
from engine.tasks import get_task

ROOT = Path(__file__).resolve().parent.parent

SHIPPED_ARCH = "inpaint_gated"
SHIPPED_KWARGS = {"base_channels": 16, "prefill": "harmonic"}


def strokes(
    height: int, width: int, count: int, length: int, thickness: int, seed: int
) -> np.ndarray:
    """`count` random straight scratches of about `length` px and `thickness` px width."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((height, width), np.uint8)
    for _ in range(count):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        angle = rng.uniform(0, np.pi)
        x1 = int(np.clip(x0 + length * np.cos(angle), 0, width - 1))
        y1 = int(np.clip(y0 + length * np.sin(angle), 0, height - 1))
        cv2.line(mask, (x0, y0), (x1, y1), 1, thickness)
    return mask.astype(bool)


def timed(run, repeat: int) -> float:
    """Median seconds of `repeat` calls after one warm-up call."""
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    weights, label = shipped_or_untrained("inpaint", SHIPPED_ARCH, SHIPPED_KWARGS)
    options = api.RunOptions(device="cpu", threads=args.threads, weights=weights)
    print(f"CPU threads: {args.threads}; model: {label}\n")
    print("| case | method | holes | time (s) |")
    print("|---|---|---|---|")

    image = synthetic_photo(512, 512)
    # Scratches over the whole frame: one region, the model's full 512×512 resolution.
    hole = strokes(512, 512, 12, 400, 9, seed=1)
    hole[:, :4] = hole[:4, :] = hole[-4:, :] = hole[:, -4:] = True  # span the frame
    seconds = timed(lambda: api.inpaint(image, hole, options=options), args.repeat)
    share = f"{hole.mean():.1%} of 0.26 MP"
    print(f"| 512×512 | engine inpaint | {share} | {seconds:.2f} |")
    telea = timed(lambda: cv2.inpaint(image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA), 1)
    print(f"| 512×512 | OpenCV Telea (radius 3) | {share} | {telea:.2f} |")

    scan = synthetic_photo(6000, 4000, seed=2)
    scratches = strokes(4000, 6000, 6, 300, 5, seed=3)
    regions, _ = get_task("inpaint").model.regions(scratches)
    region_mp = sum((r.y1 - r.y0) * (r.x1 - r.x0) for r in regions) / 1e6
    whole = timed(lambda: api.inpaint(scan, scratches, options=options), 1)

    def each_crop() -> None:
        for r in regions:
            crop = np.ascontiguousarray(scan[r.y0 : r.y1, r.x0 : r.x1])
            api.inpaint(crop, scratches[r.y0 : r.y1, r.x0 : r.x1], options=options)

    alone = timed(each_crop, 1)
    holes = f"6 scratches, {len(regions)} crops, {region_mp:.2f} MP of 24 MP"
    print(f"| 6000×4000 scan | engine inpaint, whole scan | {holes} | {whole:.2f} |")
    print(f"| 6000×4000 scan | the same crops inpainted alone | {holes} | {alone:.2f} |")


if __name__ == "__main__":
    main()
