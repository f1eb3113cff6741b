"""Colorization speed: a 24 MP black-and-white scan, end to end through the public API.

    .venv/bin/python -m benchmarks.speed_colorize [--threads 2] [--repeat 3]

The colorizer runs once at its own resolution (the weight file's ``meta["resolution"]``), so
its cost is fixed; what grows with the scan is the work around it: the full-resolution L, the
shrink, and the bicubic upsampling of ab merged with L stripe by stripe. The issue's budget is
5 s for 6000×4000 on 2 cores. 8-bit and 16-bit scans are timed separately (16-bit keeps its
precision end to end). The model is the shipped one when resources/weights has it; otherwise
the CPU-sized architecture with untrained weights (speed does not depend on the weight values).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.speed import shipped_or_untrained, synthetic_photo
from benchmarks.speed_inpaint import timed
from engine import api

ROOT = Path(__file__).resolve().parent.parent

SHIPPED_ARCH = "colorize_unet"
SHIPPED_KWARGS = {"base_channels": 16, "max_channels": 128}


def grey(rgb: np.ndarray) -> np.ndarray:
    """A black-and-white scan: the three channels equal."""
    mean = rgb.astype(np.float32).mean(axis=2, keepdims=True)
    return np.repeat(mean.round().astype(rgb.dtype), 3, axis=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    weights, label = shipped_or_untrained("colorize", SHIPPED_ARCH, SHIPPED_KWARGS)
    options = api.RunOptions(device="cpu", threads=args.threads, weights=weights)
    print(f"CPU threads: {args.threads}; model: {label}\n")
    print("| image | bit depth | time (s) |")
    print("|---|---|---|")
    small = grey(synthetic_photo(512, 512))
    seconds = timed(lambda: api.colorize(small, options=options), args.repeat)
    print(f"| 512×512 | 8 | {seconds:.2f} |")
    scan = grey(synthetic_photo(6000, 4000, seed=2))
    for bits, pixels in ((8, scan), (16, scan.astype(np.uint16) * np.uint16(257))):
        seconds = timed(lambda p=pixels: api.colorize(p, options=options), args.repeat)
        print(f"| 6000×4000 | {bits} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
