"""The restoration tasks. Each module registers its `TaskSpec` when imported; the imports
are explicit so frozen installers (PyInstaller) bundle every task."""

from engine.tasks import colorize, denoise, detect, inpaint  # noqa: F401  (registration)
from engine.tasks.registry import TaskSpec, get_task, task_names

__all__ = ["TaskSpec", "get_task", "task_names"]
