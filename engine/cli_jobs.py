"""What the command line does with one image, per kind of task: a picture task writes a
picture; the `detect` task writes a mask PNG; `inpaint --auto-mask` detects, then fills;
`colorize --hints` reads its hint file once, then checks it against each image.

Kept apart from `engine.cli` (argument parsing, planning, reporting) so each stays short.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from engine import api
from engine.options import check_hints_inside
from engine.tasks import TaskSpec

MASK_SUFFIX = ".png"  # masks are 8-bit grey PNG: white = damage (what --mask reads back)


class OptionError(Exception):
    """Options that do not go together (a usage problem)."""


def check_options(spec: TaskSpec, args: argparse.Namespace) -> None:
    """Refuse option combinations that cannot mean anything, before any file is read."""
    if args.auto_mask and args.mask is not None:
        raise OptionError("--mask and --auto-mask exclude each other: give one of them")
    if args.auto_mask and "mask" not in spec.settings:
        raise OptionError(f"--auto-mask is for inpaint, not {spec.name}")
    if args.hints is not None and "hints" not in spec.settings:
        raise OptionError(f"--hints is for colorize, not {spec.name}")


def read_hints(args: argparse.Namespace) -> tuple[api.ColourHint, ...]:
    """The --hints file's hints (none without it), read before any image: a bad file is a
    usage problem (OptionError naming the file), whatever the images."""
    if args.hints is None:
        return ()
    try:
        return api.load_hints(args.hints)
    except api.InvalidRequest as exc:
        raise OptionError(str(exc)) from None


def hints_for(args: argparse.Namespace, source: Path, shape: tuple[int, int]) -> tuple:
    """The hints (`read_hints`), checked against this image's (H, W) as read, upright: a
    hint off it is InvalidRequest naming the hint file and the image (nothing is run)."""
    hints = args.colour_hints
    try:
        check_hints_inside(hints, shape[1], shape[0])
    except api.InvalidRequest as exc:
        raise api.InvalidRequest(f"{args.hints}: {exc} {source.name}") from None
    return hints


def uses_detector(spec: TaskSpec, args: argparse.Namespace) -> bool:
    return spec.returns_mask or bool(args.auto_mask)


def detector_options(spec: TaskSpec, options: api.RunOptions) -> api.RunOptions:
    """The options the detector runs with: `--weights` names the task's own model, so with
    --auto-mask it is the inpainter's and the detector is the installed one."""
    return options if spec.returns_mask else dataclasses.replace(options, weights=None)


def note_fallback(spec: TaskSpec, args: argparse.Namespace, options: api.RunOptions) -> None:
    """Say once, on stderr, when masks come from the classical detector (no model installed)."""
    if uses_detector(spec, args) and not api.has_model("detect", detector_options(spec, options)):
        print(
            "note: no damage-detection model is installed; using the classical scratch detector",
            file=sys.stderr,
        )


def compute(
    spec: TaskSpec,
    pixels: np.ndarray,
    request: object | None,
    args: argparse.Namespace,
    options: api.RunOptions,
    progress: api.ProgressCallback,
) -> np.ndarray:
    """The task's result for one image (`request` is None where the task makes its own)."""
    if uses_detector(spec, args):
        mask = api.detect_damage(
            pixels,
            sensitivity=args.sensitivity,
            options=detector_options(spec, options),
            progress=progress,
        )
        if spec.returns_mask:
            return mask
        return api.inpaint(pixels, mask, options=options, progress=progress)
    # The pixels read are not needed after the run: the result may take their place.
    return api.run_task(
        spec.name, pixels, request, options=options, progress=progress, in_place=True
    )


def write_result(spec: TaskSpec, target: Path, result: np.ndarray, loaded: api.LoadedImage) -> None:
    """A picture keeps the source's alpha and metadata; a mask is written as 8-bit grey,
    white = damage, the size of the upright (displayed) image."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if spec.returns_mask:
        api.write_image(target, result.astype(np.uint8) * np.uint8(255))
    else:
        api.write_image(target, result, alpha=loaded.alpha, meta=loaded.meta)
