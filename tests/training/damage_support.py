"""Shared helpers of the damage generator's tests (`test_damage`, `test_damage_content`)."""

from __future__ import annotations

import numpy as np

from training.data.damage import DamageConfig

KERNEL = np.ones((3, 3), np.uint8)


def photo(size: int = 96, seed: int = 0) -> np.ndarray:
    """Mid-grey with smooth shading and fine texture in about [0.38, 0.62]: every damage
    colour differs from it, so every labelled pixel must visibly change."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    shade = (
        0.5 + 0.08 * np.sin(5 * x + 3 * y)[..., None] + rng.uniform(-0.04, 0.04, (size, size, 3))
    )
    return shade.astype(np.float32)


def plain(*kinds: str, **changes) -> DamageConfig:
    """Only `kinds`, on a photo only toned and levelled: no stain, grain, blur, scan or JPEG."""
    quiet = {
        f"{step}_prob": 0.0
        for step in ("stain", "mount", "age_blur", "age_grain", "scan_blur", "scan_grain", "jpeg")
    }
    return DamageConfig().only(*kinds, **{**quiet, **changes})


def luma(image: np.ndarray) -> np.ndarray:
    return image @ np.array([0.299, 0.587, 0.114], np.float32)
