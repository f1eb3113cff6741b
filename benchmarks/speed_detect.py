"""Damage-detection speed: 6 MP and 24 MP scans, end to end through the public API.

    .venv/bin/python -m benchmarks.speed_detect [--threads 2] [--repeat 3] [--precision auto full]
        [--model LABEL=FILE ...]

`api.detect_damage` at the default sensitivity: reading nothing, the tiled network pass(es)
and the thresholding into a bool mask, on a generated photo (`benchmarks.speed`). Issue 21's
budget: 1 s for 6 MP and 5 s for 24 MP on this 2-core CPU. ``--precision auto full`` times
the engine's default (bfloat16 convolutions where the CPU has them and the network is marked
safe for them) and float32, what most users' CPUs run. ``--model`` adds weight files beside
the shipped one — a file without ``coarse_threshold`` makes one pass, so a copy of the
shipped network exported without it shows what the coarse pass costs. Without installed
weights the shipped-size architecture with untrained weights stands in (speed does not
depend on the weight values, but the coarse pass runs only where a file asks for it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.quality_common import model_files
from benchmarks.speed import shipped_or_untrained, synthetic_photo
from benchmarks.speed_inpaint import timed
from engine import api
from engine.weights import Manifest, load_weights

SHIPPED_ARCH = "detect_unet"
SHIPPED_KWARGS = {"base_channels": 16, "deep_blocks": 2, "fine_channels": 16}
SIZES = ((3000, 2000), (6000, 4000))


def _models(specs: list[str]) -> dict[str, Path | None]:
    """Label -> weight file: the shipped detector (or an untrained stand-in) and `specs`."""
    models = model_files(argparse.Namespace(model=specs, no_shipped=True))
    weights, label = shipped_or_untrained("detect", SHIPPED_ARCH, SHIPPED_KWARGS)
    return {label: weights, **models}


def _coarse(weights: Path | None) -> bool:
    """Whether this weight file (None: the shipped one) asks for the coarse pass."""
    if weights is None:
        manifest = Manifest.load()
        file = manifest.load_entry(manifest.find("detect"))
    else:
        file = load_weights(weights)
    return file.meta.get("coarse_threshold") is not None


def _seconds(photo, options: api.RunOptions, repeat: int) -> float:
    return timed(lambda: api.detect_damage(photo, options=options), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--precision", nargs="+", default=["auto"], choices=["auto", "full"])
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=FILE")
    args = parser.parse_args()
    models = _models(args.model)
    print(f"CPU threads: {args.threads}\n")
    print("| model | passes | precision | 6 MP (3000×2000) s | 24 MP (6000×4000) s |")
    print("|---|---|---|---|---|")
    photos = [synthetic_photo(width, height, seed=3) for width, height in SIZES]
    for label, weights in models.items():
        passes = "full + half side" if _coarse(weights) else "full"
        for precision in args.precision:
            options = api.RunOptions(
                device="cpu", threads=args.threads, weights=weights, precision=precision
            )
            cells = [f"{_seconds(photo, options, args.repeat):.2f}" for photo in photos]
            print(f"| {label} | {passes} | {precision} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
