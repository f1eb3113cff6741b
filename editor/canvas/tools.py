"""What a left-drag on the canvas does."""

from __future__ import annotations

from enum import Enum


class Tool(Enum):
    BRUSH = "brush"  # left-drag paints the mask, right-drag erases (the window stamps strokes)
    PAN = "pan"  # left-drag moves the image
    HINT = "hint"  # click places a colour pin, drag moves one, Delete removes the selected
