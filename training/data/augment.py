"""Turning a decoded training image into one float32 square crop, augmented or not.

All randomness comes from the generator passed in, and every call draws the same number of
values whatever the settings, so switching one augmentation off leaves the crop positions
(and the noise or masks drawn afterwards) of every sample unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from engine.pixels import to_unit
from engine.tasks.base import pad_to_multiple
from training.data.folders import TrainingDataError

__all__ = ["AugmentConfig", "centre_crop", "to_unit", "train_crop"]


@dataclass
class AugmentConfig:
    """How a training crop is cut from a photo and varied.

    Attributes:
        crop_size: side in pixels of the square crop fed to the network. Images whose short
            side is smaller are first upscaled (bicubic) to exactly that side: mirrored
            padding would invent symmetric structures no photo has, and a little softness
            is the lesser evil (use `min_side` in the scan to keep such images out).
        flips: mirror left-right with probability 1/2.
        rot90: rotate by a random multiple of 90°; with `flips` that gives all 8 orientations.
            Consider turning it off for colorization, where "sky is up" is a useful cue.
        brightness: amplitude of the additive brightness shift, drawn uniformly in
            ``[-brightness, +brightness]`` (on the [0, 1] scale); 0 disables it.
        contrast: amplitude of the contrast change: pixel deviations from the crop's mean
            are scaled by a factor drawn in ``[1 - contrast, 1 + contrast]``; 0 disables it.
        scale_range: zoom drawn uniformly in this range: below 1 the crop covers a window
            ``crop_size / zoom`` wide (more of the scene, shrunk with area averaging), above 1
            a smaller window enlarged (softer). ``(1, 1)`` (the default) disables it. The
            window never exceeds the photo's short side. Colorization uses zooming out so
            training crops look like the whole, shrunk scans the model sees at inference.
        zoom_past_short_side: let zooming out go past the photo's short side, up to the whole
            photo. Such a window spans the full short side and ``crop_size / zoom`` of the long
            one; it is shrunk until its long side is ``crop_size`` and the rest of the square
            is mirrored, exactly as the engine pads a whole scan shrunk to a colorizer's
            resolution. Without it a colorizer never sees a whole scene at the scale it is
            shown one at inference.
    """

    crop_size: int = 256
    flips: bool = True
    rot90: bool = True
    brightness: float = 0.1
    contrast: float = 0.1
    scale_range: tuple[float, float] = (1.0, 1.0)
    zoom_past_short_side: bool = False

    def __post_init__(self) -> None:
        if int(self.crop_size) < 8:
            raise TrainingDataError(f"augment.crop_size must be at least 8, got {self.crop_size}")
        self.crop_size = int(self.crop_size)
        problem = (
            f"augment.scale_range must be two zooms with 0 < low <= high <= 4, got "
            f"{self.scale_range!r}"
        )
        try:
            low, high = (float(v) for v in self.scale_range)
        except (TypeError, ValueError):
            raise TrainingDataError(problem) from None
        if not 0.0 < low <= high <= 4.0:
            raise TrainingDataError(problem)
        self.scale_range = (low, high)
        for name in ("brightness", "contrast"):
            value = float(getattr(self, name))
            if not 0.0 <= value < 1.0:
                raise TrainingDataError(f"augment.{name} must be in [0, 1), got {value}")
            setattr(self, name, value)


def _fit_short_side(pixels: np.ndarray, size: int) -> np.ndarray:
    """float32 [0, 1]; upscaled so the short side is at least `size` (see AugmentConfig)."""
    image = to_unit(pixels)
    height, width = image.shape[:2]
    if min(height, width) >= size:
        return image
    scale = size / min(height, width)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_CUBIC)
    return np.clip(image, 0.0, 1.0, out=image)  # bicubic overshoots at edges


def _mirror_pad(image: np.ndarray, size: int) -> np.ndarray:
    """Pad bottom/right to size × size with the engine's own padding (`pad_to_multiple`:
    an image no larger than `size` is padded to exactly one multiple of it)."""
    chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    return pad_to_multiple(chw, size).numpy().transpose(1, 2, 0)


def _place(draw: float, at: float | None, extent: int, window: int) -> int:
    """The window's first row (or column): anywhere by `draw`, or, given a point `at` (0-1
    scale), placed so that the point falls in its middle 70 % (by `draw`)."""
    if at is None:
        return int(draw * (extent - window + 1))
    start = round(at * extent - (0.15 + 0.7 * draw) * window)
    return int(min(max(start, 0), extent - window))


def _whole_view(
    pixels: np.ndarray,
    wanted: int,
    fy: float,
    fx: float,
    size: int,
    at: tuple[float | None, float | None] = (None, None),
) -> np.ndarray:
    """A window wider than the short side, shrunk to a long side of `size`, mirror-padded
    (placed by `_place`)."""
    height, width = pixels.shape[:2]
    win_h = height if height <= width else min(height, wanted)
    win_w = width if width < height else min(width, wanted)
    top, left = _place(fy, at[0], height, win_h), _place(fx, at[1], width, win_w)
    window = to_unit(pixels[top : top + win_h, left : left + win_w])
    scale = size / max(win_h, win_w)
    shape = (max(1, round(win_w * scale)), max(1, round(win_h * scale)))
    shrunk = np.clip(cv2.resize(window, shape, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    return _mirror_pad(shrunk, size)


def train_crop(
    pixels: np.ndarray,
    rng: np.random.Generator,
    cfg: AugmentConfig,
    at: tuple[float, float] | None = None,
) -> np.ndarray:
    """A random, augmented ``crop_size`` square as float32 H×W×3 in [0, 1]; with `at` (a
    point, y and x on the 0-1 scale) one that holds it, whichever way the crop is cut
    (`training.data.hard_negatives`)."""
    size = cfg.crop_size
    point = at if at is not None else (None, None)
    # Seven draws, always in this order (see the module docstring).
    fy, fx = rng.random(), rng.random()
    flip = rng.random() < 0.5
    turns = int(rng.integers(0, 4))
    shift = rng.uniform(-1.0, 1.0) * cfg.brightness
    gain = 1.0 + rng.uniform(-1.0, 1.0) * cfg.contrast
    zoom = rng.uniform(*cfg.scale_range)
    height, width = pixels.shape[:2]
    wanted = max(2, round(size / zoom))
    if cfg.zoom_past_short_side and size <= min(height, width) < wanted:
        crop = _whole_view(pixels, wanted, fy, fx, size, point)
    elif min(height, width) >= size:  # crop first: converting a 24 MP photo would be waste
        window = min(min(height, width), wanted)
        top, left = _place(fy, point[0], height, window), _place(fx, point[1], width, window)
        crop = to_unit(pixels[top : top + window, left : left + window])
        if window != size:
            shrink = window > size
            method = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
            crop = np.clip(cv2.resize(crop, (size, size), interpolation=method), 0.0, 1.0)
    else:
        image = _fit_short_side(pixels, size)
        height, width = image.shape[:2]
        top, left = _place(fy, point[0], height, size), _place(fx, point[1], width, size)
        crop = image[top : top + size, left : left + size]
    if cfg.flips and flip:
        crop = crop[:, ::-1]
    if cfg.rot90 and turns:
        crop = np.rot90(crop, turns)
    crop = np.ascontiguousarray(crop, dtype=np.float32)
    if cfg.brightness or cfg.contrast:
        mean = np.float32(crop.mean())
        crop = (crop - mean) * np.float32(gain) + mean + np.float32(shift)
        np.clip(crop, 0.0, 1.0, out=crop)
    return crop


def centre_crop(pixels: np.ndarray, cfg: AugmentConfig) -> np.ndarray:
    """The deterministic, unaugmented centre ``crop_size`` square (validation).

    With `zoom_past_short_side` it is the whole photo instead, shrunk and mirror-padded as
    the engine shows it to a colorizer: validation then scores what inference will see.
    """
    size = cfg.crop_size
    height, width = pixels.shape[:2]
    if cfg.zoom_past_short_side and min(height, width) >= size:
        return _whole_view(pixels, max(height, width), 0.0, 0.0, size)
    if min(height, width) < size:
        image = _fit_short_side(pixels, size)
        height, width = image.shape[:2]
    else:
        image = pixels
    top, left = (height - size) // 2, (width - size) // 2
    return np.ascontiguousarray(to_unit(image[top : top + size, left : left + size]))
