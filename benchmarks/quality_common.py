"""What every part of `quality.py` shares: the benchmark folder, reading a set, and the
`--model LABEL=FILE` / `--no-shipped` choice of which weight files to score."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from engine import api

BENCH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench"


def load_set(name: str, limit: int | None) -> list[np.ndarray]:
    """The first `limit` images (all when None) of a benchmark set, sorted by name."""
    folder = BENCH / name
    if not folder.is_dir():
        raise SystemExit(f"benchmark set not found: {folder} (../shared/data/bench)")
    paths = sorted(p for p in folder.iterdir() if api.is_supported_image_path(p))[:limit]
    return [api.read_image(p).pixels for p in paths]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="a weight file to score beside the shipped one (repeatable)",
    )
    parser.add_argument("--no-shipped", action="store_true", help="leave the shipped model out")


def model_files(args: argparse.Namespace) -> dict[str, Path | None]:
    """Label -> weight file to score; None is the shipped model."""
    models: dict[str, Path | None] = {} if args.no_shipped else {"shipped model": None}
    for spec in args.model:
        label, sep, file = spec.partition("=")
        if not sep or not Path(file).is_file():
            raise SystemExit(f"--model wants LABEL=FILE with an existing file, got {spec!r}")
        models[label] = Path(file)
    return models
