"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_support import write_photos


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """Ten small synthetic photos, shared read-only by every training test."""
    return write_photos(tmp_path_factory.mktemp("photos"))
