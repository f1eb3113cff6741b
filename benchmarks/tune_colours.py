"""Choosing Restore Colours' constants on the validation photos (never the benchmark's).

    .venv/bin/python -m benchmarks.tune_colours [--set validation|validation-crops]
        [--limit N] [FIELD=V1,V2 ...]
    .venv/bin/python -m benchmarks.tune_colours --natural-tilt

Ages the `quality_colours` validation photos (training photos, or their most colourful
squares; their own seed) as the benchmark does, then scores `engine.colour_restore` with
every combination of the given `ColourTuning` values (tuples as ``a/b/c``): mean PSNR on
the faded and the toned prints, and the pooled PSNR of the unfaded photos against
themselves, one line per combination.
``--natural-tilt`` measures `ColourTuning.natural_tilt` instead: the mean channel tilt of
unaged training photos *not* among the validation photos (each folder's every n-th from 0).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools

import numpy as np

from benchmarks.quality_colours import (
    KINDS,
    SETS,
    TRAIN,
    VALIDATION,
    VALIDATION_SEED,
    aged,
    photos_of,
    score,
)
from engine import api
from engine.colour_restore import (
    DEFAULT_TUNING,
    ColourTuning,
    _levels,
    _log_exponents,
    _sample,
    analyse_colours,
    apply_correction,
)


def natural_tilt() -> np.ndarray:
    """The mean per-channel log exponent (step 3) of unaged photos outside validation."""
    tilts = []
    for folder, every in VALIDATION:
        paths = sorted(p for p in (TRAIN / folder).iterdir() if api.is_supported_image_path(p))
        for path in paths[::every]:
            sample = _sample(api.read_image(path).pixels, DEFAULT_TUNING.sample_pixels)
            black, white = _levels(sample, DEFAULT_TUNING.level_percentile)
            unit = np.clip((sample - black) / (white - black), 0.0, 1.0)
            tilts.append(_log_exponents(unit, DEFAULT_TUNING.quantiles))
    return np.mean(tilts, axis=0)


def _value(text: str) -> object:
    parts = [float(p) for p in text.split("/")]
    if len(parts) > 1:
        return tuple(parts)
    return int(parts[0]) if parts[0].is_integer() and "." not in text else parts[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--set", default="validation", choices=SETS[2:])
    parser.add_argument("--natural-tilt", action="store_true")
    parser.add_argument("grid", nargs="*", metavar="FIELD=V1,V2")
    args = parser.parse_args(argv)
    if args.natural_tilt:
        print("natural tilt (R, G, B):", np.round(natural_tilt(), 3))
        return 0
    grid = {}
    for item in args.grid:
        name, _, values = item.partition("=")
        grid[name] = [_value(v) for v in values.split(",")]
    index = SETS.index(args.set)
    photos = photos_of(args.set, args.limit)
    pairs = {
        kind: [aged(p, kind, VALIDATION_SEED, index, i) for i, p in enumerate(photos)]
        for kind in KINDS
    }
    for combo in itertools.product(*grid.values()):
        tuning = dataclasses.replace(ColourTuning(), **dict(zip(grid, combo, strict=True)))

        def method(image, tuning=tuning):
            return apply_correction(image, analyse_colours(image, tuning))

        faded, toned, unfaded = (score(method, pairs[kind]) for kind in KINDS)
        print(
            dict(zip(grid, combo, strict=True)),
            f"faded {faded['psnr']:.2f} ΔE {faded['delta_e']:.2f}",
            f"toned {toned['psnr']:.2f} ΔE {toned['delta_e']:.2f}",
            f"unfaded {unfaded['pooled_psnr']:.2f} (worst {unfaded['worst_psnr']:.2f},"
            f" unchanged {unfaded['unchanged']})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
