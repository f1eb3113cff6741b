"""The task registry: one `TaskSpec` per restoration task, registered by its own module.

Everything that differs between tasks is found here by name — which model class runs the
network (its encoding, decoding and large-image strategy), what settings it takes, and the
task's policies — so `engine.api`, the CLI, the trainers, the exporter and the benchmarks
dispatch through one table instead of each keeping its own if/elif. Adding a task is one
module that defines its `InferenceModel` subclass and calls `register`, plus one import in
`engine/tasks/__init__.py` (explicit: folder scanning breaks frozen installers).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from engine.errors import ModelUnavailable
from engine.tasks.base import InferenceModel


@dataclass(frozen=True)
class TaskSpec:
    """What the rest of the project needs to know about a task."""

    name: str  # the manifest's, the CLI's and the weight files' task name
    title: str  # for people: progress lines, CLI help
    model: type[InferenceModel]  # runs the network: encoding, decoding, large-image strategy
    request: type  # frozen dataclass of the task's settings (engine.options)
    keeps_grey: bool = True  # a grey photo comes back grey (not true of colorize)
    accepts_float: bool = False  # float32 images on [0, 1] (unclipped noisy data) accepted
    tiled: bool = True  # runs tile by tile at full resolution (uses a TilePlan)
    working_side: int | None = None  # default side of the model's working resolution
    scale_from_training: bool = False  # the model works at its training crop size, not above
    # The result is a bool H×W mask, not a picture: no pixel policy (grey stays grey) applies.
    returns_mask: bool = False
    # The model's `run` takes `out=`: the result may be written into the input itself (a
    # caller that gives its input up, `run_task(in_place=True)`, saves an image-sized copy).
    in_place: bool = False
    # Bytes a pixel of the whole image the run allocates beyond its result (a non-tiled
    # task's full-size working arrays), for the memory estimate made before it starts.
    work_bytes_per_pixel: int = 0

    @property
    def settings(self) -> tuple[str, ...]:
        """The request's field names (the CLI maps options onto them by name)."""
        return tuple(f.name for f in fields(self.request))


_TASKS: dict[str, TaskSpec] = {}


def register(spec: TaskSpec) -> TaskSpec:
    if spec.name in _TASKS and _TASKS[spec.name] != spec:
        raise ValueError(f"task {spec.name!r} is already registered")
    _TASKS[spec.name] = spec
    return spec


def get_task(name: str) -> TaskSpec:
    """The task called `name`, or ModelUnavailable listing the known ones."""
    try:
        return _TASKS[name]
    except KeyError:
        known = ", ".join(_TASKS) or "none"
        raise ModelUnavailable(f"unknown task '{name}'; known: {known}") from None


def task_names() -> tuple[str, ...]:
    return tuple(_TASKS)
