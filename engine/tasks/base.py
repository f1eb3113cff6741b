"""The template every task's model follows (IOPaint style).

`InferenceModel.predict` owns what every network call needs: tensor conversion, padding to
the network's size multiple, reduced precision where it is native and measured harmless
(float16 on CUDA, bfloat16 autocast on CPUs that have it, for networks that opt in),
`torch.inference_mode()` and cropping back. A task subclass writes only `forward` (the
network call on a padded tensor), its encoding, and its own large-image strategy in `run`;
the task registers itself in `engine.tasks.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.devices import cpu_has_native_bfloat16, use_half_precision
from engine.options import Progress
from engine.pixels import from_unit, pixel_scale, to_unit
from engine.tiling import CancelToken, TilePlan

__all__ = [
    "InferenceModel",
    "decode_rgb",
    "encode_rgb",
    "from_unit",
    "pad_to_multiple",
    "pixel_scale",
    "to_unit",
]


def encode_rgb(unit: np.ndarray) -> np.ndarray:
    """RGB on [0, 1] -> the networks' RGB range [-1, 1] (denoise and inpaint, both ways)."""
    return unit * 2.0 - 1.0


def decode_rgb(values: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """The networks' RGB range [-1, 1] -> [0, 1] (arrays or tensors). ``inplace=True``
    reuses a fresh float32 array the caller owns (a network's output), saving a 24 MP copy."""
    if inplace and isinstance(values, np.ndarray) and values.dtype == np.float32:
        values *= 0.5
        values += 0.5
        return values
    return values * 0.5 + 0.5


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad bottom/right so H and W are multiples; mirror where possible, else replicate."""
    height, width = x.shape[-2:]
    pad_h = -height % multiple
    pad_w = -width % multiple
    if not pad_h and not pad_w:
        return x
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode)


class InferenceModel(ABC):
    """A loaded network on a device, ready to predict on float32 H×W×C arrays.

    ``full_precision`` keeps float32 everywhere. Otherwise CUDA runs float16, and a network
    marked ``bfloat16_safe`` (measured to lose nothing by it) runs its convolutions under
    bfloat16 autocast on a CPU with native bfloat16; autocast keeps the tensors the network
    adds its prediction to in float32.
    """

    def __init__(
        self,
        net: nn.Module,
        device: torch.device,
        *,
        resolution: int | None = None,
        full_precision: bool = False,
    ):
        self.device = device
        half = use_half_precision(device) and not full_precision
        self.dtype = torch.float16 if half else torch.float32
        self.autocast_bfloat16 = (
            device.type == "cpu"
            and bool(getattr(net, "bfloat16_safe", False))
            and not full_precision
            and cpu_has_native_bfloat16()
        )
        # channels_last roughly doubles CPU convolution throughput (measured 3.1 -> 5.1 MP/s
        # for the base-16 denoiser) and changes results by < 1e-6.
        self.net = net.eval().to(device=device, dtype=self.dtype, memory_format=torch.channels_last)
        self.multiple = int(getattr(net, "size_multiple", 1))
        self.resolution = resolution

    def use_meta(self, meta: Mapping[str, Any], source: str) -> None:
        """Take the settings a weight file carries for its task's processing (none here).

        Raises `ModelUnavailable` naming `source` when a setting is invalid.
        """
        del meta, source  # no task-specific settings by default

    @abstractmethod
    def forward(self, x: torch.Tensor, **settings: Any) -> torch.Tensor:
        """The network call on a padded N×C×H×W tensor in the network's value range."""

    @abstractmethod
    def run(
        self, image: np.ndarray, request: Any, *, plan: TilePlan | None, cancel: CancelToken | None
    ) -> Generator[Progress, None, np.ndarray]:
        """The task's large-image strategy: yields progress, returns the result (the input's
        shape and dtype; the input is never modified). `plan` is given to tiled tasks; a
        task registered `in_place` also takes `out=` (the array to write the result into,
        which may be `image` itself)."""

    def predict(self, array: np.ndarray, **settings: Any) -> np.ndarray:
        """float32 H×W×Cin (network range) -> float32 H×W×Cout, same H and W; `settings`
        go to `forward` (e.g. a denoiser's strength)."""
        height, width = array.shape[:2]
        with self.inference():
            y = self.forward(self.network_input(array), **settings)[0, :, :height, :width]
            return y.float().cpu().numpy().transpose(1, 2, 0)

    @contextmanager
    def inference(self) -> Iterator[None]:
        """What every network call runs under: `torch.inference_mode()` and, where the
        model uses it, bfloat16 autocast."""
        autocast = torch.autocast("cpu", torch.bfloat16, enabled=self.autocast_bfloat16)
        with torch.inference_mode(), autocast:
            yield

    def network_input(self, array: np.ndarray) -> torch.Tensor:
        """float32 H×W×C -> 1×C×H'×W' on the device in the model's dtype, channels_last,
        padded (bottom/right) to the network's size multiple; call it within `inference`."""
        x = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]
        x = pad_to_multiple(x.to(self.device, self.dtype), self.multiple)
        return x.contiguous(memory_format=torch.channels_last)

    @property
    def bytes_per_pixel(self) -> int:
        estimate = getattr(self.net, "bytes_per_pixel", None)
        return int(estimate()) if callable(estimate) else 4096

    @property
    def margin(self) -> int:
        estimate = getattr(self.net, "receptive_margin", None)
        return int(estimate()) if callable(estimate) else 32
