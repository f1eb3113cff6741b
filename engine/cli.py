"""Command line: `python -m engine denoise|inpaint|colorize INPUT... -o OUTPUT`.

Single files or whole folders. A bad file in a batch is reported on one line and skipped;
the exit code is 0 when everything was restored, 1 when some file failed, 2 for a usage
problem or when nothing can run (no model, no such device).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import api

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    mask: Path | None = None


class UsageError(Exception):
    """A problem with the command line itself, reported as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine", description="Restore photos: denoise, inpaint or colorize."
    )
    parser.add_argument("task", choices=["denoise", "inpaint", "colorize"])
    parser.add_argument("inputs", nargs="+", type=Path, help="image files and/or folders")
    parser.add_argument(
        "-o", "--output", type=Path, required=True, help="output file (one input) or folder"
    )
    parser.add_argument(
        "--mask",
        type=Path,
        help="inpaint: mask image (white = hole) or a folder of masks named like the inputs",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--tile", type=int, help="tile size in pixels (default: automatic)")
    parser.add_argument("--threads", type=int, help="CPU threads")
    parser.add_argument("--strength", type=float, default=1.0, help="0..1 (default 1)")
    parser.add_argument(
        "--noise",
        default="auto",
        choices=[k.value for k in api.NoiseKind],
        help="denoise: kind of noise (default auto)",
    )
    parser.add_argument(
        "--weights", type=Path, help="use this weight file instead of the shipped one"
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=api.DEFAULT_MAX_PIXELS / 1e6,
        help="refuse larger images (decompression-bomb guard; default %(default).0f)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _expand(inputs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(
                p for p in item.iterdir() if p.is_file() and api.is_supported_image_path(p)
            )
            if not found:
                raise UsageError(f"no supported images in folder {item}")
            files.extend(found)
        elif item.exists():
            files.append(item)
        else:
            raise UsageError(f"no such file or folder: {item}")
    return files


def plan_jobs(inputs: list[Path], output: Path, mask: Path | None, task: str) -> list[Job]:
    files = _expand(inputs)
    single = len(files) == 1 and not inputs[0].is_dir() and not output.is_dir()
    if single and not api.is_supported_image_path(output):
        raise UsageError(f"output {output} needs an image suffix (.png, .jpg, .tif, ...)")
    jobs = []
    for source in files:
        target = output if single else output / source.name
        if target.resolve() == source.resolve():
            raise UsageError(f"refusing to overwrite the input {source}; choose another output")
        jobs.append(Job(source, target, _mask_for(source, mask, task)))
    return jobs


def _mask_for(source: Path, mask: Path | None, task: str) -> Path | None:
    if task != "inpaint":
        return None
    if mask is None:
        raise UsageError("inpaint needs --mask (a mask image, white = hole, or a folder of them)")
    if mask.is_dir():
        matches = sorted(p for p in mask.iterdir() if p.stem == source.stem)
        if not matches:
            raise UsageError(f"no mask named {source.stem}.* in {mask}")
        return matches[0]
    if not mask.is_file():
        raise UsageError(f"no such mask file: {mask}")
    return mask


class ProgressBar:
    """A one-line text bar with ETA on stderr (only when stderr is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.started = time.monotonic()
        self.label = ""

    def start(self, label: str) -> None:
        self.label, self.started = label, time.monotonic()

    def __call__(self, progress: api.Progress) -> None:
        if not self.enabled:
            return
        frac = progress.fraction
        elapsed = time.monotonic() - self.started
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        bar = "#" * int(frac * 30)
        sys.stderr.write(f"\r{self.label[:30]:30} [{bar:30}] {frac:4.0%} ETA {eta:5.1f}s")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")


def _run_one(job: Job, args: argparse.Namespace, options: api.RunOptions, bar: ProgressBar) -> None:
    loaded = api.read_image(job.source, max_pixels=int(args.max_megapixels * 1e6))
    bar.start(job.source.name)
    if args.task == "denoise":
        result = api.denoise(
            loaded.pixels,
            noise=api.NoiseKind(args.noise),
            strength=args.strength,
            options=options,
            progress=bar,
        )
    elif args.task == "inpaint":
        mask = api.read_mask(
            job.mask, shape=loaded.pixels.shape[:2], max_pixels=int(args.max_megapixels * 1e6)
        )
        result = api.inpaint(loaded.pixels, mask, options=options, progress=bar)
    else:
        result = api.colorize(loaded.pixels, strength=args.strength, options=options, progress=bar)
    bar.finish()
    if loaded.meta.was_grayscale and args.task != "colorize":
        # A grey scan stays grey: the channels agree up to rounding, so their mean is exact.
        result = np.round(result.mean(axis=2)).astype(result.dtype)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    api.write_image(job.target, result, alpha=loaded.alpha, meta=loaded.meta)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = api.RunOptions(
        device=args.device, tile=args.tile, threads=args.threads, weights=args.weights
    )
    try:
        jobs = plan_jobs(args.inputs, args.output, args.mask, args.task)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    bar = ProgressBar(enabled=not args.quiet)
    failed = 0
    started = time.monotonic()
    for job in jobs:
        try:
            _run_one(job, args, options, bar)
            print(f"ok      {job.source} -> {job.target}")
        except (api.ModelUnavailable, api.DeviceUnavailable, api.InvalidRequest) as exc:
            bar.finish()
            print(f"error: {exc}", file=sys.stderr)  # the same for every file: stop now
            return EXIT_USAGE
        except api.EngineError as exc:
            bar.finish()
            failed += 1
            print(f"skipped {job.source}: {exc}", file=sys.stderr)
        except KeyboardInterrupt:
            bar.finish()
            print("interrupted; files already written are complete", file=sys.stderr)
            return EXIT_INTERRUPTED
    seconds = time.monotonic() - started
    print(f"{args.task}: {len(jobs) - failed} restored, {failed} skipped, {seconds:.1f} s")
    return EXIT_SOME_FAILED if failed else EXIT_OK
