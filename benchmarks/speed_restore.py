"""Restore Photo's speed and peak memory on a 24-megapixel scan (issue 23's budget: all steps
but colorize in at most 20 s on this CPU, at most 2 GB).

    .venv/bin/python -m benchmarks.speed_restore [--megapixels 24] [--threads 2] [--precision full]

The scan is `benchmarks.speed.synthetic_photo` (gradients, edges, texture, sensor noise),
faded (each channel's black lifted and its range narrowed, so Restore Colours has work) and
scratched (`benchmarks.speed_inpaint.strokes`: a dozen long white scratches, so the fill
step has regions to fill). It is written as PNG and

    python -m engine restore SCAN.png -o OUT.png --steps detect,inpaint,denoise,colours

runs on it in a child process: the time is end to end (reading, the analysis, every step,
writing), and the peak resident memory is the child's own (its VmHWM,
`benchmarks.own_peak`). The same run through `api.restore` in this process then times each
step from its progress reports. The shipped models run (the steps without one are reported
as skipped).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.speed import photo_size, synthetic_photo
from benchmarks.speed_inpaint import strokes
from engine import api

ROOT = Path(__file__).resolve().parent.parent
STEPS = "detect,inpaint,denoise,colours"


def old_scan(width: int, height: int) -> np.ndarray:
    """The synthetic photo, faded and scratched (in place, stripe by stripe: small peaks)."""
    image = synthetic_photo(width, height)
    lift, span = np.array([40, 25, 10], np.float32), np.float32(0.75)
    for y in range(0, height, 512):
        rows = image[y : y + 512].astype(np.float32)
        image[y : y + 512] = (rows * span + lift).astype(np.uint8)
    image[strokes(height, width, 12, 900, 4, seed=5)] = 235
    return image


def run_cli(source: Path, target: Path, threads: int, precision: str) -> tuple[float, float, str]:
    """Seconds, the command's own peak RSS (MB, `benchmarks.own_peak`) and its summary."""
    peak = target.with_name("peak.txt")
    argv = [sys.executable, "-m", "benchmarks.own_peak", str(peak), "engine", "restore"]
    argv += [str(source), "-o", str(target), "--steps", STEPS, "--threads", str(threads)]
    argv += ["--precision", precision, "--quiet"]
    started = time.perf_counter()
    child = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if child.returncode != 0 or not target.exists():
        raise SystemExit(f"python -m engine restore failed:\n{child.stdout}")
    said = child.stdout.splitlines()[0].split(": ", 1)[-1] if child.stdout else ""
    return seconds, float(peak.read_text(encoding="ascii")), said


def step_times(image: np.ndarray, threads: int, precision: str) -> dict[str, float]:
    """Seconds per step of the same run through `api.restore` (from its progress reports)."""
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def seen(report: api.Progress) -> None:
        marks[report.task.removeprefix("restore: ")] = time.perf_counter() - started

    request = api.RestoreRequest(steps=api.parse_steps(STEPS))
    options = api.RunOptions(threads=threads, precision=api.Precision(precision))
    api.restore(image, request, keep_steps=False, options=options, progress=seen)
    times, before = {}, 0.0
    for step, end in marks.items():
        times[step], before = end - before, end
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--precision", choices=["auto", "full"], default="auto")
    args = parser.parse_args()
    width, height = photo_size(args.megapixels)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "scan.png", Path(folder) / "out.png"
        image = old_scan(width, height)
        api.write_image(source, image)
        del image
        seconds, peak_mb, said = run_cli(source, target, args.threads, args.precision)
        image = api.read_image(source).pixels
    flags = f"--steps {STEPS} --threads {args.threads} --precision {args.precision}"
    print(f"python -m engine restore SCAN.png -o OUT.png {flags}")
    print("\n| scan | time (s) | peak RSS (MB) | what it did |\n|---|---|---|---|")
    print(
        f"| {width}×{height} ({width * height / 1e6:.0f} MP) | {seconds:.1f} | {peak_mb:.0f} | "
        f"{said} |"
    )
    times = step_times(image, args.threads, args.precision)
    print("\nThe same through `api.restore`, seconds per step (the analysis counts as detect):\n")
    print("| " + " | ".join(times) + " | total |")
    print("|" + "---|" * (len(times) + 1))
    print("| " + " | ".join(f"{t:.1f}" for t in times.values()) + f" | {sum(times.values()):.1f} |")


if __name__ == "__main__":
    main()
