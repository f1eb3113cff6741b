"""Command line: `python -m engine TASK INPUT... [-o OUTPUT]` for every registered task.

Single files or whole folders. `detect` writes a mask PNG per image (white = damage);
`inpaint --auto-mask` detects the damage, then fills it (`engine.cli_jobs`); `colorize
--hints FILE` takes colours pinned on the photo (`engine.hint_file`). A bad file in
a batch is reported on one line and skipped; the exit code is 0 when everything was
restored, 1 when some file failed, 2 for a usage problem or when nothing can run (no model,
no such device).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from engine import api, cli_jobs, cli_restore
from engine.io import SUPPORTED_WRITE_SUFFIXES
from engine.options import MAX_MEGAPIXELS, MAX_TILE, MIN_TILE, thread_limit
from engine.tasks import TaskSpec, get_task, task_names

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    mask: Path | None = None
    problem: str | None = None  # why this one file cannot be processed (reported, skipped)


class UsageError(Exception):
    """A problem with the command line itself, reported as one line."""


def _number(kind: type, high: float, unit: str = ""):
    """An argparse type: a number greater than 0 and at most `high` (the option's range is
    named in the error: an unchecked --threads 20000 crashed torch's thread pool)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not 0 < value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(
                f"must be greater than 0 and at most {high:g}{unit}, got {text}"
            )
        return value

    return parse


def _tile_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not MIN_TILE <= value <= MAX_TILE:
        raise argparse.ArgumentTypeError(f"must be {MIN_TILE} to {MAX_TILE} pixels, got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem on one line (its default prints the whole
    usage first), exit status 2 as before."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m engine",
        description="Restore photos: denoise, inpaint or colorize; detect damage (a mask); "
        "restore: all the steps an old scan needs, as the analysis of each proposes.",
    )
    parser.add_argument("task", choices=(*task_names(), cli_restore.TASK))
    parser.add_argument("inputs", nargs="+", type=Path, help="image files and/or folders")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output file (one input) or folder; default for one file: NAME-restored.EXT "
        "beside it (detect: NAME-mask.png)",
    )
    parser.add_argument(
        "--mask",
        type=Path,
        help="inpaint: mask image (white = hole) or a folder of masks named like the inputs",
    )
    parser.add_argument(
        "--hints",
        type=Path,
        metavar="HINTS.json",
        help='colorize: colours pinned on the photo, a JSON list like [{"x": 120, "y": 80, '
        '"rgb": [200, 150, 120]}] (pixels of the input, x right, y down; rgb 0-255)',
    )
    parser.add_argument(
        "--auto-mask",
        action="store_true",
        help="inpaint: detect the damage (cracks, scratches, dust, tears) and fill it",
    )
    parser.add_argument(
        "--sensitivity",
        type=float,
        default=0.5,
        help="detect, inpaint --auto-mask: 0..1, higher marks fainter damage (default 0.5)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument(
        "--tile",
        type=_tile_size,
        help=f"tile size, {MIN_TILE}..{MAX_TILE} pixels (default: from free memory)",
    )
    parser.add_argument(
        "--threads",
        type=_number(int, thread_limit(), " (the CPU threads here)"),
        help=f"CPU threads, 1..{thread_limit()} (default: torch's choice)",
    )
    parser.add_argument(
        "--precision",
        choices=[p.value for p in api.Precision],
        default=api.Precision.AUTO.value,
        help="auto: reduced precision where native and harmless (default); full: float32",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="denoise 0..2 (1 = the level the model finds; below keeps grain, above smooths "
        "more), colorize 0..1; default 1",
    )
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
        type=_number(float, MAX_MEGAPIXELS),
        default=api.DEFAULT_MAX_PIXELS / 1e6,
        help="refuse larger images (decompression-bomb guard; default %(default).0f, "
        f"at most {MAX_MEGAPIXELS:g})",
    )
    cli_restore.add_options(parser)
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


def _writable_suffix(source: Path) -> str:
    """The input's own suffix where it can be written, else .png (a GIF is only read)."""
    return source.suffix if source.suffix.lower() in SUPPORTED_WRITE_SUFFIXES else ".png"


def default_output(source: Path, tag: str = "restored", suffix: str | None = None) -> Path:
    """NAME-restored.EXT beside `source` (PNG where EXT cannot be written; `tag` and
    `suffix` for other results: NAME-mask.png), never an existing file: NAME-restored-2.EXT
    and so on."""
    if suffix is None:
        suffix = _writable_suffix(source)
    candidate = source.with_name(f"{source.stem}-{tag}{suffix}")
    number = 2
    while candidate.exists():
        candidate = source.with_name(f"{source.stem}-{tag}-{number}{suffix}")
        number += 1
    return candidate


def plan_jobs(
    inputs: list[Path],
    output: Path | None,
    mask: Path | None,
    needs_mask: bool,
    *,
    writes_mask: bool = False,
) -> list[Job]:
    """One job per input image. `writes_mask`: the results are mask PNGs (`detect`), named
    NAME-mask.png beside a single input, NAME.png in an output folder (what `--mask FOLDER`
    reads back)."""
    files = _expand(inputs)
    if output is None:
        if len(files) != 1 or inputs[0].is_dir():
            raise UsageError("several images are restored, so -o must name an output folder")
        output = (
            default_output(files[0], "mask", cli_jobs.MASK_SUFFIX)
            if writes_mask
            else default_output(files[0])
        )
    single = len(files) == 1 and not inputs[0].is_dir() and not output.is_dir()
    if single and not api.is_supported_image_path(output):
        raise UsageError(f"output {output} needs an image suffix (.png, .jpg, .tif, ...)")
    if single and writes_mask and output.suffix.lower() != cli_jobs.MASK_SUFFIX:
        raise UsageError(f"masks are written as PNG: -o {output} must end in .png")
    if not single and api.is_supported_image_path(output):
        raise UsageError(f"several images are restored, so -o must be a folder, not {output}")
    if needs_mask and mask is None:
        raise UsageError("inpaint needs --mask (a mask image, white = hole, or a folder of them)")
    if mask is not None and not mask.exists():
        raise UsageError(f"no such mask file or folder: {mask}")
    jobs, claimed = [], {}
    for source in files:
        name = source.stem + (cli_jobs.MASK_SUFFIX if writes_mask else _writable_suffix(source))
        target = output if single else output / name
        if target.resolve() == source.resolve():
            raise UsageError(f"refusing to overwrite the input {source}; choose another output")
        if target in claimed:
            raise UsageError(f"{claimed[target]} and {source} would both be written to {target}")
        claimed[target] = source
        found, problem = _mask_for(source, mask) if needs_mask else (None, None)
        jobs.append(Job(source, target, found, problem))
    return jobs


def _mask_for(source: Path, mask: Path) -> tuple[Path | None, str | None]:
    """The mask for `source`: the file itself, or the image named like it in a folder."""
    if not mask.is_dir():
        return mask, None
    matches = sorted(
        p
        for p in mask.iterdir()
        if p.stem == source.stem and p.is_file() and api.is_supported_image_path(p)
    )
    if not matches:
        return None, f"no mask named {source.stem}.png (or another image type) in {mask}"
    return matches[0], None


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


def _pixel_limit(args: argparse.Namespace) -> int:
    return max(1, round(args.max_megapixels * 1e6))  # --max-megapixels 1e-9 means one pixel


def _request(spec: TaskSpec, job: Job, args: argparse.Namespace, shape: tuple[int, int]):
    """The task's request from the options of the same names (and the job's mask file)."""
    values = {"strength": args.strength, "noise": args.noise}
    if "hints" in spec.settings:
        values["hints"] = cli_jobs.hints_for(args, job.source, shape)
    if "mask" in spec.settings:
        values["mask"] = api.read_mask(job.mask, shape=shape, max_pixels=_pixel_limit(args))
    return spec.request(**{name: values[name] for name in spec.settings if name in values})


def _run_one(job: Job, args: argparse.Namespace, options: api.RunOptions, bar: ProgressBar) -> str:
    """Run the job; what to add to its 'ok' line."""
    bar.start(job.source.name)
    if args.task == cli_restore.TASK:
        summary = cli_restore.restore_one(job.source, job.target, args, options, bar)
        bar.finish()
        return f": {summary}"
    spec = get_task(args.task)
    loaded = api.read_image(job.source, max_pixels=_pixel_limit(args))
    own = cli_jobs.uses_detector(spec, args)  # the detector makes its request (and the mask)
    request = None if own else _request(spec, job, args, loaded.pixels.shape[:2])
    result = cli_jobs.compute(spec, loaded.pixels, request, args, options, bar)
    bar.finish()
    cli_jobs.write_result(spec, job.target, result, loaded)
    return ""


def _reason(exc: BaseException, source: Path) -> str:
    """The error's message without the file name it starts with (the line names it once)."""
    text = str(exc)
    for prefix in (f"{source}: ", f"{source.name}: ", f'"{source}": ', f'"{source.name}": '):
        text = text.removeprefix(prefix)
    return text


def _option_hint(exc: BaseException) -> str:
    """The option that moves the limit a refusal names."""
    if isinstance(exc, api.ImageTooLarge):
        return " (--max-megapixels sets the limit)"
    if isinstance(exc, api.NotEnoughMemory) and exc.setting == "tile":
        return " (--tile sets the tile size)"
    return ""


def _show_note(message: Warning | str, *_where: object, **_how: object) -> None:
    """A warning as one line of its own (Python's default adds its source path and line)."""
    print(f"note: {' '.join(str(message).split())[:300]}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = api.RunOptions(
        device=args.device,
        tile=args.tile,
        threads=args.threads,
        weights=args.weights,
        precision=api.Precision(args.precision),
    )
    spec = None if args.task == cli_restore.TASK else get_task(args.task)
    try:
        cli_restore.check_options(args)
        if spec is not None:
            cli_jobs.check_options(spec, args)
        args.colour_hints = cli_jobs.read_hints(args)  # once, before any image is read
        needs_mask = spec is not None and "mask" in spec.settings and not args.auto_mask
        writes_mask = spec is not None and spec.returns_mask
        jobs = plan_jobs(args.inputs, args.output, args.mask, needs_mask, writes_mask=writes_mask)
    except (UsageError, cli_jobs.OptionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with warnings.catch_warnings():
        warnings.showwarning = _show_note
        if spec is not None:
            cli_jobs.note_fallback(spec, args, options)
        return _run_all(jobs, args, options)


def _run_all(jobs: list[Job], args: argparse.Namespace, options: api.RunOptions) -> int:
    bar = ProgressBar(enabled=not args.quiet)
    failed = 0
    started = time.monotonic()
    for job in jobs:
        if job.problem is not None:
            failed += 1
            print(f"skipped {job.source}: {job.problem}", file=sys.stderr)
            continue
        try:
            said = _run_one(job, args, options, bar)
            print(f"ok      {job.source} -> {job.target}{said}")
        except (api.ModelUnavailable, api.DeviceUnavailable, api.InvalidRequest) as exc:
            bar.finish()
            print(f"error: {exc}", file=sys.stderr)  # the same for every file: stop now
            return EXIT_USAGE
        except (api.EngineError, OSError) as exc:
            bar.finish()
            failed += 1
            reason = _reason(exc, job.source) + _option_hint(exc)
            print(f"skipped {job.source}: {reason}", file=sys.stderr)
        except KeyboardInterrupt:
            bar.finish()
            print("interrupted; files already written are complete", file=sys.stderr)
            return EXIT_INTERRUPTED
    seconds = time.monotonic() - started
    # A detector writes masks: "1 restored" would misname what the user got.
    masks = args.task in task_names() and get_task(args.task).returns_mask  # not "restore"
    done = "masks written" if masks else "restored"
    print(f"{args.task}: {len(jobs) - failed} {done}, {failed} skipped, {seconds:.1f} s")
    return EXIT_SOME_FAILED if failed else EXIT_OK
