"""Self-describing weight files and the manifest that vouches for the shipped ones.

A weight file is a plain `torch.save` of a dict holding only tensors and JSON-like values:
the architecture's registered name, the full constructor arguments, a format version, the
task, free-form metadata, and the generator's state dict. It is loaded with
`weights_only=True` only, so a weight file can never run code.

`resources/weights/manifest.json` lists each shipped file with its size and sha256; a file
that is missing, truncated or altered is refused with `ModelUnavailable` naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from engine.archs import build_arch
from engine.errors import ModelUnavailable

WEIGHTS_FORMAT = "rebuilding-image.weights"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
RESOURCES_ENV = "REBUILDING_IMAGE_RESOURCES"


@dataclass(frozen=True)
class WeightFile:
    arch: str
    arch_kwargs: dict[str, Any]
    task: str
    state_dict: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    source: str = "weights"  # the file's name, for messages

    def build(self) -> nn.Module:
        """The network these weights belong to, with the weights loaded, in eval mode.

        The constructor arguments are checked against the state dict's shapes on the meta
        device first: a 2 MB file saying `base_channels=24000` would otherwise allocate
        23 GB before `load_state_dict` could notice."""
        check_fits(self.arch, self.arch_kwargs, self.state_dict, self.source)
        net = build_arch(self.arch, **self.arch_kwargs)
        try:
            net.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as exc:
            raise ModelUnavailable(
                f"{self.source}: weights do not fit architecture '{self.arch}': "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        return net.eval()


class _OverBudget(Exception):
    """A network under construction registered more tensors than its weight file holds."""


_budget = threading.local()  # the probe build on this thread: its limits, what it registered


def _spend(module: nn.Module, name: str, tensor: torch.Tensor | None) -> None:
    """Registration hook: stop a probe build as soon as it outgrows the weight file. A
    tensor assigned again under the same name (spectral norm's power iterations) counts once."""
    seen: dict[tuple[int, str], int] | None = getattr(_budget, "seen", None)
    if seen is None or tensor is None:
        return  # another thread's build, or a placeholder
    key = (id(module), name)
    _budget.elements += tensor.numel() - seen.get(key, 0)
    seen[key] = tensor.numel()
    if len(seen) > _budget.max_tensors or _budget.elements > _budget.max_elements:
        raise _OverBudget


class _ShapesOnly(TorchFunctionMode):
    """Skips in-place operations on meta tensors (weight initialisation: `normal_`,
    `uniform_`, ...): the probe needs shapes only, and PyTorch runs those operations on meta
    tensors through reference implementations that import torch._dynamo, which the frozen
    bundle leaves out (the inpainter's gated convolutions failed to load there)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        name = getattr(func, "__name__", "")
        in_place = name.endswith("_") and not name.startswith("__")
        if in_place and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]  # same shape; the values are never looked at
        return func(*args, **(kwargs or {}))


def _probe(arch: str, kwargs: dict[str, Any], state_dict: dict[str, torch.Tensor]) -> nn.Module:
    """The network built on the meta device (shapes, no memory), aborted once it registers
    more tensors or elements than the file holds: a `blocks=10**8` would otherwise take
    hours of Python objects even there. Twice the file, plus slack: a parametrization
    registers its weight twice, and non-persistent buffers are not stored."""
    stored = sum(t.numel() for t in state_dict.values())
    _budget.max_tensors, _budget.max_elements = 2 * len(state_dict) + 64, 2 * stored + (1 << 20)
    _budget.seen, _budget.elements = {}, 0
    hooks = [
        nn.modules.module.register_module_parameter_registration_hook(_spend),
        nn.modules.module.register_module_buffer_registration_hook(_spend),
    ]
    try:
        with torch.device("meta"), _ShapesOnly():
            return build_arch(arch, **kwargs)
    finally:
        _budget.seen = None
        for hook in hooks:
            hook.remove()


def check_fits(
    arch: str, kwargs: dict[str, Any], state_dict: dict[str, torch.Tensor], source: str
) -> None:
    """ModelUnavailable naming `source` unless the network `arch(**kwargs)` has exactly the
    state dict's tensor names and shapes, found without allocating the network."""
    unfit = f"{source}: weights do not fit architecture '{arch}' with {kwargs}"
    try:
        expected = _probe(arch, kwargs, state_dict).state_dict()
    except _OverBudget:
        raise ModelUnavailable(f"{unfit}: it is far larger than the file's tensors") from None
    missing = sorted(set(expected) - set(state_dict))
    extra = sorted(set(state_dict) - set(expected))
    if missing or extra:
        names = ", ".join((missing or extra)[:3])
        raise ModelUnavailable(f"{unfit}: {'missing' if missing else 'unexpected'} {names}")
    for name, tensor in expected.items():
        if tuple(tensor.shape) != tuple(state_dict[name].shape):
            raise ModelUnavailable(
                f"{unfit}: {name} is {tuple(state_dict[name].shape)} in the file, "
                f"{tuple(tensor.shape)} in the network"
            )


def check_tensors(state_dict: dict[str, object], source: str) -> None:
    """ModelUnavailable naming `source` for a non-tensor entry or a NaN/infinite value (a
    diverged training run's weights: accepted, they gave an all-black picture)."""
    for name, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            raise ModelUnavailable(f"{source}: weight {name!r} is a {type(value).__name__}")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ModelUnavailable(
                f"{source}: weight {name} holds NaN or infinite values (a diverged or damaged "
                "model); re-export it from a good checkpoint"
            )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(
    path: str | os.PathLike,
    net: nn.Module,
    *,
    task: str,
    meta: dict | None = None,
    half: bool = False,
) -> str:
    """Write `net` (built by `build_arch`) as a self-describing file; returns its sha256.

    `half` stores floating-point tensors as float16 (half the size); loading converts them
    back to the network's precision.
    """
    arch = getattr(net, "arch_name", None)
    kwargs = getattr(net, "arch_kwargs", None)
    if arch is None or kwargs is None:
        raise ValueError("save_weights needs a network built by engine.archs.build_arch")
    payload = {
        "format": WEIGHTS_FORMAT,
        "format_version": FORMAT_VERSION,
        "arch": arch,
        "arch_kwargs": dict(kwargs),
        "task": task,
        "meta": dict(meta or {}),
        "state_dict": {k: _stored(v, half) for k, v in net.state_dict().items()},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide shipped weights from other users
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_of(target)


def _stored(tensor: torch.Tensor, half: bool) -> torch.Tensor:
    tensor = tensor.detach().cpu().contiguous()
    return tensor.half() if half and tensor.is_floating_point() else tensor


def load_weights(path: str | os.PathLike, *, expected_sha256: str | None = None) -> WeightFile:
    """Read and validate a weight file; any problem is a ModelUnavailable naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelUnavailable(f"weight file not found: {path}")
    if expected_sha256 is not None and sha256_of(path) != expected_sha256.lower():
        raise ModelUnavailable(
            f"weight file {path.name} does not match its manifest checksum "
            "(truncated, corrupted or replaced); reinstall or re-export it"
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's text is a page of advice to load with weights_only=False: never here.
        raise ModelUnavailable(
            f"weight file {path.name} holds Python objects besides tensors and plain values; "
            "refused, since loading them could run code"
        ) from exc
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ModelUnavailable(f"weight file {path.name} cannot be read: {reason}") from exc
    return _validate(payload, path)


def _validate(payload: object, path: Path) -> WeightFile:
    if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
        raise ModelUnavailable(f"{path.name} is not a {WEIGHTS_FORMAT} file")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelUnavailable(
            f"{path.name} has weight format version {version}; this engine reads {FORMAT_VERSION}"
        )
    try:
        weights = WeightFile(
            arch=str(payload["arch"]),
            arch_kwargs=dict(payload["arch_kwargs"]),
            task=str(payload["task"]),
            state_dict=dict(payload["state_dict"]),
            meta=dict(payload.get("meta", {})),
            source=path.name,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailable(f"{path.name} lacks a required field: {exc}") from exc
    check_tensors(weights.state_dict, path.name)
    return weights


@dataclass(frozen=True)
class ModelEntry:
    """One shipped model as the manifest lists it."""

    name: str
    task: str
    variant: str
    file: str
    sha256: str
    size_bytes: int
    card: str | None = None


def resources_dir(override: str | os.PathLike | None = None) -> Path:
    """Where `resources/` lives: explicit path, env override, installer bundle, or the repo."""
    if override is not None:
        return Path(override)
    env = os.environ.get(RESOURCES_ENV)
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass(frozen=True)
class Manifest:
    directory: Path
    entries: tuple[ModelEntry, ...]

    @classmethod
    def load(cls, resources: str | os.PathLike | None = None) -> Manifest:
        return cls.read(resources_dir(resources) / "weights")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """The manifest of a weights folder (empty when the folder has none yet)."""
        directory = Path(directory)
        path = directory / MANIFEST_NAME
        if not path.is_file():
            return cls(directory, ())
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = tuple(ModelEntry(**item) for item in data["models"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelUnavailable(f"weights manifest {path} is unreadable: {exc}") from exc
        return cls(directory, entries)

    def find(self, task: str, variant: str = "blind") -> ModelEntry:
        """The entry for `task`/`variant`, else the task's blind (general) model."""
        for wanted in (variant, "blind"):
            for entry in self.entries:
                if entry.task == task and entry.variant == wanted:
                    return entry
        raise ModelUnavailable(
            f"no {task} model is installed (looked in {self.directory / MANIFEST_NAME}); "
            "train one with `python -m training` and bake it into resources/weights"
        )

    def load_entry(self, entry: ModelEntry) -> WeightFile:
        path = self.directory / entry.file
        if path.is_file() and path.stat().st_size != entry.size_bytes:
            raise ModelUnavailable(
                f"weight file {entry.file} is {path.stat().st_size} bytes, the manifest says "
                f"{entry.size_bytes} (truncated or replaced); reinstall or re-export it"
            )
        weights = load_weights(path, expected_sha256=entry.sha256)
        if weights.task != entry.task:
            raise ModelUnavailable(f"{entry.file} holds a {weights.task} model, not {entry.task}")
        return weights


def write_manifest(directory: Path, entries: list[ModelEntry]) -> Path:
    """Write manifest.json for `entries` (used by training's export)."""
    path = directory / MANIFEST_NAME
    data = {"format_version": FORMAT_VERSION, "models": [e.__dict__ for e in entries]}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
