"""The training package's own exception hierarchy.

The training CLI catches `TrainingError` and prints its message, so every message is written
for a user: it names the file, the option or the setting that needs changing.
"""

from __future__ import annotations


class TrainingError(Exception):
    """Base of every failure the training code raises on purpose (user-facing message)."""


class MissingVGGWeights(TrainingError):
    """The perceptual/style loss needs ImageNet VGG16 weights that are absent or unusable."""


class DivergedError(TrainingError):
    """Training produced non-finite losses or weights and cannot continue."""
