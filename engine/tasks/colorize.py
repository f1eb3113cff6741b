"""Colorization: ab predicted at the model's resolution, luminance kept at full resolution."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import cv2
import numpy as np
import torch

from engine.color import denormalize_ab, lab_to_rgb, luminance, normalize_l
from engine.errors import InvalidRequest, ModelUnavailable
from engine.hints import (
    DEFAULT_PATCH,
    MAX_PATCH,
    encode_input,
    hint_ab,
    place_hints,
    working_pixels,
)
from engine.options import ColorizeRequest, ColourHint, Progress
from engine.pixels import from_unit, to_unit
from engine.tasks.base import InferenceModel
from engine.tasks.registry import TaskSpec, register
from engine.tiling import CancelToken, TilePlan

DEFAULT_RESOLUTION = 512
_STRIPE_ROWS = 512  # merge L and ab in stripes so a 24 MP scan never needs a full float copy
MAX_CHROMA_GAIN = 3.0


def _source_coords(size: int, small: int) -> np.ndarray:
    """Where each full-resolution pixel centre falls in the small prediction."""
    return ((np.arange(size, dtype=np.float32) + 0.5) * (small / size) - 0.5).astype(np.float32)


def _upsample(small: np.ndarray, rows: slice, height: int, width: int) -> np.ndarray:
    """Rows `rows` of `small` resized to height × width (bicubic, as cv2.resize samples).

    Done stripe by stripe so a 24 MP scan never holds a full-resolution float ab image, and
    in column chunks because cv2.remap takes at most 32767 pixels per side.
    """
    map_y = _source_coords(height, small.shape[0])[rows, None]
    all_x = _source_coords(width, small.shape[1])
    out = np.empty((map_y.shape[0], width, small.shape[2]), np.float32)
    for x in range(0, width, _STRIPE_ROWS * 8):
        cols = slice(x, min(x + _STRIPE_ROWS * 8, width))
        xs, ys = np.broadcast_arrays(all_x[None, cols], map_y)
        out[:, cols] = cv2.remap(
            small,
            np.ascontiguousarray(xs),
            np.ascontiguousarray(ys),
            cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return out


def hint_input(
    small_l: np.ndarray,
    hints: tuple[ColourHint, ...],
    size: tuple[int, int],
    patch: int,
) -> np.ndarray:
    """The hint-conditioned network's H×W×4 input (`engine.hints.encode_input`) for the
    working-resolution L ``small_l`` (0..100) of a ``size`` (W, H) photo: each hint moved
    to its pixel of the working copy, its ab from its RGB, over a ``patch``×``patch``
    square there (odd; the model's `Colorizer.hint_patch`). No hints: an empty hint map,
    the automatic case the network was also trained on."""
    working = (small_l.shape[1], small_l.shape[0])
    points = working_pixels([(h.x, h.y) for h in hints], size, working)
    ab_map, mask = place_hints(small_l.shape, points, hint_ab([h.rgb for h in hints]), patch)
    return encode_input(normalize_l(small_l), ab_map, mask)


class Colorizer(InferenceModel):
    """L in [-1, 1] (1 channel) -> ab in [-1, 1] (2 channels); a network that takes hints
    (``takes_hints``, `engine.archs.colorize_hint`) gets L plus the user's colour hints
    (4 channels, `hint_input`).

    A weight file may carry ``meta["chroma_gain"]``: the factor its ab is multiplied by at
    full strength. A model trained on squared error predicts the mean of the plausible
    colours, greyer than any of them; the gain is the vividness its exporter chose, and
    strength ``1 / chroma_gain`` gives back the network's own (PSNR-best) colours. With
    hints the gain is left out: the user's colours come back as given, not amplified.

    A hint-taking model's file may carry ``meta["hint_patch"]``: the side (odd, 1 to
    `MAX_PATCH` pixels of the network's working resolution) of the square each user pin
    fills (`hint_input`), chosen per model on the validation photos (``training.calibrate
    colorize-hints``, written by ``training.export --hint-patch``); DEFAULT_PATCH without.
    """

    chroma_gain: float = 1.0
    hint_patch: int = DEFAULT_PATCH

    def use_meta(self, meta: Mapping[str, Any], source: str) -> None:
        gain = self.check_chroma_gain(meta.get("chroma_gain", 1.0), source)
        patch = self.check_hint_patch(meta.get("hint_patch", DEFAULT_PATCH), source)
        self.chroma_gain, self.hint_patch = gain, patch

    @staticmethod
    def check_chroma_gain(gain: object, source: str) -> float:
        """A weight file's chroma gain (the exporter checks its own the same way), or
        ModelUnavailable naming `source`."""
        if isinstance(gain, bool) or not isinstance(gain, int | float):
            raise ModelUnavailable(f"{source} has an invalid chroma_gain {gain!r}")
        if not 0.0 < gain <= MAX_CHROMA_GAIN:
            raise ModelUnavailable(
                f"{source} has chroma_gain {gain:g}: it must be in (0, {MAX_CHROMA_GAIN:g}]"
            )
        return float(gain)

    @staticmethod
    def check_hint_patch(patch: object, source: str) -> int:
        """A weight file's hint patch side (the exporter checks its own the same way), or
        ModelUnavailable naming `source`."""
        if isinstance(patch, bool) or not isinstance(patch, int):
            raise ModelUnavailable(f"{source} has an invalid hint_patch {patch!r}")
        if not 1 <= patch <= MAX_PATCH or patch % 2 == 0:
            raise ModelUnavailable(
                f"{source} has hint_patch {patch}: it must be an odd side from 1 to {MAX_PATCH}"
            )
        return int(patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _lightness(self, image: np.ndarray) -> np.ndarray:
        """Full-resolution L (0..100), computed stripe by stripe."""
        out = np.empty(image.shape[:2], np.float32)
        for y in range(0, image.shape[0], _STRIPE_ROWS):
            out[y : y + _STRIPE_ROWS] = luminance(to_unit(image[y : y + _STRIPE_ROWS]))
        return out

    @property
    def takes_hints(self) -> bool:
        return bool(getattr(self.net, "takes_hints", False))

    def _check_hints(self, image: np.ndarray, request: ColorizeRequest) -> None:
        """Hints need a network that takes them, and every hint must lie on the photo."""
        if request.hints and not self.takes_hints:
            raise InvalidRequest(
                "this colorizer model does not take colour hints: remove the hints or "
                "install a hint-conditioned colorizer (colorize_hint)"
            )
        request.check(image)  # run_task checked already; run_model's other callers may not

    def run(
        self,
        image: np.ndarray,
        request: ColorizeRequest,
        *,
        plan: TilePlan | None = None,
        cancel: CancelToken | None,
        out: np.ndarray | None = None,
    ) -> Generator[Progress, None, np.ndarray]:
        """Colour from L alone (a toned scan's own tint never reaches the network or the
        result), predicted at the model's resolution, merged with full-resolution L.
        `out` may be `image` itself: only L is read once the colours are predicted."""
        del plan  # the whole photo at the model's resolution, merged in stripes
        self._check_hints(image, request)
        height, width = image.shape[:2]
        lightness = self._lightness(image)
        yield Progress("", 1, 3, 0)
        side = self.resolution or DEFAULT_RESOLUTION
        factor = min(1.0, side / max(height, width))
        small_size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small_l = cv2.resize(lightness, small_size, interpolation=cv2.INTER_AREA)
        if cancel is not None:
            cancel.raise_if_cancelled()
        if self.takes_hints:
            hinted = hint_input(small_l, request.hints, (width, height), self.hint_patch)
            ab_small = self.predict(hinted)
        else:
            ab_small = self.predict(normalize_l(small_l)[..., None])
        yield Progress("", 2, 3, side)
        if cancel is not None:
            cancel.raise_if_cancelled()
        gain = request.strength * (1.0 if request.hints else self.chroma_gain)
        ab_small = np.ascontiguousarray(denormalize_ab(ab_small) * gain, dtype=np.float32)
        out = np.empty_like(image) if out is None else out
        for y in range(0, height, _STRIPE_ROWS):
            rows = slice(y, min(y + _STRIPE_ROWS, height))
            ab = _upsample(ab_small, rows, height, width)
            lab = np.concatenate([lightness[rows, :, None], ab], axis=2)
            out[rows] = from_unit(lab_to_rgb(lab), image.dtype, overwrite=True)
        yield Progress("", 3, 3, side)
        return out


SPEC = register(
    TaskSpec(
        name="colorize",
        title="Colorize",
        model=Colorizer,
        request=ColorizeRequest,
        keeps_grey=False,
        tiled=False,
        working_side=DEFAULT_RESOLUTION,
        in_place=True,
        work_bytes_per_pixel=4,  # full-resolution L, float32
        # Colours depend on how much of the scene the model sees: it runs at the scale
        # it trained on.
        scale_from_training=True,
    )
)
