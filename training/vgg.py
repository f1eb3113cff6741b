"""VGG16 perceptual features that never download anything.

The perceptual and style losses compare VGG16 activations, which only mean something with
the ImageNet weights. Our machines cannot download them, and random weights would train a
model towards meaningless targets, so `load_vgg16` only uses weights it can find on disk
(an explicit file, or torchvision's hub cache) and otherwise raises `MissingVGGWeights`.
Random weights exist for tests only, behind an explicit flag and a logged warning.

The stack mirrors torchvision's ``vgg16().features`` index for index, so a torchvision state
dict (``features.0.weight`` ... ``features.28.bias``) loads into it unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from engine.tasks.base import decode_rgb
from training.errors import MissingVGGWeights, TrainingError

log = logging.getLogger(__name__)

# torchvision's file name for VGG16_Weights.IMAGENET1K_V1, as stored in the hub cache.
TORCHVISION_VGG16_FILE = "vgg16-397923af.pth"

# Conv widths with "M" for max-pool: torchvision's configuration "D".
_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip

# Index of each ReLU inside the Sequential, in torchvision's numbering.
RELU_INDEX: dict[str, int] = {
    "relu1_1": 1, "relu1_2": 3,
    "relu2_1": 6, "relu2_2": 8,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15,
    "relu4_1": 18, "relu4_2": 20, "relu4_3": 22,
    "relu5_1": 25, "relu5_2": 27, "relu5_3": 29,
}  # fmt: skip

DEFAULT_LAYERS: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _build_stack() -> nn.Sequential:
    layers: list[nn.Module] = []
    channels = 3
    for item in _CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            width = int(item)
            layers.append(nn.Conv2d(channels, width, kernel_size=3, padding=1))
            # In place is safe: each ReLU's input is a conv output nothing else reads.
            layers.append(nn.ReLU(inplace=True))
            channels = width
    return nn.Sequential(*layers)


class VGG16Features(nn.Module):
    """Frozen VGG16 convolutional stack returning named ReLU activations.

    Args:
        layers: names from `RELU_INDEX` to return; computation stops after the deepest one.

    ``forward(x)`` takes RGB images in [-1, 1] (B×3×H×W) and returns ``{name: activation}``.
    """

    def __init__(self, layers: Iterable[str] = DEFAULT_LAYERS) -> None:
        super().__init__()
        self.layers: tuple[str, ...] = tuple(layers)
        if not self.layers:
            raise ValueError("VGG16Features needs at least one layer name")
        unknown = [name for name in self.layers if name not in RELU_INDEX]
        if unknown:
            raise ValueError(f"unknown VGG16 layer(s) {unknown}; choose from {list(RELU_INDEX)}")
        self.features = _build_stack()
        self._last = max(RELU_INDEX[name] for name in self.layers)
        self._wanted = {RELU_INDEX[name]: name for name in self.layers}
        # Not persistent: the state dict must hold exactly torchvision's keys.
        self.register_buffer(
            "mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        for param in self.parameters():
            param.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG16Features:
        """Stay in eval mode whatever a parent module asks: this network is never trained."""
        return super().train(False)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise TrainingError(
                f"VGG16 perceptual features need RGB images B×3×H×W, got shape {tuple(x.shape)}"
            )
        x = (decode_rgb(x) - self.mean) / self.std
        out: dict[str, Tensor] = {}
        for index, module in enumerate(self.features):
            x = module(x)
            if index in self._wanted:
                out[self._wanted[index]] = x
            if index >= self._last:
                break
        return out

    def load_torchvision_state(self, state: Mapping[str, object], source: str) -> None:
        """Load a torchvision VGG16 state dict (full model or features only) into the stack.

        Raises:
            MissingVGGWeights: keys are missing, unexpected, not tensors, or of the wrong shape;
                the message names ``source`` and the problem.
        """
        features: dict[str, Tensor] = {}
        for key, value in state.items():
            if key.startswith("classifier."):
                continue  # the fully connected head is irrelevant to features
            name = key.removeprefix("features.")
            if not isinstance(value, Tensor):
                raise MissingVGGWeights(f"{source}: entry {key!r} is not a tensor")
            features[name] = value
        expected = self.features.state_dict()
        missing = sorted(set(expected) - set(features), key=_key_order)
        unexpected = sorted(set(features) - set(expected))
        if missing or unexpected:
            raise MissingVGGWeights(
                f"{source} is not a VGG16 state dict in torchvision format: "
                f"missing keys {missing[:6]}, unexpected keys {unexpected[:6]}"
            )
        for name, tensor in expected.items():
            if features[name].shape != tensor.shape:
                raise MissingVGGWeights(
                    f"{source}: {name!r} has shape {tuple(features[name].shape)}, "
                    f"VGG16 needs {tuple(tensor.shape)}"
                )
        self.features.load_state_dict(features, strict=True)


def _key_order(key: str) -> tuple[int, str]:
    index, _, kind = key.partition(".")
    return (int(index) if index.isdigit() else -1, kind)


def _read_state(path: Path) -> Mapping[str, object]:
    if not path.is_file():
        raise MissingVGGWeights(f"VGG16 weights file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for corrupt or foreign files
        raise MissingVGGWeights(
            f"cannot read VGG16 weights from {path}: {type(exc).__name__}: {exc}"
        ) from exc
    # Some checkpoints wrap the weights; accept the common "state_dict" wrapper.
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise MissingVGGWeights(
            f"{path} does not hold a state dict (found {type(state).__name__}); "
            "expected torchvision's VGG16 format, e.g. vgg16-397923af.pth"
        )
    return state


def _cached_torchvision_file() -> Path | None:
    """torchvision's VGG16 weights if already in the torch hub cache; never downloads."""
    names = [TORCHVISION_VGG16_FILE]
    try:  # importing torchvision can fail with errors other than ImportError (CUDA builds)
        from torchvision.models import VGG16_Weights

        names.insert(0, Path(VGG16_Weights.IMAGENET1K_V1.url).name)
    except Exception:
        pass
    # Looked up at call time so that TORCH_HOME (and tests) can redirect it.
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    for name in dict.fromkeys(names):
        candidate = checkpoints / name
        if candidate.is_file():
            return candidate
    return None


def load_vgg16(
    weights: Path | str | None = None,
    *,
    allow_random: bool = False,
    layers: Iterable[str] = DEFAULT_LAYERS,
) -> VGG16Features:
    """Build the frozen VGG16 feature stack with ImageNet weights found on disk.

    Order of preference: the explicit ``weights`` file; torchvision's file in the torch hub
    cache (``torch.hub.get_dir()/checkpoints/vgg16-397923af.pth``); random weights only when
    ``allow_random`` (tests; seed the global RNG first).

    Raises:
        MissingVGGWeights: the explicit file is unreadable or not VGG16, or no weights were
            found and ``allow_random`` is false.
    """
    model = VGG16Features(layers)
    if weights is not None:
        path = Path(weights)
        model.load_torchvision_state(_read_state(path), str(path))
        log.info("VGG16 perceptual weights loaded from %s", path)
        return model
    cached = _cached_torchvision_file()
    if cached is not None:
        model.load_torchvision_state(_read_state(cached), str(cached))
        log.info("VGG16 perceptual weights loaded from torch hub cache %s", cached)
        return model
    if allow_random:
        log.warning(
            "VGG16 uses RANDOM weights (allow_random=True): perceptual/style losses are "
            "meaningless; this is for tests only"
        )
        return model
    raise MissingVGGWeights(
        "the perceptual and style losses need ImageNet VGG16 weights, which are not "
        "downloaded automatically. Pass --vgg-weights FILE (a torchvision state dict, e.g. "
        f"{TORCHVISION_VGG16_FILE}) or set the perceptual and style loss weights to 0."
    )
