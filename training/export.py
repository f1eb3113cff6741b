"""Bake a training run into a shipped model:

    python -m training.export RUN_DIR -o resources/weights/denoise.pt

Writes the EMA generator in the engine's self-describing format (float16 when that changes
no output by a measurable amount), records it in the folder's manifest with its sha256,
writes a model card beside it, and verifies the result by loading it back through the
engine and comparing outputs.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.archs import arch_class, build_arch
from engine.errors import ModelUnavailable
from engine.tasks import get_task
from engine.weights import Manifest, ModelEntry, load_weights, save_weights, write_manifest
from training.checkpoint import best_checkpoint_path, load_checkpoint
from training.config import TrainConfig, config_from_dict
from training.errors import TrainingError
from training.report import read_log

# An output change below half an 8-bit level (outputs span [-1, 1]) is not measurable.
HALF_TOLERANCE = 1.0 / 255.0
# What a reload through the engine may differ by (kernel rounding only).
VERIFY_TOLERANCE = 1e-4


@dataclass
class ExportResult:
    path: Path
    sha256: str
    half: bool
    max_half_error: float
    card: Path


def probe_input(net: nn.Module, task: str, seed: int = 0) -> torch.Tensor:
    """A deterministic input the generator accepts, for comparing outputs."""
    generator = torch.Generator().manual_seed(seed)
    side = max(256, int(getattr(net, "size_multiple", 1)))
    image = torch.rand(2, 3, side, side, generator=generator) * 2 - 1
    if task == "colorize":
        return image[:, :1]
    if task == "inpaint":
        mask = torch.zeros(2, 1, side, side)
        mask[:, :, side // 4 : side // 2, side // 3 : 2 * side // 3] = 1.0
        return torch.cat([image * (1 - mask), mask], dim=1)
    return image


def _outputs(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return net(x).float()


def ema_generator(state: dict, cfg: TrainConfig) -> nn.Module:
    net = build_arch(cfg.model.generator, **cfg.model.generator_kwargs)
    net.load_state_dict(state["ema"])
    return net.eval()


def _card(
    cfg: TrainConfig,
    state: dict,
    net: nn.Module,
    result: ExportResult,
    hours: float,
    chroma_gain: float | None = None,
    threshold: float | None = None,
    hint_patch: int | None = None,
    coarse_threshold: float | None = None,
) -> str:
    params = sum(p.numel() for p in net.parameters())
    gain_row = (
        f"| chroma gain | ×{chroma_gain:g} on ab at full strength (strength {1 / chroma_gain:.0%} "
        f"gives the network's own colours) |\n"
        if chroma_gain is not None
        else ""
    )
    if threshold is not None:
        gain_row += f"| threshold | {threshold:g} damage probability at sensitivity 0.5 |\n"
    if coarse_threshold is not None:
        gain_row += (
            f"| coarse threshold | {coarse_threshold:g} damage probability of the second pass "
            f"at half the side, at sensitivity 0.5 |\n"
        )
    if hint_patch is not None:
        gain_row += (
            f"| hint patch | {hint_patch}×{hint_patch} px square per colour hint, at the "
            f"network's working resolution |\n"
        )
    metrics = "\n".join(f"| {k} | {v:.4f} |" for k, v in state["last_metrics"].items())
    folders = "\n".join(f"- `{d}`" for d in state.get("data_dirs", [])) or "- (not recorded)"
    precision = "float16" if result.half else "float32"
    stored = f"{precision} (largest output change from float16: {result.max_half_error:.2e})"
    return f"""# {cfg.task} model — `{result.path.name}`

| | |
|---|---|
| architecture | `{cfg.model.generator}` {cfg.model.generator_kwargs} |
| parameters | {params:,} |
| stored as | {stored} |
| training steps | {state["step"]} ({state["epoch"]} epochs), batch {cfg.batch_size} |
| training time | {hours:.2f} h of wall clock (from the run's log) |
| crop size | {cfg.augment.crop_size} |
{gain_row}| seed | {cfg.seed} |
| sha256 | `{result.sha256}` |
| exported | {_dt.date.today().isoformat()} |

## Training data
{folders}

Sources and licences: see the data folders' README (for `shared/data/train`: BSDS432,
Sun-Hays 80 and Urban100, research use). Benchmark sets (CBSD68, Kodak24, McMaster, the
NVIDIA masks) are refused as training folders and were never used, not even for validation
(validation is a held-out {cfg.val_fraction:.0%} of the training folders).

## Validation (held-out part of the training folders, EMA generator)
| metric | value |
|---|---|
{metrics}
"""


def training_hours(run_dir: Path) -> float:
    """Wall-clock hours the run spent training, from its log's timestamps; pauses between
    a stop and a --resume (gaps over 10 minutes between records) are not counted."""
    times = sorted(r["time"] for r in read_log(run_dir, "train") if "time" in r)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return sum(g for g in gaps if g < 600) / 3600


def inference_resolution(cfg: TrainConfig) -> int:
    """The side at which the engine runs the model (``meta["resolution"]``).

    Colorization predicts at the scale it trained on (its colours depend on how much of the
    scene a crop holds). An inpainter is fully convolutional and refines a fill pixel by
    pixel, so it works at full resolution up to the engine's crop side, whatever crop size it
    trained on: measured on the benchmark, shrinking 512 px crops to the 128 px training size
    cost 0.7 dB inside r10 holes.
    """
    spec = get_task(cfg.task)
    if spec.working_side is None or spec.scale_from_training:
        return cfg.augment.crop_size
    return max(cfg.augment.crop_size, spec.working_side)


def export_run(
    run_dir: Path,
    output: Path,
    *,
    variant: str = "blind",
    allow_half: bool = True,
    notes: str = "",
    chroma_gain: float | None = None,
    threshold: float | None = None,
    hint_patch: int | None = None,
    coarse_threshold: float | None = None,
) -> ExportResult:
    state = load_checkpoint(run_dir)
    cfg = config_from_dict(state["config"]["task"], state["config"])
    _check_setting("check_chroma_gain", "--chroma-gain", chroma_gain, cfg.task)
    _check_setting("check_threshold", "--threshold", threshold, cfg.task)
    _check_setting("check_threshold", "--coarse-threshold", coarse_threshold, cfg.task)
    _check_setting("check_hint_patch", "--hint-patch", hint_patch, cfg.task)
    generator = cfg.model.generator
    if hint_patch is not None and not getattr(arch_class(generator), "takes_hints", False):
        raise TrainingError(f"--hint-patch does not apply to {generator}: it takes no hints")
    net = ema_generator(state, cfg)
    probe = probe_input(net, cfg.task)
    reference = _outputs(net, probe)
    half_net = build_arch(cfg.model.generator, **cfg.model.generator_kwargs).eval()
    half_net.load_state_dict(
        {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}
    )
    half_error = float((_outputs(half_net, probe) - reference).abs().max())
    half = allow_half and half_error <= HALF_TOLERANCE
    meta = {
        "resolution": inference_resolution(cfg),
        "steps": state["step"],
        "epochs": state["epoch"],
        "metrics": state["last_metrics"],
        "exported": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if chroma_gain is not None:
        meta["chroma_gain"] = float(chroma_gain)
    if threshold is not None:
        meta["threshold"] = float(threshold)
    if coarse_threshold is not None:
        meta["coarse_threshold"] = float(coarse_threshold)
    if hint_patch is not None:
        meta["hint_patch"] = int(hint_patch)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written and verified beside the target first: a failed export never touches the
    # model that is shipped now, nor its manifest entry.
    staged = output.with_name(f".{output.name}.staged")
    try:
        digest = save_weights(staged, net, task=cfg.task, meta=meta, half=half)
        _verify(staged, digest, half_net if half else net, probe)
        staged.replace(output)
    finally:
        staged.unlink(missing_ok=True)
    entry = ModelEntry(
        name=output.stem,
        task=cfg.task,
        variant=variant,
        file=output.name,
        sha256=digest,
        size_bytes=output.stat().st_size,
        card=output.with_suffix(".md").name,
    )
    manifest = Manifest.read(output.parent)
    others = [
        e
        for e in manifest.entries
        if e.file != entry.file and (e.task, e.variant) != (entry.task, entry.variant)
    ]
    write_manifest(output.parent, [*others, entry])
    Manifest.read(output.parent).load_entry(entry)  # the manifest vouches for the file
    result = ExportResult(output, digest, half, half_error, output.with_suffix(".md"))
    hours = training_hours(run_dir)
    card = _card(
        cfg, state, net, result, hours, chroma_gain, threshold, hint_patch, coarse_threshold
    )
    result.card.write_text(card + (f"\n{notes.strip()}\n" if notes.strip() else ""), "utf-8")
    return result


def _check_setting(checker: str, option: str, value: float | int | None, task: str) -> None:
    """A calibrated setting (training.calibrate) is checked by the task model that will
    read it from the file's meta, exactly as the engine checks it when loading."""
    if value is None:
        return
    check = getattr(get_task(task).model, checker, None)
    if check is None:
        raise TrainingError(f"{option} does not apply to {task} models")
    try:
        check(value, option)
    except ModelUnavailable as exc:
        raise TrainingError(str(exc)) from None


def _verify(path: Path, digest: str, expected_net: nn.Module, probe: torch.Tensor) -> None:
    """Load the file the way the engine does and compare its outputs with the source."""
    rebuilt = load_weights(path, expected_sha256=digest).build()
    difference = float((_outputs(rebuilt, probe) - _outputs(expected_net, probe)).abs().max())
    if difference > VERIFY_TOLERANCE:
        raise TrainingError(
            f"export check failed: the weights reloaded through the engine differ by "
            f"{difference:.3g}; nothing was written"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__)
    parser.add_argument("run_dir", type=Path, help="run folder (its last state) or a checkpoint")
    parser.add_argument(
        "--best",
        action="store_true",
        help="export the run's best-validated checkpoint (checkpoints/best.pt)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="weight file to write, e.g. resources/weights/denoise.pt",
    )
    parser.add_argument(
        "--variant",
        default="blind",
        help="manifest variant (denoise: blind, gaussian, salt_and_pepper, ...)",
    )
    parser.add_argument("--fp32", action="store_true", help="never store float16")
    parser.add_argument(
        "--notes",
        type=Path,
        help="Markdown appended to the model card (where it trained, benchmark tables, status)",
    )
    parser.add_argument(
        "--chroma-gain",
        type=float,
        metavar="K",
        help="colorize only: multiply the predicted ab by K at full strength (vividness)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        help="detect only: the damage probability marked at sensitivity 0.5 (training.calibrate)",
    )
    parser.add_argument(
        "--coarse-threshold",
        type=float,
        metavar="P",
        help="detect only: the same for a second pass at half the side (training.calibrate; "
        "without it the detector makes one pass)",
    )
    parser.add_argument(
        "--hint-patch",
        type=int,
        metavar="P",
        help="colorize only: the odd side (1-9 px at the network's resolution) of the square "
        "each colour hint fills (training.calibrate colorize-hints)",
    )
    args = parser.parse_args(argv)
    try:
        notes = args.notes.read_text("utf-8") if args.notes else ""
    except OSError as exc:
        print(f"error: cannot read --notes {args.notes}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        source = best_checkpoint_path(args.run_dir) if args.best else args.run_dir
        result = export_run(
            source,
            args.output,
            variant=args.variant,
            allow_half=not args.fp32,
            notes=notes,
            chroma_gain=args.chroma_gain,
            threshold=args.threshold,
            hint_patch=args.hint_patch,
            coarse_threshold=args.coarse_threshold,
        )
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    precision = "float16" if result.half else "float32"
    print(
        f"wrote {result.path} ({precision}, {result.path.stat().st_size / 2**20:.1f} MB, "
        f"sha256 {result.sha256[:12]}…), card {result.card.name}; verified through the engine"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
