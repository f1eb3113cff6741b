"""Helpers of the task tests (a plain module, imported by name)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


def finish(gen: Generator[Any, None, Any]) -> Any:
    """Run a task model's generator to its end (progress ignored); its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
