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
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

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

    def build(self) -> nn.Module:
        """The network these weights belong to, with the weights loaded, in eval mode."""
        net = build_arch(self.arch, **self.arch_kwargs)
        try:
            net.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as exc:
            raise ModelUnavailable(
                f"weights do not fit architecture '{self.arch}': {str(exc).splitlines()[0]}"
            ) from exc
        return net.eval()


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
    except Exception as exc:  # torch raises many types for a damaged or foreign file
        raise ModelUnavailable(f"weight file {path.name} cannot be read: {exc}") from exc
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
        return WeightFile(
            arch=str(payload["arch"]),
            arch_kwargs=dict(payload["arch_kwargs"]),
            task=str(payload["task"]),
            state_dict=dict(payload["state_dict"]),
            meta=dict(payload.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailable(f"{path.name} lacks a required field: {exc}") from exc


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
