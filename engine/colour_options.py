"""The settings of Restore Colours (`engine.colour_restore`), torch-free like `engine.options`."""

from __future__ import annotations

from dataclasses import dataclass

from engine.options import _unit_number


@dataclass(frozen=True)
class ColoursRequest:
    """Restore Colours settings: strength 0..1 blends the correction (0 returns the input,
    1 applies what the analysis found; a photo found unfaded gets little at any strength)."""

    strength: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", _unit_number("strength", self.strength))
