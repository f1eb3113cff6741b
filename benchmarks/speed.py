"""Denoising speed and peak memory on a 24-megapixel photo, beside OpenCV's NL-means.

    .venv/bin/python -m benchmarks.speed [--sizes 6000x4000 3000x2000] [--tile N]
        [--precision auto full]
    .venv/bin/python -m benchmarks.speed --megapixels 24 100 [--threads 1]

`--megapixels` measures the command line end to end instead: a generated photo of that
many megapixels (3:2) is written as PNG, and `python -m engine denoise IN -o OUT.png` runs
on it in a child process whose own peak resident memory (its VmHWM, `benchmarks.own_peak`:
`os.wait4`'s ru_maxrss would include this process's peak) is reported:
reading, the run (its result written into the input's rows) and the streamed PNG encoding.

Each measurement runs in its own child process so its peak resident memory (VmHWM) is
its own. The denoiser is the shipped one when resources/weights has it; otherwise the
shipped-size architecture with untrained weights (speed and memory do not depend on the
weight values). OpenCV's fastNlMeansDenoisingColored runs on the same image in the same
run as the reference for the speed ratio. `--precision auto full` measures the engine twice:
with its default (bfloat16 convolutions on a CPU that has them natively) and in float32, the
speed of a CPU without them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.own_peak import own_peak_mb

ROOT = Path(__file__).resolve().parent.parent

# The CPU-sized denoiser we ship, used when no trained weights are installed yet.
SHIPPED_ARCH = "denoise_resunet"
SHIPPED_DENOISER = {"base_channels": 24, "blocks": 3, "outer_blocks": 2}


def synthetic_photo(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A deterministic 'photo': smooth sky-like gradients, edges, texture and sensor noise.

    Built in stripes so the benchmark's own temporaries do not inflate the peak memory
    that is meant to be the engine's.
    """
    rng = np.random.default_rng(seed)
    image = np.empty((height, width, 3), np.uint8)
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    for y0 in range(0, height, 256):
        rows = min(256, height - y0)
        y = np.linspace(y0 / height, (y0 + rows) / height, rows, dtype=np.float32)[:, None]
        for c, phase in enumerate((0.0, 1.3, 2.6)):
            base = 0.5 + 0.25 * np.sin(6 * x + phase) * np.cos(4 * y) + 0.2 * (x > 0.5) * (y > 0.4)
            noise = rng.standard_normal((rows, width), dtype=np.float32) * 0.06
            image[y0 : y0 + rows, :, c] = np.clip((base + noise) * 255, 0, 255).astype(np.uint8)
    return image


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def shipped_or_untrained(task: str, arch: str, kwargs: dict) -> tuple[Path | None, str]:
    """(weights to pass, label): None for the shipped model of `task` when resources/weights
    has one, else a temporary file of `arch` with untrained weights (speed and memory do not
    depend on the weight values)."""
    from engine import api
    from engine.archs import build_arch
    from engine.weights import Manifest, save_weights

    try:
        Manifest.load().find(task)
        return None, "shipped weights"
    except api.ModelUnavailable:
        tmp = Path(tempfile.mkdtemp()) / f"{task}.pt"
        save_weights(tmp, build_arch(arch, **kwargs), task=task)
        return tmp, f"{arch} {kwargs} (untrained)"


def child_engine(width: int, height: int, tile: int | None, threads: int, precision: str) -> dict:
    from engine import api

    image = synthetic_photo(width, height)
    weights, label = shipped_or_untrained("denoise", SHIPPED_ARCH, SHIPPED_DENOISER)
    options = api.RunOptions(
        device="cpu",
        tile=tile,
        threads=threads,
        weights=weights,
        precision=api.Precision(precision),
    )
    if options.precision is api.Precision.FULL:
        label += ", float32"
    tiles = []
    baseline = _rss_mb()
    started = time.perf_counter()
    result = api.denoise(image, options=options, progress=tiles.append)
    seconds = time.perf_counter() - started
    assert result.shape == image.shape
    return {
        "method": f"engine denoise ({label})",
        "seconds": seconds,
        "mp_per_s": width * height / 1e6 / seconds,
        "peak_rss_mb": own_peak_mb(),
        "baseline_mb": baseline,
        "buffers_mb": 2 * image.nbytes / 2**20,
        "tiles": tiles[-1].total,
        "tile": tiles[-1].tile_size,
    }


def child_opencv(width: int, height: int, threads: int) -> dict:
    import cv2

    cv2.setNumThreads(threads)
    image = synthetic_photo(width, height)
    baseline = _rss_mb()
    started = time.perf_counter()
    result = cv2.fastNlMeansDenoisingColored(image, None, 10, 10, 7, 21)
    seconds = time.perf_counter() - started
    assert result.shape == image.shape
    return {
        "method": "OpenCV fastNlMeansDenoisingColored (h=10, 7, 21)",
        "seconds": seconds,
        "mp_per_s": width * height / 1e6 / seconds,
        "peak_rss_mb": own_peak_mb(),
        "baseline_mb": baseline,
        "buffers_mb": 2 * image.nbytes / 2**20,
        "tiles": 0,
        "tile": 0,
    }


def _in_child(args: list[str], flags: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.speed", *flags, "--child", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def photo_size(megapixels: float) -> tuple[int, int]:
    """Width and height (3:2) of a photo of about `megapixels`."""
    height = max(2, round((megapixels * 1e6 / 1.5) ** 0.5))
    return round(height * 1.5), height


def cli_peak(megapixels: float, threads: int, tile: int | None) -> dict:
    """`python -m engine denoise` on a generated PNG: seconds and the child's peak RSS."""
    from engine import api

    width, height = photo_size(megapixels)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "scan.png", Path(folder) / "out.png"
        image = synthetic_photo(width, height)
        api.write_image(source, image)
        del image
        peak = Path(folder) / "peak.txt"
        argv = [sys.executable, "-m", "benchmarks.own_peak", str(peak), "engine", "denoise"]
        argv += [str(source), "-o", str(target), "--threads", str(threads), "--quiet"]
        argv += ["--tile", str(tile)] if tile else []
        started = time.perf_counter()
        status = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        seconds = time.perf_counter() - started
        if status.returncode != 0 or not target.exists():
            raise SystemExit(f"python -m engine denoise failed on {width}x{height}")
        peak_mb = float(peak.read_text(encoding="ascii"))
    return {
        "size": f"{width}×{height}",
        "megapixels": width * height / 1e6,
        "seconds": seconds,
        "peak_rss_mb": peak_mb,
    }


def report_cli(megapixels: list[float], threads: int, tile: int | None) -> None:
    rows = [cli_peak(mp, threads, tile) for mp in megapixels]
    print(f"python -m engine denoise IN.png -o OUT.png --threads {threads}\n")
    print("| image | megapixels | time (s) | peak RSS (MB) | input as 8-bit RGB (MB) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['size']} | {r['megapixels']:.1f} | {r['seconds']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['megapixels'] * 3:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["6000x4000"])
    parser.add_argument("--tile", type=int, default=None, help="default: the engine's automatic")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-opencv", action="store_true")
    parser.add_argument(
        "--precision",
        nargs="+",
        default=["auto"],
        choices=["auto", "full"],
        help="the engine's precision(s): auto (bfloat16 on CPUs with it natively), full",
    )
    parser.add_argument(
        "--megapixels",
        nargs="+",
        type=float,
        help="measure `python -m engine denoise` end to end on photos of these sizes",
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("KIND", "W", "H", "TILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        kind, w, h, tile = args.child
        tile_arg = int(tile) or None
        if kind == "engine":
            row = child_engine(int(w), int(h), tile_arg, args.threads, args.precision[0])
        else:
            row = child_opencv(int(w), int(h), args.threads)
        print(json.dumps(row))
        return
    if args.megapixels:
        report_cli(args.megapixels, args.threads, args.tile)
        return
    rows = []
    for size in args.sizes:
        w, h = (int(v) for v in size.lower().split("x"))
        threads = ["--threads", str(args.threads)]
        for precision in args.precision:
            engine = ["engine", str(w), str(h), str(args.tile or 0)]
            rows.append((size, _in_child(engine, [*threads, "--precision", precision])))
        if not args.skip_opencv:
            rows.append((size, _in_child(["opencv", str(w), str(h), "0"], threads)))
    from engine.devices import cpu_has_native_bfloat16

    bf16 = "yes" if cpu_has_native_bfloat16() else "no"
    print(f"CPU threads: {args.threads}; native bfloat16 (AVX-512 BF16 or AMX): {bf16}\n")
    print(
        "| image | method | tile | time (s) | MP/s | peak RSS (MB) | RSS before the call (MB) "
        "| input+output buffers (MB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, r in rows:
        tile = f"{r['tile']} ({r['tiles']} tiles)" if r["tiles"] else "-"
        print(
            f"| {size} | {r['method']} | {tile} | {r['seconds']:.1f} | {r['mp_per_s']:.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r['baseline_mb']:.0f} | {r['buffers_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
