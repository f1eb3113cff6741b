"""`python -m engine restore`: Restore Photo on the command line (`engine.restore`), one
summary line per file saying what was done. Kept apart from `engine.cli` (which runs the
single tasks) so each stays short."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine import api
from engine.cli_jobs import OptionError

TASK = "restore"
_SINGLE_TASK_OPTIONS = {  # options of the single tasks that mean nothing to restore
    "mask": "--mask",
    "hints": "--hints",
    "weights": "--weights",
}


def add_options(parser: argparse.ArgumentParser) -> None:
    steps = ",".join(s.value for s in api.RestoreStep)
    parser.add_argument(
        "--steps",
        metavar="LIST",
        help=f"restore: the steps to run, from {steps} (default: what the analysis of each "
        "photo proposes)",
    )
    parser.add_argument(
        "--colorize",
        choices=[c.value for c in api.ColorizeChoice],
        default=api.ColorizeChoice.AUTO.value,
        help="restore: add colour to black-and-white and toned photos (auto, the default), "
        "to every photo (yes) or never (no)",
    )


def check_options(args: argparse.Namespace) -> None:
    """Refuse single-task options given to restore (and restore's given to a single task)."""
    if args.task != TASK:
        if args.steps is not None or args.colorize != api.ColorizeChoice.AUTO.value:
            raise OptionError(f"--steps and --colorize are for restore, not {args.task}")
        return
    for name, flag in _SINGLE_TASK_OPTIONS.items():
        if getattr(args, name) is not None:
            raise OptionError(f"{flag} is for the single tasks, not restore")
    if args.auto_mask or args.noise != "auto" or args.strength != 1.0:
        raise OptionError("restore sets each step itself: drop --auto-mask, --noise and --strength")
    try:
        args.restore_steps = None if args.steps is None else api.parse_steps(args.steps)
        args.restore_request = api.RestoreRequest(
            steps=args.restore_steps,
            colorize=api.ColorizeChoice(args.colorize),
            sensitivity=args.sensitivity,
        )
    except api.InvalidRequest as exc:
        raise OptionError(str(exc)) from None


def restore_one(
    source: Path, target: Path, args: argparse.Namespace, options: api.RunOptions, progress
) -> str:
    """Restore one file into `target` (keeping its alpha and metadata); the summary line."""
    loaded = api.read_image(source, max_pixels=max(1, round(args.max_megapixels * 1e6)))
    result = api.restore(
        loaded.pixels, args.restore_request, keep_steps=False, options=options, progress=progress
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    api.write_image(target, result.image, alpha=loaded.alpha, meta=loaded.meta)
    return result.summary()
