"""The typed training configuration: dataclasses with documented defaults, read from TOML.

A config file only needs the fields it changes, e.g.::

    steps = 20000
    batch_size = 16
    [augment]
    crop_size = 128
    [losses]
    perceptual = 0.0
    [damage]            # the detector's synthetic damage (training.data.damage.DamageConfig)
    clean_prob = 0.35

Unknown keys and values of the wrong type are refused with a message naming the key, so a
typo never silently trains with a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from training.data import (
    DATASET_TASKS,
    TASKS,
    AugmentConfig,
    DamageConfig,
    HardNegativeConfig,
    MaskConfig,
    NoiseConfig,
    RealNoiseConfig,
)
from training.errors import TrainingError
from training.losses import LossWeights

SCHEDULES = ("step", "cosine")

# The baseline architectures of the design write-up, at the widths we ship for CPU users.
DEFAULT_MODELS: dict[str, tuple[str, dict, str, dict]] = {
    "denoise": (
        "denoise_unet",
        {"base_channels": 16, "max_channels": 128},
        "denoise_patchgan",
        {"base_channels": 64},
    ),
    "inpaint": ("inpaint_gated", {"base_channels": 32}, "inpaint_patchgan", {"base_channels": 64}),
    "colorize": (
        "colorize_unet",
        {"base_channels": 32, "max_channels": 256},
        "colorize_patchgan",
        {"base_channels": 64},
    ),
    # The critic is never run at the default adversarial weight 0 (a small one is built, on
    # the photo plus the damage probability, for a recipe that turns it on).
    "detect": (
        "detect_unet",
        {"base_channels": 16, "deep_blocks": 2, "fine_channels": 16},
        "detect_patchgan",
        {"base_channels": 16},
    ),
}


@dataclass
class ModelConfig:
    """Generator and discriminator, by registered name (see engine.archs)."""

    generator: str = ""  # "" = the task's default architecture
    generator_kwargs: dict[str, Any] = field(default_factory=dict)
    discriminator: str = ""
    discriminator_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class OptimConfig:
    """Adam for both networks and their learning-rate schedule.

    ``schedule = "step"`` multiplies the rates by `lr_gamma` every `lr_step_epochs` (the design
    write-up's schedule). ``"cosine"`` follows a half cosine over the run's `steps` down to
    ``lr_min_factor`` of the start, after a linear warm-up of `lr_warmup_steps`; on a small
    folder (612 photos = 76 batches of 8 per epoch) "step" decays to nothing after ~9k steps,
    so long runs want "cosine".
    """

    lr_generator: float = 1e-4
    lr_discriminator: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_step_epochs: int = 30
    lr_gamma: float = 0.1
    schedule: str = "step"
    lr_min_factor: float = 0.01
    lr_warmup_steps: int = 0
    grad_clip: float = 0.0  # 0 = no clipping


@dataclass
class StabilityConfig:
    """The GAN stabilisers of the write-up; each can be switched off."""

    real_label: float = 0.9  # one-sided label smoothing (1.0 = off)
    d_noise_sigma: float = 0.1  # instance noise on the critic's inputs, decaying linearly...
    d_noise_decay_steps: int = 20000  # ...to 0 over this many steps
    d_skip_below: float = 0.2  # skip the critic's update while its loss is below this (0 = off)
    d_every: int = 1  # update the critic every N steps
    ema_decay: float = 0.999  # EMA of the generator; the EMA copy is what gets exported
    adversarial_warmup_steps: int = 0  # train on content losses only for the first N steps
    amp: bool = True  # mixed precision (CUDA only)


@dataclass
class TrainConfig:
    task: str = "denoise"
    seed: int = 0
    steps: int = 100_000  # total generator updates
    batch_size: int = 8
    num_workers: int = 0  # DataLoader workers (0 = load in the training process)
    val_fraction: float = 0.05  # share of the training folders held out for validation
    val_max_images: int = 32  # validation cost bound
    val_every: int = 1000
    checkpoint_every: int = 500
    # Also keep the state every N steps as checkpoints/step_<N>.pt (0 = never): a detector's
    # best.pt is chosen by its training-time F1, which can rise while the F1 within the
    # false-alarm budget falls (issue 21), so training.compare_detect picks among these.
    keep_every: int = 0
    log_every: int = 10
    samples: int = 4  # images in each validation sample grid
    min_image_side: int = 64  # smaller files in the data folders are skipped
    vgg_weights: str = ""  # torchvision-format VGG16 state dict, needed by perceptual/style
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    stability: StabilityConfig = field(default_factory=StabilityConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    masks: MaskConfig = field(default_factory=MaskConfig)
    # The training set: "" = the task's own; or another dataset of the same task
    # (training.data.DATASETS, e.g. "denoise_real": real-photo damage with its level).
    dataset: str = ""
    real_noise: RealNoiseConfig = field(default_factory=RealNoiseConfig)  # for denoise_real
    damage: DamageConfig = field(default_factory=DamageConfig)  # detect's synthetic damage
    # detect's crops centred where a detector marked undamaged photos (training.mine_negatives)
    hard_negatives: HardNegativeConfig = field(default_factory=HardNegativeConfig)
    losses: LossWeights | None = None  # None = LossWeights.for_task(task)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise TrainingError(f"unknown task '{self.task}'; choose one of {', '.join(TASKS)}")
        self._check_positive()
        if self.dataset and DATASET_TASKS.get(self.dataset) != self.task:
            known = [name for name, task in DATASET_TASKS.items() if task == self.task]
            raise TrainingError(
                f"setting dataset {self.dataset!r} does not train {self.task}; "
                f"{self.task} datasets: {', '.join(known)}"
            )
        if self.losses is None:
            self.losses = LossWeights.for_task(self.task)
        generator, g_kwargs, critic, d_kwargs = DEFAULT_MODELS[self.task]
        if not self.model.generator:
            self.model.generator = generator
            self.model.generator_kwargs = {**g_kwargs, **self.model.generator_kwargs}
        if not self.model.discriminator:
            self.model.discriminator = critic
            self.model.discriminator_kwargs = {**d_kwargs, **self.model.discriminator_kwargs}

    def _check_positive(self) -> None:
        """Refuse at start what would otherwise crash hours into a run."""
        counts = {
            "steps": self.steps,
            "batch_size": self.batch_size,
            "val_every": self.val_every,
            "checkpoint_every": self.checkpoint_every,
            "log_every": self.log_every,
            "samples": self.samples,
            "val_max_images": self.val_max_images,
            "optim.lr_step_epochs": self.optim.lr_step_epochs,
            "stability.d_every": self.stability.d_every,
            "augment.crop_size": self.augment.crop_size,
        }
        for name, value in counts.items():
            if value < 1:
                raise TrainingError(f"setting {name} must be at least 1, got {value}")
        if self.optim.schedule not in SCHEDULES:
            raise TrainingError(
                f"setting optim.schedule must be one of {', '.join(SCHEDULES)}, "
                f"got {self.optim.schedule!r}"
            )
        if not 0.0 <= self.optim.lr_min_factor <= 1.0 or self.optim.lr_warmup_steps < 0:
            raise TrainingError(
                "settings optim.lr_min_factor must be in [0, 1] and optim.lr_warmup_steps >= 0"
            )
        if self.keep_every < 0:
            raise TrainingError(f"setting keep_every must be 0 or more, got {self.keep_every}")
        if not 0.0 < self.val_fraction < 1.0:
            raise TrainingError(f"setting val_fraction must be in (0, 1), got {self.val_fraction}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    """Construct dataclass `cls` from a dict, recursing into nested dataclasses."""
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TrainingError(
            f"unknown setting {where}{unknown[0]}; known here: {', '.join(sorted(names))}"
        )
    kwargs = {}
    for key, value in values.items():
        hint = hints[key]
        nested = _dataclass_of(hint)
        if nested is not None and isinstance(value, dict):
            kwargs[key] = _build(nested, value, f"{where}{key}.")
        elif nested is not None and not isinstance(value, nested):
            raise TrainingError(f"setting {where}{key} must be a table, got {value!r}")
        else:
            kwargs[key] = _coerce(value, hint, f"{where}{key}")
    return cls(**kwargs)


def _dataclass_of(hint: Any) -> type | None:
    for candidate in (hint, *getattr(hint, "__args__", ())):
        if dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _coerce(value: Any, hint: Any, name: str) -> Any:
    origin = getattr(hint, "__origin__", hint)
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is tuple and isinstance(value, list):
        return tuple(float(v) if isinstance(v, int) else v for v in value)
    simple = {int: int, float: float, str: str, bool: bool, dict: dict}
    expected = simple.get(origin)
    if expected is not None and not isinstance(value, expected):
        raise TrainingError(f"setting {name} must be {expected.__name__}, got {value!r}")
    if expected is int and isinstance(value, bool):
        raise TrainingError(f"setting {name} must be int, got {value!r}")
    return value


def config_from_dict(task: str, values: dict[str, Any]) -> TrainConfig:
    values = dict(values)
    if values.setdefault("task", task) != task:
        raise TrainingError(f"the config is for task '{values['task']}', not '{task}'")
    losses = values.pop("losses", None)
    config = _build(TrainConfig, values, "")
    if losses is not None:
        if not isinstance(losses, dict):
            raise TrainingError(f"setting losses must be a table, got {losses!r}")
        # A [losses] table changes only the weights it names; the rest keep the task's defaults.
        merged = {**dataclasses.asdict(LossWeights.for_task(task)), **losses}
        config.losses = _build(LossWeights, merged, "losses.")
    return config


def load_config(task: str, path: Path | None = None) -> TrainConfig:
    """Defaults for `task`, overridden by a TOML file when given."""
    if path is None:
        return TrainConfig(task=task)
    try:
        values = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrainingError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TrainingError(f"config {path} is not valid TOML: {exc}") from exc
    return config_from_dict(task, values)
