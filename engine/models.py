"""Finding, loading and caching the task models (once per weight file and device)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import torch

from engine.archs import arch_class
from engine.errors import ModelUnavailable
from engine.options import ModelInfo
from engine.tasks import get_task
from engine.tasks.base import InferenceModel
from engine.weights import Manifest, WeightFile, load_weights

_CACHE_SIZE = 4
_cache: dict[tuple[str, ...], InferenceModel] = {}
_lock = threading.Lock()


def _locate(
    task: str, variant: str, weights: Path | None, resources: Path | None
) -> tuple[tuple[str, ...], Callable[[], WeightFile]]:
    """A cheap identity of the weights to use (for the cache) and how to load them."""
    if weights is not None:
        path = Path(weights).resolve()
        if not path.is_file():
            raise ModelUnavailable(f"weight file not found: {weights}")
        stat = path.stat()
        return (str(path), str(stat.st_mtime_ns), str(stat.st_size)), lambda: load_weights(path)
    manifest = Manifest.load(resources)
    entry = manifest.find(task, variant)
    identity = (str(manifest.directory / entry.file), entry.sha256)
    return identity, lambda: manifest.load_entry(entry)


def load_model(
    task: str,
    device: torch.device,
    *,
    variant: str = "blind",
    weights: Path | None = None,
    resources: Path | None = None,
    full_precision: bool = False,
) -> InferenceModel:
    """The task's model on `device`, loaded (and checked) once, then served from a cache."""
    spec = get_task(task)
    identity, load = _locate(task, variant, weights, resources)
    key = (*identity, str(device), full_precision)
    with _lock:
        if key not in _cache:
            weight_file = load()
            if weight_file.task != task:
                raise ModelUnavailable(
                    f"{identity[0]} holds a {weight_file.task} model, not a {task} model"
                )
            # Before building: a critic (spectral norm) or another task's network is refused
            # from its class, so its constructor never runs.
            _check_generator(arch_class(weight_file.arch), weight_file.arch, task, identity[0])
            net = weight_file.build()
            resolution = weight_file.meta.get("resolution")
            if resolution is not None and (not isinstance(resolution, int) or resolution < 8):
                raise ModelUnavailable(f"{identity[0]} has an invalid resolution {resolution!r}")
            while len(_cache) >= _CACHE_SIZE:  # keep memory bounded: forget the oldest
                _cache.pop(next(iter(_cache)))
            model = spec.model(net, device, resolution=resolution, full_precision=full_precision)
            model.use_meta(weight_file.meta, identity[0])
            _check_finite_output(model, identity[0])
            _cache[key] = model
        return _cache[key]


def _check_generator(cls: type, arch: str, task: str, source: str) -> None:
    """A weight file must hold a generator for this task, not a critic or another task's net."""
    if getattr(cls, "role", None) != "generator" or getattr(cls, "task", None) != task:
        raise ModelUnavailable(
            f"{source} holds a {getattr(cls, 'task', '?')} {getattr(cls, 'role', 'network')} "
            f"({arch}), not a {task} generator"
        )


def _check_finite_output(model: InferenceModel, source: str) -> None:
    """One tiny forward pass (a flat grey image, >= 64 px, of the network's size multiple)
    must be finite: finite weights can still overflow, in float16 above all, and such a
    model gave an all-black picture with "ok"."""
    side = -(-64 // model.multiple) * model.multiple
    channels = int(getattr(model.net, "in_channels", 3))
    name = Path(source).name
    x = torch.zeros(1, channels, side, side, device=model.device, dtype=model.dtype)
    try:
        with torch.inference_mode():
            finite = bool(torch.isfinite(model.forward(x)).all())
    except Exception as exc:  # the weights fit their shapes, yet the network cannot run
        reason = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise ModelUnavailable(f"{name}: the model fails a test run ({reason})") from exc
    if not finite:
        raise ModelUnavailable(
            f"{name}: the model gives NaN or infinite values on a test image "
            "(damaged or diverged weights); re-export it from a good checkpoint"
        )


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def installed_models(resources: Path | None = None) -> list[ModelInfo]:
    """Every manifest entry, each checked (size, checksum, format) without building it."""
    manifest = Manifest.load(resources)
    infos = []
    for entry in manifest.entries:
        try:
            loaded = manifest.load_entry(entry)
            infos.append(ModelInfo(entry.task, entry.variant, entry.file, loaded.arch, True))
        except ModelUnavailable as exc:
            infos.append(ModelInfo(entry.task, entry.variant, entry.file, "?", False, str(exc)))
    return infos
