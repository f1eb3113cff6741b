"""`python -m training denoise|inpaint|colorize --data DIR... --out RUN_DIR [...]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.errors import EngineError
from training.config import TASKS, load_config
from training.data import TrainingDataError
from training.errors import TrainingError

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train a restoration GAN on folders of photos; export it with "
        "`python -m training.export RUN_DIR -o resources/weights/TASK.pt` (the last state), "
        "or RUN_DIR/checkpoints/best.pt in place of RUN_DIR (the best-validated one).",
    )
    parser.add_argument("task", choices=TASKS)
    parser.add_argument(
        "--data",
        nargs="+",
        type=Path,
        required=True,
        help="folders of training photos (JPEG/PNG); never the benchmark sets",
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, logs)")
    parser.add_argument("--config", type=Path, help="TOML file overriding the defaults")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument(
        "--init-from",
        type=Path,
        help="start the generator from a run folder or an exported weight file (fine-tuning)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--steps", type=int, help="override the config's total steps")
    parser.add_argument(
        "--vgg-weights",
        type=Path,
        help="ImageNet VGG16 state dict (torchvision format) for the perceptual/style losses",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported here so `--help` answers without loading torch.
    from training.checkpoint import best_checkpoint_path
    from training.trainer import Trainer

    try:
        config = load_config(args.task, args.config)
        if args.steps is not None:
            config.steps = args.steps
        trainer = Trainer(
            config,
            args.data,
            args.out,
            device=args.device,
            resume=args.resume,
            vgg_weights=args.vgg_weights,
            show_progress=not args.quiet,
            init_from=args.init_from,
        )
        if args.steps is not None:
            trainer.cfg.steps = args.steps  # a resumed run may be extended
        result = trainer.fit()
    except (TrainingError, TrainingDataError, EngineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted; resume with --resume from the last checkpoint", file=sys.stderr)
        return EXIT_INTERRUPTED
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in result.last_metrics.items())
    print(f"{args.task}: {result.steps} steps, checkpoint {result.checkpoint}; {metrics}")
    if result.best is not None:
        best = best_checkpoint_path(args.out)
        print(
            f"best {result.best['metric']}={result.best['value']:.4g} at step "
            f"{result.best['step']}: {best} (export: `python -m training.export {best} -o FILE`)"
        )
    return EXIT_OK
