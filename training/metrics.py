"""Image-quality metrics for validation: PSNR, SSIM and colourfulness.

Inputs are numpy arrays laid out H×W×C (or H×W), as the engine's image I/O produces; a torch
tensor C×H×W or 1×C×H×W is accepted too and converted by `to_hwc` (use `batch_to_hwc` for a
batch). Everything is computed in float64 on the CPU: validation runs on a few images, and
float64 keeps PSNR of near-identical images exact.

Masks (1/True = pixel counts) are H×W, H×W×1 or H×W×C; for inpainting pass the hole mask
to score "inside the hole".
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor

# Wang et al. (2004) constants.
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def to_hwc(x: ArrayLike) -> np.ndarray:
    """A float64 H×W×C (or H×W) array from an array, or from a C×H×W / 1×C×H×W tensor."""
    if isinstance(x, torch.Tensor):
        t = x.detach().to("cpu", torch.float64)
        if t.dim() == 4:
            if t.shape[0] != 1:
                raise ValueError(
                    f"one image expected, got a batch of {t.shape[0]}; use batch_to_hwc"
                )
            t = t[0]
        if t.dim() == 3:
            t = t.permute(1, 2, 0)
        return t.numpy()
    return np.asarray(x, dtype=np.float64)


def batch_to_hwc(batch: torch.Tensor) -> list[np.ndarray]:
    """A B×C×H×W tensor as a list of B float64 H×W×C arrays."""
    if batch.dim() != 4:
        raise ValueError(f"B×C×H×W tensor expected, got shape {tuple(batch.shape)}")
    return [to_hwc(image) for image in batch]


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a, b = to_hwc(a), to_hwc(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim == 2:
        a, b = a[..., None], b[..., None]
    if a.ndim != 3:
        raise ValueError(f"H×W×C image expected, got shape {a.shape}")
    return a, b


def _mask_hwc(mask: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """The mask as a boolean H×W×C array matching ``shape``."""
    m = to_hwc(mask) > 0.5
    if m.ndim == 2:
        m = m[..., None]
    if m.shape[:2] != shape[:2] or m.shape[2] not in (1, shape[2]):
        raise ValueError(f"mask of shape {m.shape} does not fit an image of shape {shape}")
    return np.broadcast_to(m, shape)


def psnr(
    a: ArrayLike, b: ArrayLike, data_range: float = 1.0, mask: ArrayLike | None = None
) -> float:
    """Peak signal-to-noise ratio in dB: ``10·log10(data_range² / MSE)``.

    Identical images (MSE 0) give ``math.inf``, not a capped value: averaging code must not
    mistake a cap for a measurement. With ``mask``, the MSE covers only the masked pixels.
    ``data_range`` is the span of valid values: 1.0 for [0, 1], 2.0 for [-1, 1], 255 for 8-bit.
    """
    a, b = _pair(a, b)
    sq = (a - b) ** 2
    if mask is not None:
        sel = _mask_hwc(mask, a.shape)
        if not sel.any():
            raise ValueError("the mask selects no pixel")
        sq = sq[sel]
    err = float(sq.mean())
    if err == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / err)


def _gaussian_window() -> np.ndarray:
    return cv2.getGaussianKernel(SSIM_WINDOW, SSIM_SIGMA, cv2.CV_64F)


def ssim_map(a: ArrayLike, b: ArrayLike, data_range: float = 1.0) -> np.ndarray:
    """The per-pixel, per-channel SSIM map (H×W×C) of Wang et al. (2004).

    Local statistics use an 11×11 Gaussian window (σ = 1.5) with reflected borders, and the
    population (not sample) covariance, as in the reference implementation.
    """
    a, b = _pair(a, b)
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}×{SSIM_WINDOW} pixels")
    g = _gaussian_window()
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(img, cv2.CV_64F, g, g, borderType=cv2.BORDER_REFLECT)

    out = np.empty_like(a)
    for ch in range(a.shape[2]):
        x = np.ascontiguousarray(a[..., ch])
        y = np.ascontiguousarray(b[..., ch])
        mx, my = blur(x), blur(y)
        sxx = blur(x * x) - mx * mx
        syy = blur(y * y) - my * my
        sxy = blur(x * y) - mx * my
        num = (2 * mx * my + c1) * (2 * sxy + c2)
        den = (mx * mx + my * my + c1) * (sxx + syy + c2)
        out[..., ch] = num / den
    return out


def ssim(
    a: ArrayLike, b: ArrayLike, data_range: float = 1.0, mask: ArrayLike | None = None
) -> float:
    """Mean structural similarity of two H×W×C images (1.0 = identical).

    Without a mask, each channel's map is averaged over the pixels at least 5 away from the
    border (where the window needs no padding, as in Wang et al. and scikit-image), and the
    channels are averaged. With ``mask``, the full map (borders reflected) is averaged over
    the masked pixels of each channel, then over the channels, so a hole touching the image
    edge is still scored.
    """
    smap = ssim_map(a, b, data_range)
    if mask is None:
        pad = (SSIM_WINDOW - 1) // 2
        return float(smap[pad:-pad, pad:-pad].mean(axis=(0, 1)).mean())
    sel = _mask_hwc(mask, smap.shape)
    if not sel.any():
        raise ValueError("the mask selects no pixel")
    per_channel = [
        smap[..., c][sel[..., c]].mean() for c in range(smap.shape[2]) if sel[..., c].any()
    ]
    return float(np.mean(per_channel))


def colourfulness(rgb: ArrayLike) -> float:
    """Hasler & Süsstrunk (2003) colourfulness of an H×W×3 RGB image on the [0, 255] scale.

    Multiply [0, 1] images by 255 first (and map [-1, 1] to [0, 255]); the metric is linear
    in the scale, and its published thresholds (e.g. ~33 "moderately colourful") assume 255.
    A grey image scores 0.
    """
    img = to_hwc(rgb)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"H×W×3 RGB image expected, got shape {img.shape}")
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    std = math.sqrt(float(rg.std()) ** 2 + float(yb.std()) ** 2)
    mean = math.sqrt(float(rg.mean()) ** 2 + float(yb.mean()) ** 2)
    return std + 0.3 * mean


# --- damage detection ------------------------------------------------------------------

DAMAGE_TOLERANCE = 3  # pixels: a mask this close to the damage still serves the inpainter


def _within(mask: np.ndarray, tolerance: float) -> np.ndarray:
    """The pixels within `tolerance` (Euclidean) of a True pixel of `mask`."""
    if not mask.any():
        return np.zeros(mask.shape, bool)
    distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return distance <= tolerance


def damage_counts(
    predicted: ArrayLike, truth: ArrayLike, tolerance: float = DAMAGE_TOLERANCE
) -> dict[str, float]:
    """Pixel counts of a predicted damage mask against the true one (H×W, nonzero = damage),
    which add up over images: `damage_scores` turns a sum (or a mean) of them into scores.

    With tolerance, a predicted pixel is a hit when a true pixel lies within `tolerance` px,
    and a true pixel is found when a predicted one does (a mask one pixel off a 1-px
    scratch still guides the inpainter; and labels' edges are uncertain by a pixel).
    ``intersection`` and ``union`` are exact, for the IoU.
    """
    pred, true = to_hwc(predicted) > 0.5, to_hwc(truth) > 0.5
    if pred.shape != true.shape or pred.ndim != 2:
        raise ValueError(f"H×W masks of one size expected, got {pred.shape} and {true.shape}")
    return {
        "predicted": float(pred.sum()),
        "hits": float((pred & _within(true, tolerance)).sum()),
        "true": float(true.sum()),
        "found": float((true & _within(pred, tolerance)).sum()),
        "intersection": float((pred & true).sum()),
        "union": float((pred | true).sum()),
        "pixels": float(pred.size),
    }


def damage_scores(counts: dict[str, float]) -> dict[str, float]:
    """Precision, recall and F1 with tolerance, exact IoU, and the share of pixels flagged,
    from `damage_counts` (of one image, or summed/averaged over many: pooled scores).

    Empty cases: nothing predicted is precision 1 (no false alarm), nothing to find is
    recall 1; an image with no damage and nothing flagged scores 1 throughout.
    """
    precision = counts["hits"] / counts["predicted"] if counts["predicted"] else 1.0
    recall = counts["found"] / counts["true"] if counts["true"] else 1.0
    total = precision + recall
    f1 = 2 * precision * recall / total if total else 0.0
    iou = counts["intersection"] / counts["union"] if counts["union"] else 1.0
    flagged = counts["predicted"] / counts["pixels"] if counts["pixels"] else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "iou": iou, "flagged": flagged}


def pooled_damage_scores(counts: Iterable[dict[str, float]]) -> dict[str, float]:
    """`damage_scores` of many images' `damage_counts` summed: every pixel counts once (a
    clean photo's F1 is 0 or 1 on its own)."""
    rows = list(counts)
    return damage_scores({key: float(sum(row[key] for row in rows)) for key in rows[0]})
