"""Scratch and dust detection proposes a mask the user then edits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine import api


def _scan(dtype=np.uint8):
    """A smooth photo with a dark round feature, two bright scratches, a dark one and dust."""
    rng = np.random.default_rng(0)
    height, width = 600, 800
    yy, xx = np.mgrid[0:height, 0:width] / height
    base = np.stack([0.4 + 0.3 * np.sin(3 * xx + c) * np.cos(2 * yy) for c in (0, 1, 2)], -1)
    image = (base * 255 + rng.normal(0, 4, (height, width, 3))).clip(0, 255)
    cv2.circle(image, (200, 150), 30, (20, 20, 20), -1)  # content, e.g. an eye or a button
    bright = np.zeros((height, width), np.uint8)
    cv2.line(bright, (50, 450), (750, 350), 255, 2)
    cv2.line(bright, (600, 50), (625, 550), 255, 1)
    for y, x in zip(rng.integers(0, height, 20), rng.integers(0, width, 20), strict=True):
        cv2.circle(bright, (int(x), int(y)), 1, 255, -1)
    dark = np.zeros((height, width), np.uint8)
    cv2.line(dark, (50, 50), (450, 250), 255, 2)
    image[bright > 0] += 90
    image[dark > 0] -= 90
    scale = np.iinfo(dtype).max / 255
    return (image.clip(0, 255) * scale).astype(dtype), bright > 0, dark > 0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_scratches_and_dust_are_found_and_content_is_left_alone(dtype):
    image, bright, dark = _scan(dtype)
    mask = api.detect_scratches(image)
    defects = bright | dark
    assert mask.dtype == bool and mask.shape == defects.shape
    assert (mask & defects).sum() / defects.sum() > 0.95
    near = cv2.dilate(defects.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert (mask & ~near).sum() / (~near).sum() < 0.001
    assert mask[130:170, 180:220].mean() < 0.05  # the dark round feature is not a scratch


def test_dense_thin_texture_is_not_taken_for_scratches():
    # A basket weave is thin bright and dark strands side by side, each like a scratch on its
    # own; judged against its neighbourhood it is content (a global threshold took 51 %).
    rng = np.random.default_rng(1)
    height, width = 600, 800
    yy, xx = np.mgrid[0:height, 0:width]
    strands = np.sign(np.sin(xx / 2.0 + 2 * np.sin(yy / 9.0))) * np.sign(np.sin(yy / 2.5))
    grey = np.where(xx < 400, 0.5 + 0.25 * strands, 0.5) * 255 + rng.normal(0, 6, (height, width))
    scratch = np.zeros((height, width), np.uint8)
    cv2.line(scratch, (500, 50), (700, 550), 255, 2)  # on the plain half
    grey[scratch > 0] += 90
    image = np.repeat(grey.clip(0, 255).astype(np.uint8)[..., None], 3, axis=2)
    mask = api.detect_scratches(image)
    assert mask[:, :390].mean() < 0.01
    assert (mask & (scratch > 0)).sum() / (scratch > 0).sum() > 0.95


def test_higher_sensitivity_finds_fainter_defects():
    image, bright, _ = _scan()
    faint = image.astype(int)
    faint[bright] -= 60  # the bright scratches now stand out by only ~30 levels
    faint = faint.clip(0, 255).astype(np.uint8)
    low = api.detect_scratches(faint, sensitivity=0.0)
    high = api.detect_scratches(faint, sensitivity=1.0)
    assert (high & bright).sum() > (low & bright).sum()


def test_a_clean_photo_gives_an_almost_empty_mask():
    image, _, _ = _scan()
    clean = cv2.GaussianBlur(image, (0, 0), 3)
    assert api.detect_scratches(clean).mean() < 0.001


def test_detection_can_be_cancelled():
    image, _, _ = _scan()
    token = api.CancelToken()
    token.cancel()
    with pytest.raises(api.Cancelled):
        api.detect_scratches(image, cancel=token)
