"""PSNR, SSIM (checked against a direct windowed implementation) and colourfulness."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training.metrics import batch_to_hwc, colourfulness, psnr, ssim, to_hwc


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _direct_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Wang et al. SSIM by explicit 11×11 windows over every interior pixel (no filtering)."""
    k = np.arange(11) - 5
    g = np.exp(-(k**2) / (2 * 1.5**2))
    w = np.outer(g, g)
    w /= w.sum()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    h, wd, ch = a.shape
    per_channel = []
    for c in range(ch):
        values = []
        for i in range(5, h - 5):
            for j in range(5, wd - 5):
                x = a[i - 5 : i + 6, j - 5 : j + 6, c]
                y = b[i - 5 : i + 6, j - 5 : j + 6, c]
                mx, my = (w * x).sum(), (w * y).sum()
                vx = (w * (x - mx) ** 2).sum()
                vy = (w * (y - my) ** 2).sum()
                cxy = (w * (x - mx) * (y - my)).sum()
                values.append(
                    ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
                )
        per_channel.append(np.mean(values))
    return float(np.mean(per_channel))


# --- PSNR ------------------------------------------------------------------------------


def test_psnr_identical_is_inf():
    img = _rng().random((8, 8, 3))
    assert psnr(img, img) == math.inf


def test_psnr_of_known_mse():
    a = np.zeros((8, 8, 3))
    b = np.full((8, 8, 3), 0.1)  # MSE 0.01
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / 0.01))
    assert psnr(a, b) == pytest.approx(20.0)
    assert psnr(a, b, data_range=2.0) == pytest.approx(10 * math.log10(4 / 0.01))


def test_masked_psnr_only_looks_at_the_mask():
    a = np.zeros((8, 8, 3))
    b = a.copy()
    b[:4] = 0.1  # error in the top half
    b[4:] = 0.5  # a larger error in the bottom half
    mask = np.zeros((8, 8))
    mask[:4] = 1
    assert psnr(a, b, mask=mask) == pytest.approx(20.0)
    assert psnr(a, b, mask=1 - mask) == pytest.approx(10 * math.log10(1 / 0.25))
    assert psnr(a, b, mask=mask[..., None]) == pytest.approx(20.0)
    clean_inside = b.copy()
    clean_inside[:4] = 0
    assert psnr(a, clean_inside, mask=mask) == math.inf
    with pytest.raises(ValueError, match="no pixel"):
        psnr(a, b, mask=np.zeros((8, 8)))


def test_tensor_inputs_are_converted():
    t = torch.rand(1, 3, 6, 5)
    hwc = to_hwc(t)
    assert hwc.shape == (6, 5, 3) and hwc.dtype == np.float64
    assert np.array_equal(hwc, t[0].permute(1, 2, 0).double().numpy())
    assert psnr(t, t * 0.5) == pytest.approx(psnr(hwc, hwc * 0.5))
    assert [x.shape for x in batch_to_hwc(torch.rand(2, 3, 4, 4))] == [(4, 4, 3)] * 2
    with pytest.raises(ValueError, match="batch"):
        to_hwc(torch.rand(2, 3, 4, 4))


# --- SSIM ------------------------------------------------------------------------------


def test_ssim_identical_is_one():
    img = _rng().random((24, 24, 3))
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    assert ssim(img, img, mask=np.ones((24, 24))) == pytest.approx(1.0, abs=1e-12)


def test_ssim_drops_with_noise():
    rng = _rng()
    img = rng.random((32, 32, 3))
    noise = rng.standard_normal(img.shape)
    light, heavy = ssim(img, img + 0.05 * noise), ssim(img, img + 0.3 * noise)
    assert 1.0 > light > heavy


def test_ssim_matches_direct_windowed_implementation():
    rng = _rng()
    a = rng.random((16, 17, 2))
    b = np.clip(a + 0.2 * rng.standard_normal(a.shape), 0, 1)
    assert ssim(a, b) == pytest.approx(_direct_ssim(a, b), abs=1e-10)
    assert ssim(a * 255, b * 255, data_range=255) == pytest.approx(_direct_ssim(a, b), abs=1e-10)
    assert ssim(a[..., 0], b[..., 0]) == pytest.approx(_direct_ssim(a[..., :1], b[..., :1]))


def test_masked_ssim_only_looks_at_the_mask():
    rng = _rng()
    a = rng.random((40, 40, 3))
    b = a.copy()
    b[:10, :10] += 0.3 * rng.standard_normal((10, 10, 3))  # damage in the top-left corner
    far = np.zeros((40, 40))
    far[25:, 25:] = 1  # more than a window away from the damage
    near = np.zeros((40, 40))
    near[:10, :10] = 1
    assert ssim(a, b, mask=far) == pytest.approx(1.0, abs=1e-9)
    assert ssim(a, b, mask=near) < ssim(a, b) < 1.0
    with pytest.raises(ValueError, match="at least 11"):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))


# --- colourfulness ---------------------------------------------------------------------


def test_colourfulness():
    grey = np.repeat(_rng().random((16, 16, 1)) * 255, 3, axis=2)
    assert colourfulness(grey) == pytest.approx(0.0, abs=1e-9)
    red = np.zeros((4, 4, 3))
    red[..., 0] = 255
    # rg = 255, yb = 127.5 everywhere: no spread, so M = 0.3·sqrt(255² + 127.5²)
    assert colourfulness(red) == pytest.approx(0.3 * math.hypot(255, 127.5))
    pastel = 0.8 * 255 + 0.2 * red
    assert colourfulness(red) > colourfulness(pastel) > 0
    stripes = np.zeros((4, 4, 3))
    stripes[::2, :, 0] = 255  # red rows
    stripes[1::2, :, 2] = 255  # blue rows
    assert colourfulness(stripes) > colourfulness(red)
    with pytest.raises(ValueError, match="RGB"):
        colourfulness(np.zeros((4, 4)))
