"""The GAN training loop shared by the three tasks.

One step: the generator predicts once; the critic is updated on (real, detached fake) with
instance noise and label smoothing, unless it already dominates; then the generator is
updated on its content losses plus the critic's opinion, and its EMA copy follows.
Everything that decides the future (weights, optimisers, schedules, step, RNG) is in the
checkpoint, and the data order is a pure function of (seed, epoch), so `--resume`
continues exactly where the run stopped.
"""

from __future__ import annotations

import copy
import json
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from engine.archs import build_arch
from engine.devices import resolve_device
from training import distributed as dist_utils
from training.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from training.config import TrainConfig, config_from_dict
from training.data import build_dataset, scan_images, split_train_val
from training.errors import DivergedError, TrainingError
from training.losses import AdversarialLoss, GeneratorLoss, PerceptualLoss, decayed_sigma
from training.losses import instance_noise as add_instance_noise
from training.report import ProgressBar, RunLog, save_grid, truncate_log
from training.tasks import HOOKS, TaskHooks
from training.vgg import load_vgg16


@dataclass
class TrainResult:
    steps: int
    checkpoint: Path
    last_metrics: dict[str, float]


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(p.detach(), 1.0 - decay)
    for e, b in zip(ema.buffers(), model.buffers(), strict=True):
        e.copy_(b)


# Training batches kept to recompute the EMA generator's BatchNorm statistics (16 × 8 crops).
BATCHNORM_BATCHES = 16


@torch.no_grad()
def recalibrate_batchnorm(
    net: nn.Module, batches: Iterable[dict[str, torch.Tensor]], forward: Callable
) -> bool:
    """Recompute `net`'s BatchNorm running statistics from `batches` (an equal-weight mean).

    An EMA generator's weights are an average its live copy's statistics do not describe:
    copied over at a high learning rate they cost a colorizer 2.1 dB on Kodak24
    (SWA has the same need). Only the norm layers run in training mode, so dropout stays
    off. Returns False, changing nothing, when `net` has no BatchNorm or there is no batch.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    batches = list(batches)
    if not norms or not batches:
        return False
    modes = [(m, m.training, m.momentum) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
        m.train()
    try:
        for batch in batches:
            forward(net, batch)
    finally:
        for m, training, momentum in modes:
            m.momentum = momentum
            m.train(training)
    return True


def _scheduler(
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


def _generator_weights(source: Path) -> tuple[str, dict, dict[str, torch.Tensor]]:
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


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


class Trainer:
    def __init__(
        self,
        config: TrainConfig,
        data_dirs: list[Path],
        run_dir: Path,
        *,
        device: str = "auto",
        resume: bool = False,
        vgg_weights: Path | None = None,
        allow_random_vgg: bool = False,
        show_progress: bool = True,
        init_from: Path | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        if resume and init_from is not None:
            raise TrainingError("--init-from starts a new run; it cannot be combined with --resume")
        state = self._prepare_run_dir(resume)
        if state is not None:
            config = config_from_dict(config.task, state["config"])  # the run's own settings
        self.cfg = config
        torch.manual_seed(config.seed)
        base_device = resolve_device(device)
        self.dist = dist_utils.init_distributed(base_device.type)
        self.device = (
            torch.device("cuda", self.dist.local_rank)
            if base_device.type == "cuda"
            else base_device
        )
        self.amp = config.stability.amp and self.device.type == "cuda"
        # Resolved, so the train/validation split cannot depend on how --data was spelled.
        data_dirs = [Path(d).resolve() for d in data_dirs]
        self.data_dirs = [str(d) for d in data_dirs]
        if state is not None and sorted(state.get("data_dirs", self.data_dirs)) != sorted(
            self.data_dirs
        ):
            raise TrainingError(
                f"this run was trained on {state['data_dirs']}; resume it with the same --data "
                "(other folders would mix validation images into training)"
            )
        self._build_data(data_dirs)
        self._build_models(
            vgg_weights or (Path(config.vgg_weights) if config.vgg_weights else None),
            allow_random_vgg,
        )
        # Instance noise has its own generator, saved in the checkpoint: the global RNG is also
        # drawn by every DataLoader iterator, which would make a resumed run diverge.
        self.noise_rng = torch.Generator().manual_seed(config.seed + 17)
        if init_from is not None:
            self._init_generator(Path(init_from))
        self.step = self.epoch = self.batch_in_epoch = 0
        self.last_d_loss = math.inf
        self.last_metrics: dict[str, float] = {}
        # Kept only for a generator with BatchNorm: the others have no statistics to redo.
        has_norms = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in self.ema.modules())
        self.recent_batches: deque[dict[str, torch.Tensor]] = deque(
            maxlen=BATCHNORM_BATCHES if has_norms else 0
        )
        self._ema_calibrated_at = -1
        if state is not None:
            self._restore(state)
        if self.dist.is_main:
            if state is not None:
                truncate_log(self.run_dir, self.step)
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(
                json.dumps(self.cfg.to_dict(), indent=2) + "\n", encoding="utf-8"
            )
        self.log = RunLog(self.run_dir, enabled=self.dist.is_main)
        self.show_progress = show_progress and self.dist.is_main

    # --- set-up -----------------------------------------------------------------------

    def _prepare_run_dir(self, resume: bool) -> dict | None:
        has_checkpoint = checkpoint_path(self.run_dir).is_file()
        if resume:
            return load_checkpoint(self.run_dir)
        if has_checkpoint:
            raise TrainingError(
                f"{self.run_dir} already holds a run; add --resume to continue it "
                "or choose another --out"
            )
        return None

    def _build_data(self, data_dirs: list[Path]) -> None:
        cfg = self.cfg
        scan = scan_images(list(data_dirs), min_side=cfg.min_image_side)
        if self.dist.is_main:
            for path, reason in scan.skipped:
                print(f"skipped {path}: {reason}")
        train, val = split_train_val(scan.paths, cfg.val_fraction, cfg.seed)
        val = val[: cfg.val_max_images]
        needed = cfg.batch_size * self.dist.world_size
        if len(train) < needed:
            raise TrainingError(
                f"only {len(train)} training images after the validation split; "
                f"a batch of {cfg.batch_size} on {self.dist.world_size} process(es) "
                f"needs at least {needed}"
            )
        common = {"augment": cfg.augment, "seed": cfg.seed, "noise": cfg.noise, "masks": cfg.masks}
        self.train_set = build_dataset(cfg.task, train, train=True, **common)
        self.val_set = build_dataset(cfg.task, val, train=False, **common)
        self.batches_per_epoch = len(train) // self.dist.world_size // cfg.batch_size

    def _build_models(self, vgg_weights: Path | None, allow_random_vgg: bool) -> None:
        cfg, mc = self.cfg, self.cfg.model
        generator = build_arch(mc.generator, **mc.generator_kwargs).to(self.device)
        critic = build_arch(mc.discriminator, **mc.discriminator_kwargs).to(self.device)
        self.ema = copy.deepcopy(generator).eval().requires_grad_(False)
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            generator = DistributedDataParallel(generator, device_ids=ids)
            critic = DistributedDataParallel(critic, device_ids=ids)
        self.generator, self.critic = generator, critic
        o = cfg.optim
        self.opt_g = torch.optim.Adam(generator.parameters(), o.lr_generator, (o.beta1, o.beta2))
        self.opt_d = torch.optim.Adam(critic.parameters(), o.lr_discriminator, (o.beta1, o.beta2))
        self.sched_g = _scheduler(self.opt_g, cfg)
        self.sched_d = _scheduler(self.opt_d, cfg)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        perceptual = None
        if cfg.losses.needs_vgg:
            vgg = load_vgg16(vgg_weights, allow_random=allow_random_vgg)
            perceptual = PerceptualLoss(vgg).to(self.device)
        self.adversarial = AdversarialLoss(real_label=cfg.stability.real_label)
        self.hooks: TaskHooks = HOOKS[cfg.task](
            GeneratorLoss(cfg.losses, self.adversarial, perceptual)
        )

    def _init_generator(self, source: Path) -> None:
        """Start the generator (and its EMA) from another run's EMA weights or from an
        exported weight file: fine-tuning, e.g. adding the adversarial loss to an L1 model,
        or growing a trained network deeper (`Generator.grow_from`). The critic and the
        optimisers start fresh."""
        arch, kwargs, weights = _generator_weights(source)
        model = self.cfg.model
        if arch != model.generator:
            raise TrainingError(
                f"{source} holds {arch} {kwargs}, but this run trains "
                f"{model.generator} {model.generator_kwargs}; set [model] to match"
            )
        if kwargs == model.generator_kwargs:
            _unwrap(self.generator).load_state_dict(weights)
        else:  # the same family at another size, started from the trained one
            try:
                _unwrap(self.generator).grow_from(weights, kwargs)
            except ValueError as exc:
                raise TrainingError(
                    f"cannot start {model.generator} {model.generator_kwargs} from {source}, "
                    f"which holds {kwargs}: {exc}; set [model] to match"
                ) from exc
        self.ema.load_state_dict(_unwrap(self.generator).state_dict())

    # --- checkpoints ------------------------------------------------------------------

    def _state(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "data_dirs": self.data_dirs,
            "generator": _unwrap(self.generator).state_dict(),
            "critic": _unwrap(self.critic).state_dict(),
            "ema": self.ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "sched_d": self.sched_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "last_d_loss": self.last_d_loss,
            "last_metrics": self.last_metrics,
            "rng_cpu": torch.get_rng_state(),
            "rng_noise": self.noise_rng.get_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def _restore(self, state: dict) -> None:
        _unwrap(self.generator).load_state_dict(state["generator"])
        _unwrap(self.critic).load_state_dict(state["critic"])
        self.ema.load_state_dict(state["ema"])
        for name in ("opt_g", "opt_d", "sched_g", "sched_d"):
            getattr(self, name).load_state_dict(state[name])
        if state["scaler"] and self.amp:  # empty when the run started without AMP (CPU)
            self.scaler.load_state_dict(state["scaler"])
        if "rng_noise" in state:  # absent in checkpoints written before it existed
            self.noise_rng.set_state(state["rng_noise"])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        self.last_d_loss, self.last_metrics = state["last_d_loss"], state["last_metrics"]
        torch.set_rng_state(state["rng_cpu"])
        cuda_states = state["rng_cuda"]
        if cuda_states and torch.cuda.is_available():
            for index, rng in enumerate(cuda_states[: torch.cuda.device_count()]):
                torch.cuda.set_rng_state(rng, index)  # resuming on fewer GPUs keeps what fits

    def calibrate_ema(self) -> None:
        """Give the EMA generator the BatchNorm statistics of its own weights (once a step)."""
        if self._ema_calibrated_at == self.step:
            return

        def forward(net: nn.Module, batch: dict[str, torch.Tensor]) -> None:
            with torch.autocast(self.device.type, enabled=self.amp):
                self.hooks.generate(net, batch)

        recalibrate_batchnorm(self.ema, self.recent_batches, forward)
        self._ema_calibrated_at = self.step

    def save(self) -> Path:
        path = checkpoint_path(self.run_dir)
        if self.dist.is_main:
            self.calibrate_ema()
            save_checkpoint(self.run_dir, self._state())
        dist_utils.barrier(self.dist)
        return path

    # --- the loop ---------------------------------------------------------------------

    def fit(self) -> TrainResult:
        cfg = self.cfg
        bar = ProgressBar(cfg.steps, self.step, enabled=self.show_progress)
        try:
            while self.step < cfg.steps:
                self._run_epoch(bar)
            if self.step % cfg.val_every != 0:  # else the last step has just validated
                self.validate()
            checkpoint = self.save()
        finally:
            bar.close()
            self.log.close()
        return TrainResult(self.step, checkpoint, dict(self.last_metrics))

    def _run_epoch(self, bar: ProgressBar) -> None:
        cfg = self.cfg
        order = dist_utils.epoch_order(len(self.train_set), cfg.seed, self.epoch, self.dist)
        batches = [
            order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            for i in range(self.batches_per_epoch)
        ]
        self.train_set.set_epoch(self.epoch)
        loader = DataLoader(
            self.train_set,
            batch_sampler=batches[self.batch_in_epoch :],
            num_workers=cfg.num_workers,
        )
        for batch in loader:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            values = self.train_step(batch)
            self.recent_batches.append(batch)
            self.step += 1
            if cfg.optim.schedule != "step":
                self._step_schedules()
            self.batch_in_epoch += 1
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                self.log.write(
                    "train",
                    self.step,
                    {"epoch": self.epoch, **values, "lr": self.sched_g.get_last_lr()[0]},
                )
                bar.update(self.step, {k: values[k] for k in ("g_total", "d") if k in values})
            if self.step % cfg.val_every == 0:
                self.validate()
            if self.step % cfg.checkpoint_every == 0 and self.step < cfg.steps:
                self.save()
            if self.step >= cfg.steps:
                return
        self.epoch += 1
        self.batch_in_epoch = 0
        if cfg.optim.schedule == "step":
            self._step_schedules()

    def _step_schedules(self) -> None:
        self.sched_g.step()
        if self.cfg.losses.adversarial > 0:  # a critic that never steps has no schedule to keep
            self.sched_d.step()

    def _check_finite(self, name: str, value: torch.Tensor) -> None:
        # Every rank must agree, or the healthy ones would wait forever in the next all-reduce.
        finite = torch.isfinite(value.detach()).all().float()
        if float(dist_utils.mean_across(self.dist, finite)) < 1.0:
            raise DivergedError(
                f"training diverged at step {self.step + 1}: the {name} loss is "
                f"{float(value.detach())}; the last good checkpoint is kept at "
                f"{checkpoint_path(self.run_dir)} (lower the learning rates and --resume)"
            )

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        cfg, st = self.cfg, self.cfg.stability
        adversarial_on = cfg.losses.adversarial > 0 and self.step >= st.adversarial_warmup_steps
        with torch.autocast(self.device.type, enabled=self.amp):
            out = self.hooks.generate(self.generator, batch)
        values: dict[str, float] = {}
        if adversarial_on and self.step % st.d_every == 0:
            values.update(self._critic_step(batch, out.pred.detach()))
        fake_logits = None
        critic = _unwrap(self.critic)  # the generator step must not sync the critic's grads
        critic.requires_grad_(False)
        with torch.autocast(self.device.type, enabled=self.amp):
            if adversarial_on:
                fake_logits = critic(self.hooks.critic_input(batch, out.pred))
            loss_g, parts = self.hooks.generator_loss(batch, out, fake_logits)
        critic.requires_grad_(True)
        self._check_finite("generator", loss_g)
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self._clip(self.opt_g, self.generator)
        self.scaler.step(self.opt_g)
        self.scaler.update()
        decay = min(st.ema_decay, (1 + self.step) / (10 + self.step))
        update_ema(self.ema, _unwrap(self.generator), decay)
        values.update({f"g_{k}": v for k, v in parts.items()})
        values["g_total"] = float(loss_g.detach())
        return values

    def _critic_step(self, batch: dict[str, torch.Tensor], fake: torch.Tensor) -> dict[str, float]:
        st = self.cfg.stability
        sigma = decayed_sigma(st.d_noise_sigma, self.step, st.d_noise_decay_steps)
        with torch.autocast(self.device.type, enabled=self.amp):
            real_in = add_instance_noise(
                self.hooks.critic_input(batch, None), sigma, self.noise_rng
            )
            fake_in = add_instance_noise(
                self.hooks.critic_input(batch, fake), sigma, self.noise_rng
            )
            loss_d = self.adversarial.discriminator(self.critic(real_in), self.critic(fake_in))
        self._check_finite("discriminator", loss_d)
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss_d).backward()  # every rank runs backward, keeping DDP in step
        # Balanced updates: a critic that already wins easily is not made stronger. The
        # decision uses the loss averaged over all processes so every rank agrees.
        self.last_d_loss = float(dist_utils.mean_across(self.dist, loss_d.detach()))
        skipped = self.last_d_loss < st.d_skip_below
        if not skipped:
            self._clip(self.opt_d, self.critic)
            self.scaler.step(self.opt_d)
        return {"d": self.last_d_loss, "d_skipped": float(skipped), "d_noise": sigma}

    def _clip(self, optimizer: torch.optim.Optimizer, model: nn.Module) -> None:
        if self.cfg.optim.grad_clip > 0:
            self.scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), self.cfg.optim.grad_clip)

    # --- validation -------------------------------------------------------------------

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        if not self.dist.is_main or len(self.val_set) == 0:
            dist_utils.barrier(self.dist)
            return {}
        self.calibrate_ema()
        rows, grid = [], []
        loader = DataLoader(
            self.val_set, batch_size=self.cfg.batch_size, generator=torch.Generator()
        )
        for batch in loader:
            batch = {k: v.to(self.device) for k, v in batch.items()}
            out = self.hooks.generate(self.ema, batch)
            rows.extend(self.hooks.metrics(batch, out))
            if len(grid) < self.cfg.samples:
                shown = self.hooks.visuals(batch, out)
                for i in range(min(len(shown[0]), self.cfg.samples - len(grid))):
                    grid.append(tuple(t[i].cpu().float().numpy().transpose(1, 2, 0) for t in shown))
        self.last_metrics = {
            key: float(np.mean([r[key] for r in rows if np.isfinite(r[key])] or [np.nan]))
            for key in rows[0]
        }
        self.log.write("val", self.step, self.last_metrics)
        save_grid(self.run_dir / "samples" / f"step_{self.step:07d}.png", grid)
        dist_utils.barrier(self.dist)
        return self.last_metrics
