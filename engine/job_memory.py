"""The memory a task's run will need beyond its input, estimated before it starts and
checked against what is free (`engine.memory.check_fits`): the result (none when it is
written into the input), the tiles (the network's activations, `bytes_per_pixel` of the
model, and the blend's stripe across the image) or, for a task that is not tiled, the
network at its working size and the task's full-size working arrays.

A refusal is `NotEnoughMemory` (an `OutOfMemory`) of one line with the numbers, before the
first tile: not an allocation failure half-way through a 100-megapixel scan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.memory import check_fits

if TYPE_CHECKING:
    import numpy as np

    from engine.tasks.registry import TaskSpec
    from engine.tiling import TilePlan

STRIPE_BYTES = 16  # a pixel of a tile row across the image: the float32 RGB blend and more
TILE_COPIES_BYTES = 64  # a tile pixel: the float32 copies around the network call
DEFAULT_WORKING_SIDE = 512


def job_parts(
    spec: TaskSpec,
    image: np.ndarray,
    plan: TilePlan | None,
    bytes_per_pixel: int,
    *,
    in_place: bool,
    network_on_host: bool = True,
) -> list[tuple[str, int]]:
    """(what, bytes) of the host memory the run allocates beyond its input (a CUDA
    device's own memory holds the network's activations: `network_on_host` False)."""
    if not network_on_host:
        bytes_per_pixel = 0
    height, width = image.shape[:2]
    pixels = height * width
    if spec.returns_mask:
        result = pixels  # a bool mask
    elif in_place and spec.in_place:
        result = 0
    else:
        result = int(image.nbytes)
    parts = [("the result", result)]
    if plan is not None:
        rows, cols = min(plan.tile, height), min(plan.tile, width)
        tiles = rows * cols * (bytes_per_pixel + TILE_COPIES_BYTES) + rows * width * STRIPE_BYTES
        parts.append((f"{plan.tile}-pixel tiles", tiles))
    else:
        side = min(spec.working_side or DEFAULT_WORKING_SIDE, max(height, width))
        if bytes_per_pixel:
            parts.append(("the network", side * side * bytes_per_pixel))
    parts.append(("working arrays", pixels * spec.work_bytes_per_pixel))
    return parts


def check_job_memory(
    spec: TaskSpec,
    image: np.ndarray,
    plan: TilePlan | None,
    bytes_per_pixel: int,
    *,
    in_place: bool,
    network_on_host: bool = True,
) -> None:
    """Refuse the run (NotEnoughMemory) when its estimate is more than the memory free."""
    height, width = image.shape[:2]
    advice = (
        "choose a smaller tile size, or close other programs"
        if plan is not None
        else "close other programs, or work on a smaller image"
    )
    parts = job_parts(
        spec, image, plan, bytes_per_pixel, in_place=in_place, network_on_host=network_on_host
    )
    setting = "tile" if plan is not None else None
    check_fits(f"{spec.name} of a {width}x{height} image", parts, advice, setting)
