"""A noise-level denoiser's level is estimated once per image and each tile gets its part."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from task_support import finish

from engine.archs import build_arch
from engine.errors import Cancelled
from engine.options import DenoiseRequest, NoiseKind
from engine.pixels import from_unit
from engine.tasks.base import decode_rgb, encode_rgb
from engine.tasks.denoise import Denoiser, remove_impulses, tile_levels
from engine.tiling import CancelToken, TilePlan, plan_spans

CPU = torch.device("cpu")
PLAN = TilePlan(96, 32, multiple=8)


def _model() -> Denoiser:
    torch.manual_seed(0)
    net = build_arch(
        "denoise_cond", base_channels=4, blocks=1, outer_blocks=1, estimator_channels=4
    )
    with torch.no_grad():  # a level input and an estimate that vary, as trained ones do
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return Denoiser(net, CPU, full_precision=True)


def _noisy(height: int = 600, width: int = 150, seed: int = 0) -> np.ndarray:
    """Grain that grows from left to right, over a ramp: the level varies across tiles."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(50, 200, height, dtype=np.float32)[:, None, None]
    sigma = np.linspace(2, 30, width, dtype=np.float32)[None, :, None]
    noisy = ramp + rng.normal(0, 1, (height, width, 3)) * sigma
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _spy_levels(model: Denoiser) -> list[torch.Tensor]:
    """The level grid of every network call (None where the network estimates its own)."""
    seen: list[torch.Tensor] = []
    forward = model.net.forward

    def spy(x, strength=1.0, level=None, **kwargs):
        seen.append(None if level is None else torch.as_tensor(level).clone())
        return forward(x, strength=strength, level=level, **kwargs)

    model.net.forward = spy
    return seen


@pytest.mark.parametrize("noise", [NoiseKind.GAUSSIAN, NoiseKind.SALT_AND_PEPPER])
def test_every_tile_gets_its_part_of_the_whole_images_estimate(noise):
    model, image = _model(), _noisy()
    unit = image.astype(np.float32) / 255
    seen = _spy_levels(model)
    finish(model.run(image, DenoiseRequest(1.0, noise), plan=PLAN, cancel=None))
    # Estimated in two blocks of rows (600 > 512) on what the tiles give the network.
    cleaned = remove_impulses(unit) if noise is NoiseKind.SALT_AND_PEPPER else unit
    whole = model.estimate_level(encode_rgb(cleaned))
    origins = [
        (y.start, x.start) for y in plan_spans(600, 96, 32, 8) for x in plan_spans(150, 96, 32, 8)
    ]
    assert len(seen) == len(origins) > 8
    tile_edge_errors = []
    for (y0, x0), level in zip(origins, seen, strict=True):
        rows, cols = level.shape[-2:]
        part = whole[y0 // 8 : y0 // 8 + rows, x0 // 8 : x0 // 8 + cols]
        # So neighbouring tiles agree where they overlap, and with the whole image.
        np.testing.assert_allclose(level[0, 0].numpy(), part, rtol=1e-5, atol=1e-4)
        tile = cleaned[y0 : y0 + rows * 8, x0 : x0 + cols * 8]
        tile_edge_errors.append(np.abs(model.estimate_level(encode_rgb(tile)) - part).max())
    # What a tile's own estimate would have been: off near the tile's edges.
    assert max(tile_edge_errors) > 0.05 * whole.mean()


def test_tiles_off_the_cell_grid_get_the_grid_interpolated_at_their_cells():
    levels = np.arange(20, dtype=np.float32).reshape(4, 5) * 10
    np.testing.assert_array_equal(tile_levels(levels, (8, 16), (16, 16)), levels[1:3, 2:4])
    half = tile_levels(levels, (4, 0), (16, 8))  # half a cell down: between two rows
    np.testing.assert_allclose(half[:, 0], [25.0, 75.0])
    beyond = tile_levels(levels, (24, 32), (16, 16))  # a tile's padding past the last cell
    np.testing.assert_array_equal(beyond, np.full((2, 2), 190.0))


def test_strength_zero_returns_the_input_exactly_when_tiled():
    model, image = _model(), _noisy(200, 150, seed=1)
    out = finish(model.run(image, DenoiseRequest(0.0), plan=PLAN, cancel=None))
    assert np.array_equal(out, image)


def test_cancel_stops_between_estimator_blocks_before_any_tile():
    model, image, token = _model(), _noisy(), CancelToken()
    seen = _spy_levels(model)
    calls = []
    estimate = model.net.estimate_level

    def cancelling(x):
        calls.append(x.shape)
        token.cancel()  # as if the user pressed Cancel during the first block
        return estimate(x)

    model.net.estimate_level = cancelling
    with pytest.raises(Cancelled):
        finish(model.run(image, DenoiseRequest(), plan=PLAN, cancel=token))
    assert len(calls) == 1 and calls[0][-2] < 600 and seen == []


def test_an_image_in_one_tile_is_denoised_as_the_network_alone_would():
    """One tile, one estimate: the same pixels as before the whole-image estimate."""
    model, image = _model(), _noisy(100, 120, seed=2)
    out = finish(model.run(image, DenoiseRequest(1.3), plan=TilePlan(256, 64), cancel=None))
    unit = image.astype(np.float32) / 255
    alone = decode_rgb(model.predict(encode_rgb(unit), strength=1.3))
    assert np.array_equal(out, from_unit(alone, np.uint8))
