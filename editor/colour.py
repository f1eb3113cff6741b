"""Does a photo already have colour? (Colorize asks before replacing it.)

A toned black-and-white print (sepia, cyanotype, a yellowed scan) is tinted but not
coloured: every pixel's chroma points the same way, only its amount changes with
brightness. A colour photo has chroma in several directions (blue dress, green leaves). So
the measure is the spread of the pixels' chroma *across* its main direction: the smaller
axis of their chroma's second moment, in 8-bit levels. Toned versions of the bundled
samples score 0.4–2.2, the samples themselves (faded early colour photos) 4.2–10.9.
"""

from __future__ import annotations

import numpy as np

COLOUR_THRESHOLD = 3.0  # 8-bit levels: above scanner chroma noise, below faded colour
_SAMPLE_PIXELS = 250_000  # a subsample is plenty for a second moment, in milliseconds


def colourfulness(pixels: np.ndarray) -> float:
    """Chroma spread across the dominant tint (0 for grey or a single-tone print)."""
    step = max(1, int(np.sqrt(pixels.shape[0] * pixels.shape[1] / _SAMPLE_PIXELS)))
    scale = np.float32(255.0 / float(np.iinfo(pixels.dtype).max))
    rgb = pixels[::step, ::step].reshape(-1, 3).astype(np.float32) * scale
    red, green, blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    # Opponent chroma: red–green and yellow–blue; grey pixels are (0, 0).
    chroma = np.stack([red - green, (red + green) / 2 - blue], axis=1)
    moment = chroma.T @ chroma / max(1, len(chroma))  # about 0, not the mean: a tint counts
    smallest = float(np.linalg.eigvalsh(moment.astype(np.float64))[0])
    return float(np.sqrt(max(0.0, smallest)))


def has_colour(pixels: np.ndarray) -> bool:
    return colourfulness(pixels) > COLOUR_THRESHOLD
