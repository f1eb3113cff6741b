"""Setting a run up: its folder (new or resumed), processes and device, data, networks,
optimisers and schedules, and a generator started from earlier weights. `Trainer` calls
these once; nothing here runs a training step."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from engine.archs import build_arch
from engine.devices import resolve_device
from training import detect_hooks, hint_hooks, real_denoise_hooks  # noqa: F401  (their HOOKS)
from training import distributed as dist_utils
from training.checkpoint import checkpoint_path, load_checkpoint
from training.config import TrainConfig
from training.data import CropDataset, build_dataset, scan_images, split_train_val
from training.errors import TrainingError
from training.losses import AdversarialLoss, GeneratorLoss, PerceptualLoss
from training.tasks import HOOKS, TaskHooks
from training.vgg import load_vgg16


def prepare_run_dir(run_dir: Path, resume: bool) -> dict | None:
    """The checkpoint to resume from, None for a new run; never overwrites a run."""
    if resume:
        return load_checkpoint(run_dir)
    if checkpoint_path(run_dir).is_file():
        raise TrainingError(
            f"{run_dir} already holds a run; add --resume to continue it or choose another --out"
        )
    return None


def place(device: str) -> tuple[dist_utils.DistInfo, torch.device]:
    """This process's place under torchrun (or alone) and its device: one GPU per rank."""
    base = resolve_device(device)
    dist = dist_utils.init_distributed(base.type)
    if base.type == "cuda":
        return dist, torch.device("cuda", dist.local_rank)
    return dist, base


def check_same_data(state: dict, data_dirs: list[str]) -> None:
    """A resumed run must read the folders it started on: others would mix validation
    images into training (the split is a function of the file list)."""
    if sorted(state.get("data_dirs", data_dirs)) != sorted(data_dirs):
        raise TrainingError(
            f"this run was trained on {state['data_dirs']}; resume it with the same --data "
            "(other folders would mix validation images into training)"
        )


@dataclass
class RunData:
    train_set: CropDataset
    val_set: CropDataset
    batches_per_epoch: int


def build_data(cfg: TrainConfig, data_dirs: list[Path], dist: dist_utils.DistInfo) -> RunData:
    scan = scan_images(list(data_dirs), min_side=cfg.min_image_side)
    if dist.is_main:
        for path, reason in scan.skipped:
            print(f"skipped {path}: {reason}")
    train, val = split_train_val(scan.paths, cfg.val_fraction, cfg.seed)
    val = val[: cfg.val_max_images]
    needed = cfg.batch_size * dist.world_size
    if len(train) < needed:
        raise TrainingError(
            f"only {len(train)} training images after the validation split; "
            f"a batch of {cfg.batch_size} on {dist.world_size} process(es) "
            f"needs at least {needed}"
        )
    common = {
        "augment": cfg.augment,
        "seed": cfg.seed,
        "noise": cfg.noise,
        "masks": cfg.masks,
        "real_noise": cfg.real_noise,
        "damage": cfg.damage,
        "hard_negatives": cfg.hard_negatives,
    }
    name = cfg.dataset or cfg.task
    return RunData(
        build_dataset(name, train, train=True, **common),
        build_dataset(name, val, train=False, **common),
        len(train) // dist.world_size // cfg.batch_size,
    )


def scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrainConfig
) -> torch.optim.lr_scheduler.LRScheduler:
    """The run's learning-rate schedule (see OptimConfig); "cosine" is stepped per update."""
    o = cfg.optim
    if o.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, o.lr_step_epochs, o.lr_gamma)
    warmup, floor = o.lr_warmup_steps, o.lr_min_factor

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        # cfg.steps is read at each step: a run resumed with other --steps re-spreads its
        # remaining decay over the new total instead of stopping half-way down the curve.
        progress = min(1.0, (step - warmup) / max(1, cfg.steps - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@dataclass
class Models:
    """The networks of a run and everything that updates them."""

    generator: nn.Module  # DistributedDataParallel-wrapped under torchrun
    critic: nn.Module
    ema: nn.Module  # never wrapped: only rank 0 validates and saves it
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    sched_g: torch.optim.lr_scheduler.LRScheduler
    sched_d: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    adversarial: AdversarialLoss
    hooks: TaskHooks


def build_models(
    cfg: TrainConfig,
    device: torch.device,
    dist: dist_utils.DistInfo,
    amp: bool,
    vgg_weights: Path | None,
    allow_random_vgg: bool,
) -> Models:
    mc, o = cfg.model, cfg.optim
    generator = build_arch(mc.generator, **mc.generator_kwargs).to(device)
    critic = build_arch(mc.discriminator, **mc.discriminator_kwargs).to(device)
    ema = copy.deepcopy(generator).eval().requires_grad_(False)
    if dist.enabled:
        ids = [device.index] if device.type == "cuda" else None
        generator = DistributedDataParallel(generator, device_ids=ids)
        critic = DistributedDataParallel(critic, device_ids=ids)
    opt_g = torch.optim.Adam(generator.parameters(), o.lr_generator, (o.beta1, o.beta2))
    opt_d = torch.optim.Adam(critic.parameters(), o.lr_discriminator, (o.beta1, o.beta2))
    perceptual = None
    if cfg.losses.needs_vgg:
        perceptual = PerceptualLoss(load_vgg16(vgg_weights, allow_random=allow_random_vgg))
        perceptual = perceptual.to(device)
    adversarial = AdversarialLoss(real_label=cfg.stability.real_label)
    return Models(
        generator=generator,
        critic=critic,
        ema=ema,
        opt_g=opt_g,
        opt_d=opt_d,
        sched_g=scheduler(opt_g, cfg),
        sched_d=scheduler(opt_d, cfg),
        scaler=torch.amp.GradScaler("cuda", enabled=amp),
        adversarial=adversarial,
        hooks=HOOKS[cfg.dataset or cfg.task](GeneratorLoss(cfg.losses, adversarial, perceptual)),
    )


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


def generator_weights(source: Path) -> tuple[str, dict, dict[str, torch.Tensor]]:
    """(arch, kwargs, float32 state dict) of a run folder's EMA generator or a weight file."""
    from engine.errors import ModelUnavailable
    from engine.weights import load_weights

    if source.is_dir():
        state = load_checkpoint(source)
        model = state["config"]["model"]
        return model["generator"], model["generator_kwargs"], state["ema"]
    try:
        weights = load_weights(source)
    except ModelUnavailable as exc:
        raise TrainingError(f"cannot start from {source}: {exc}") from exc
    return weights.arch, weights.arch_kwargs, {k: v.float() for k, v in weights.state_dict.items()}


def init_generator(models: Models, cfg: TrainConfig, source: Path) -> None:
    """Start the generator (and its EMA) from another run's EMA weights or from an
    exported weight file: fine-tuning, e.g. adding the adversarial loss to an L1 model,
    or growing a trained network deeper (`Generator.grow_from`). The critic and the
    optimisers start fresh."""
    arch, kwargs, weights = generator_weights(source)
    model, generator = cfg.model, unwrap(models.generator)
    grows_from = getattr(generator, "grows_from", ())
    if arch != model.generator and arch not in grows_from:
        raise TrainingError(
            f"{source} holds {arch} {kwargs}, but this run trains "
            f"{model.generator} {model.generator_kwargs}; set [model] to match"
        )
    if arch == model.generator and kwargs == model.generator_kwargs:
        generator.load_state_dict(weights)
    else:  # the same family at another size, started from the trained one
        try:
            generator.grow_from(weights, kwargs)
        except ValueError as exc:
            raise TrainingError(
                f"cannot start {model.generator} {model.generator_kwargs} from {source}, "
                f"which holds {kwargs}: {exc}; set [model] to match"
            ) from exc
    models.ema.load_state_dict(generator.state_dict())
