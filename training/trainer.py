"""The GAN training loop shared by the three tasks.

One step: the generator predicts once; the critic is updated on (real, detached fake) with
instance noise and label smoothing, unless it already dominates; then the generator is
updated on its content losses plus the critic's opinion, and its EMA copy follows.
Everything that decides the future (weights, optimisers, schedules, step, RNG) is in the
checkpoint, and the data order is a pure function of (seed, epoch), so `--resume`
continues exactly where the run stopped. Validation runs the EMA generator through the
engine (`training.validation`), and the best-scoring state is kept beside the last.

Set-up is in `training.builder`, the EMA in `training.ema`.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from training import builder
from training import distributed as dist_utils
from training.checkpoint import (
    BEST_NAME,
    CHECKPOINT_NAME,
    best_checkpoint_path,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)
from training.config import TrainConfig, config_from_dict
from training.ema import BATCHNORM_BATCHES, calibrate, ema_decay, has_batchnorm, update_ema
from training.errors import DivergedError, TrainingError
from training.export import inference_resolution
from training.losses import decayed_sigma
from training.losses import instance_noise as add_instance_noise
from training.report import ProgressBar, RunLog, save_grid, truncate_log
from training.tasks import Outputs
from training.validation import primary_metric, validate_generator

__all__ = ["TrainResult", "Trainer"]

Batch = dict[str, torch.Tensor]


@dataclass
class TrainResult:
    steps: int
    checkpoint: Path
    last_metrics: dict[str, float]
    best: dict | None = None  # {"metric", "value", "step"} of best.pt, None before validating


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
        state = builder.prepare_run_dir(self.run_dir, resume)
        if state is not None:
            config = config_from_dict(config.task, state["config"])  # the run's own settings
        self.cfg = config
        torch.manual_seed(config.seed)
        self.dist, self.device = builder.place(device)
        self.amp = config.stability.amp and self.device.type == "cuda"
        # Resolved, so the train/validation split cannot depend on how --data was spelled.
        resolved = [Path(d).resolve() for d in data_dirs]
        self.data_dirs = [str(d) for d in resolved]
        if state is not None:
            builder.check_same_data(state, self.data_dirs)
        data = builder.build_data(config, resolved, self.dist)
        self.train_set, self.val_set = data.train_set, data.val_set
        self.batches_per_epoch = data.batches_per_epoch
        vgg = vgg_weights or (Path(config.vgg_weights) if config.vgg_weights else None)
        self._adopt(
            builder.build_models(config, self.device, self.dist, self.amp, vgg, allow_random_vgg)
        )
        # Instance noise has its own generator, saved in the checkpoint: the global RNG is also
        # drawn by every DataLoader iterator, which would make a resumed run diverge.
        self.noise_rng = torch.Generator().manual_seed(config.seed + 17)
        if init_from is not None:
            builder.init_generator(self.models, config, Path(init_from))
        self.step = self.epoch = self.batch_in_epoch = 0
        self.last_d_loss = math.inf
        self.last_metrics: dict[str, float] = {}
        self.best: dict | None = None  # {"metric", "value", "step"} of the best validation
        # Kept only for a generator with BatchNorm: the others have no statistics to redo.
        self.recent_batches: deque[Batch] = deque(
            maxlen=BATCHNORM_BATCHES if has_batchnorm(self.ema) else 0
        )
        self._ema_calibrated_at = -1
        if state is not None:
            self._restore(state)
        self._open_run_dir(resumed=state is not None)
        self.log = RunLog(self.run_dir, enabled=self.dist.is_main)
        self.show_progress = show_progress and self.dist.is_main

    def _adopt(self, models: builder.Models) -> None:
        """Keep the networks as attributes: the loop, the tests and callers use them by name."""
        self.models = models
        self.generator, self.critic, self.ema = models.generator, models.critic, models.ema
        self.opt_g, self.opt_d = models.opt_g, models.opt_d
        self.sched_g, self.sched_d = models.sched_g, models.sched_d
        self.scaler, self.adversarial, self.hooks = models.scaler, models.adversarial, models.hooks

    def _open_run_dir(self, resumed: bool) -> None:
        if not self.dist.is_main:
            return
        if resumed:
            truncate_log(self.run_dir, self.step)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(
            json.dumps(self.cfg.to_dict(), indent=2) + "\n", encoding="utf-8"
        )

    # --- checkpoints ------------------------------------------------------------------

    def _state(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "data_dirs": self.data_dirs,
            "generator": builder.unwrap(self.generator).state_dict(),
            "critic": builder.unwrap(self.critic).state_dict(),
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
            "best": self.best,
            "rng_cpu": torch.get_rng_state(),
            "rng_noise": self.noise_rng.get_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }

    def _restore(self, state: dict) -> None:
        builder.unwrap(self.generator).load_state_dict(state["generator"])
        builder.unwrap(self.critic).load_state_dict(state["critic"])
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
        self.best = state.get("best")  # absent before best.pt existed: the next one is best
        best_file = best_checkpoint_path(self.run_dir)
        if best_file.is_file():
            # best.pt may be newer than last.pt (validated, then killed before the next save):
            # its own score is the one to beat, or a worse state would overwrite it.
            self.best = load_checkpoint(best_file).get("best") or self.best
        torch.set_rng_state(state["rng_cpu"])
        cuda_states = state["rng_cuda"]
        if cuda_states and torch.cuda.is_available():
            for index, rng in enumerate(cuda_states[: torch.cuda.device_count()]):
                torch.cuda.set_rng_state(rng, index)  # resuming on fewer GPUs keeps what fits

    def calibrate_ema(self) -> None:
        """Give the EMA generator the BatchNorm statistics of its own weights (once a step)."""
        if self._ema_calibrated_at == self.step:
            return
        calibrate(self.ema, self.recent_batches, self.hooks, self.device, self.amp)
        self._ema_calibrated_at = self.step

    def save(self, name: str = CHECKPOINT_NAME) -> Path:
        path = checkpoint_path(self.run_dir, name)
        if self.dist.is_main:
            self.calibrate_ema()
            save_checkpoint(self.run_dir, self._state(), name=name)
        dist_utils.barrier(self.dist)
        return path

    def _keep_if_best(self) -> None:
        """Write best.pt when this validation beats every earlier one (main process only).
        A NaN score never wins; on a tie the earlier state is kept."""
        metric = primary_metric(self.cfg.task)
        value = self.last_metrics.get(metric, math.nan)
        if not math.isfinite(value) or (self.best is not None and value <= self.best["value"]):
            return
        self.best = {"metric": metric, "value": value, "step": self.step}
        save_checkpoint(self.run_dir, self._state(), name=BEST_NAME)

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
        return TrainResult(self.step, checkpoint, dict(self.last_metrics), self.best)

    def _epoch_loader(self) -> DataLoader:
        """This epoch's remaining batches, in the order (seed, epoch) fixes."""
        cfg = self.cfg
        order = dist_utils.epoch_order(len(self.train_set), cfg.seed, self.epoch, self.dist)
        batches = [
            order[i * cfg.batch_size : (i + 1) * cfg.batch_size]
            for i in range(self.batches_per_epoch)
        ]
        self.train_set.set_epoch(self.epoch)
        return DataLoader(
            self.train_set,
            batch_sampler=batches[self.batch_in_epoch :],
            num_workers=cfg.num_workers,
        )

    def _run_epoch(self, bar: ProgressBar) -> None:
        cfg = self.cfg
        for batch in self._epoch_loader():
            batch = {k: v.to(self.device) for k, v in batch.items()}
            values = self.train_step(batch)
            self.recent_batches.append(batch)
            self.step += 1
            if cfg.optim.schedule != "step":
                self._step_schedules()
            self.batch_in_epoch += 1
            if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                lr = self.sched_g.get_last_lr()[0]
                self.log.write("train", self.step, {"epoch": self.epoch, **values, "lr": lr})
                bar.update(self.step, {k: values[k] for k in ("g_total", "d") if k in values})
            if self.step % cfg.val_every == 0:
                self.validate()
            if self.step % cfg.checkpoint_every == 0 and self.step < cfg.steps:
                self.save()
            if cfg.keep_every and self.step % cfg.keep_every == 0:
                self.save(name=f"step_{self.step:07d}.pt")
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

    def train_step(self, batch: Batch) -> dict[str, float]:
        cfg, st = self.cfg, self.cfg.stability
        adversarial_on = cfg.losses.adversarial > 0 and self.step >= st.adversarial_warmup_steps
        with torch.autocast(self.device.type, enabled=self.amp):
            out = self.hooks.generate(self.generator, batch)
        values: dict[str, float] = {}
        if adversarial_on and self.step % st.d_every == 0:
            values.update(self._critic_step(batch, out.pred.detach()))
        fake_logits = None
        critic = builder.unwrap(self.critic)  # the generator step must not sync its grads
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
        update_ema(self.ema, builder.unwrap(self.generator), ema_decay(st.ema_decay, self.step))
        values.update({f"g_{k}": v for k, v in parts.items()})
        values["g_total"] = float(loss_g.detach())
        return values

    def _critic_step(self, batch: Batch, fake: torch.Tensor) -> dict[str, float]:
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
        """Score the EMA generator through the engine (see `training.validation`), log it,
        draw the sample grid and keep the state as best.pt when it scores best."""
        if not self.dist.is_main or len(self.val_set) == 0:
            dist_utils.barrier(self.dist)
            return {}
        self.calibrate_ema()
        result = validate_generator(
            self.cfg.task,
            self.ema,
            self.val_set,
            self.device,
            inference_resolution(self.cfg),
            samples=self.cfg.samples,
            shown_input=self._shown_input,
        )
        self.last_metrics = result.metrics
        self.log.write("val", self.step, self.last_metrics)
        save_grid(self.run_dir / "samples" / f"step_{self.step:07d}.png", result.grid)
        self._keep_if_best()
        dist_utils.barrier(self.dist)
        return self.last_metrics

    def _shown_input(self, sample: dict[str, torch.Tensor]) -> np.ndarray:
        batch = {k: v[None] for k, v in sample.items()}
        # The task's input picture depends on the batch alone; the prediction is not read.
        shown = self.hooks.visuals(batch, Outputs(batch["target"]))[0][0]
        return shown.cpu().float().numpy().transpose(1, 2, 0)
