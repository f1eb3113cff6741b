"""Validation through the engine's own inference path.

The number a run logs must be the number its exported model gets when a user runs it, or
runs cannot be compared with the benchmark nor the best one chosen. So each held-out image
is restored by the EMA generator wrapped in the engine's task model — the class, request,
working resolution and large-image strategy an exported weight file gets from
`engine.api` — and scored per image on [0, 1] with `training.metrics`; the logged value is
the mean over images. Precision is float32 (the engine's reduced precision is a separate,
separately measured trade).

Everything this module knows of the engine is in its first three functions.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.run import run_model
from engine.tasks import TaskSpec, get_task
from engine.tasks.base import InferenceModel, decode_rgb, from_unit, to_unit
from engine.tiling import TilePlan
from training.data import CropDataset
from training.metrics import colourfulness, damage_counts, pooled_damage_scores, psnr, ssim

Sample = dict[str, torch.Tensor]

# The metric each task's best checkpoint is chosen by (higher is better).
PRIMARY_METRICS = {"inpaint": "psnr_hole", "detect": "f1"}
DEFAULT_PRIMARY_METRIC = "psnr"


def primary_metric(task: str) -> str:
    return PRIMARY_METRICS.get(task, DEFAULT_PRIMARY_METRIC)


def engine_task(task: str) -> TaskSpec:
    """The engine's description of `task`: training's one look-up of it."""
    return get_task(task)


def engine_model(
    task: str, net: nn.Module, device: torch.device, resolution: int
) -> InferenceModel:
    """`net` wrapped as the engine wraps an exported weight file of it, in float32.

    A copy is wrapped: the engine casts and re-lays out the network it is given, and the
    EMA generator must stay as training keeps it.
    """
    model_class = engine_task(task).model
    return model_class(copy.deepcopy(net), device, resolution=resolution, full_precision=True)


def engine_restore(task: str, model: InferenceModel, image: np.ndarray, request: Any) -> np.ndarray:
    """Run the task model as `engine.run.run_task` does after loading, policies included
    (the crops here always fit one tile of the size it would choose)."""
    spec = engine_task(task)
    plan = None
    if spec.tiled:
        side = -(-max(image.shape[:2]) // model.multiple) * model.multiple
        overlap = min(16, side // 4)
        plan = TilePlan(tile=side, overlap=overlap, min_tile=side, multiple=model.multiple)
    return run_model(spec, model, image, request, plan=plan)


@dataclass(frozen=True)
class Case:
    """One validation image as the engine is given it, and what it is scored against."""

    image: np.ndarray  # H×W×3: float32 on [0, 1] where the task accepts it, else uint8
    request: Any  # the task's settings (engine.options), defaults but for the hole mask
    target: np.ndarray  # the clean crop, float32 H×W×3 on [0, 1]; a mask task's bool label
    hole: np.ndarray | None  # bool H×W (True = hole) for inpainting
    sample: Sample  # the dataset's tensors for this index (for the sample grid)


def validation_case(task: str, dataset: CropDataset, index: int) -> Case:
    """`dataset[index]`, drawn the same way, plus the clean crop it was made from.

    A sample whose input is an RGB picture (denoising, damage detection) gives the engine
    that degraded picture; otherwise the engine gets the clean crop, as a user's photo:
    inpainting's holes come from the mask, and a colorizer reads only the luminance. A task
    that returns a mask is scored against the sample's label.
    """
    spec = engine_task(task)
    rng = dataset.rng(index)
    clean = dataset.crop(index % len(dataset.paths), rng)
    sample = dataset.make_sample(clean, rng)
    shown = sample["input"]
    unit = decode_rgb(shown.numpy().transpose(1, 2, 0)) if shown.shape[0] == 3 else clean
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    # A task that takes no float pixels gets the 8-bit photo a file would hold.
    image = unit if spec.accepts_float else from_unit(unit, np.dtype(np.uint8))
    hole = sample["mask"][0].numpy() > 0.5 if "mask" in sample else None
    settings = {"mask": hole} if "mask" in spec.settings else {}
    target = sample["target"][0].numpy() > 0.5 if spec.returns_mask else clean
    return Case(image, spec.request(**settings), target, hole, sample)


def score(
    output: np.ndarray, target: np.ndarray, hole: np.ndarray | None, colour: bool
) -> dict[str, float]:
    """One image's metrics: PSNR and SSIM, inside the hole too when there is one, and the
    colourfulness of output and truth for a task that adds colour; for a mask task, the
    pixel counts `summarise` pools into precision, recall, F1 and IoU."""
    if output.dtype == bool:
        return damage_counts(output, target)
    unit = np.clip(output, 0.0, 1.0) if output.dtype == np.float32 else to_unit(output)
    row = {"psnr": psnr(unit, target), "ssim": ssim(unit, target)}
    if hole is not None:
        row["psnr_hole"] = psnr(unit, target, mask=hole)
        row["ssim_hole"] = ssim(unit, target, mask=hole)
    if colour:
        row["colourfulness"] = colourfulness(unit * 255)
        row["colourfulness_target"] = colourfulness(target * 255)
    return row


def mean_metrics(rows: list[dict[str, float]]) -> dict[str, float]:
    """The per-image mean of each metric; an image restored exactly (infinite PSNR) is left
    out of its mean rather than making it infinite."""
    return {
        key: float(np.mean([r[key] for r in rows if np.isfinite(r[key])] or [np.nan]))
        for key in rows[0]
    }


def summarise(task: str, rows: list[dict[str, float]]) -> dict[str, float]:
    """The logged metrics of a validation pass: per-image means, or for a mask task the
    scores of the pooled counts (a clean photo's F1 is 0 or 1 on its own; pooled, every
    pixel counts once)."""
    if engine_task(task).returns_mask:
        return pooled_damage_scores(rows)
    return mean_metrics(rows)


def _picture(array: np.ndarray) -> np.ndarray:
    """An engine result or target as an H×W×3 float picture on [0, 1] (a mask in grey)."""
    if array.dtype == bool:
        return np.repeat(array[..., None].astype(np.float32), 3, axis=2)
    return np.clip(array, 0, 1) if array.dtype == np.float32 else to_unit(array)


GridRow = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Validation:
    metrics: dict[str, float]
    grid: list[GridRow]  # (input | output | target) HWC float pictures


def validate_generator(
    task: str,
    net: nn.Module,
    dataset: CropDataset,
    device: torch.device,
    resolution: int,
    *,
    samples: int,
    shown_input: Callable[[Sample], np.ndarray],
) -> Validation:
    """Restore and score every image of `dataset` through the engine (see the module doc);
    the first `samples` also make the sample grid, their input drawn by `shown_input`."""
    model = engine_model(task, net, device, resolution)
    colour = not engine_task(task).keeps_grey
    rows, grid = [], []
    for index in range(len(dataset)):
        case = validation_case(task, dataset, index)
        output = engine_restore(task, model, case.image, case.request)
        rows.append(score(output, case.target, case.hole, colour))
        if len(grid) < samples:
            grid.append((shown_input(case.sample), _picture(output), _picture(case.target)))
    return Validation(summarise(task, rows), grid)
