"""Draw the application icon once into resources/icons/ (PNG at every size the desktops ask).

`python packaging/make_icon.py` rewrites the PNGs; they are committed, so a build needs no
drawing. The picture: an old print in a white border, its left half sepia and scratched,
its right half restored in colour — what the program does, legible down to 32 pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
SIZES = (16, 32, 48, 64, 128, 256, 512)
CANVAS = 1024  # drawn once at this size, then downsampled (antialiasing for free)


def _scene(width: int, height: int, *, colour: bool) -> Image.Image:
    """Sky, sun, two hills: the photo inside the border."""
    sky_top, sky_bottom = ((70, 130, 200), (175, 210, 235)) if colour else ((96, 72, 48),) * 2
    scene = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(scene)
    for y in range(height):  # a vertical gradient, brightest at the horizon
        t = y / max(1, height - 1)
        row = tuple(round(a + (b - a) * t) for a, b in zip(sky_top, sky_bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=row if colour else (150, 118, 82))
    sun = (250, 205, 80) if colour else (222, 196, 150)
    draw.ellipse([width * 0.58, height * 0.14, width * 0.82, height * 0.38], fill=sun)
    far = (60, 120, 80) if colour else (110, 84, 58)
    near = (40, 90, 50) if colour else (80, 60, 40)
    draw.polygon(
        [
            (0, height),
            (0, height * 0.62),
            (width * 0.4, height * 0.42),
            (width * 0.9, height * 0.7),
            (width, height),
        ],
        fill=far,
    )
    draw.polygon(
        [
            (0, height),
            (width * 0.25, height * 0.78),
            (width * 0.7, height * 0.6),
            (width, height * 0.72),
            (width, height),
        ],
        fill=near,
    )
    return scene


def draw_icon(size: int = CANVAS) -> Image.Image:
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    margin, border = size * 0.08, size * 0.06
    frame = [margin, margin, size - margin, size - margin]
    shadow = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle(
        [c + size * 0.02 for c in frame], radius=size * 0.05, fill=(0, 0, 0, 110)
    )
    icon.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(size * 0.02)))
    ImageDraw.Draw(icon).rounded_rectangle(frame, radius=size * 0.05, fill=(250, 247, 240, 255))
    inner = [round(margin + border), round(margin + border)]
    side = round(size - 2 * (margin + border))
    old, new = _scene(side, side, colour=False), _scene(side, side, colour=True)
    photo = old.copy()
    photo.paste(new.crop((side // 2, 0, side, side)), (side // 2, 0))
    draw = ImageDraw.Draw(photo)
    width = max(2, side // 90)
    scratches = ((0.08, 0.1, 0.3, 0.9), (0.22, 0.05, 0.42, 0.55), (0.05, 0.6, 0.45, 0.7))
    for x0, y0, x1, y1 in scratches:
        draw.line(
            [(side * x0, side * y0), (side * x1, side * y1)], fill=(238, 228, 205), width=width
        )
    draw.line([(side // 2, 0), (side // 2, side)], fill=(255, 255, 255), width=max(2, side // 60))
    icon.paste(photo, tuple(inner))
    return icon


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else ROOT / "resources" / "icons"
    target.mkdir(parents=True, exist_ok=True)
    master = draw_icon()
    for size in SIZES:
        master.resize((size, size), Image.Resampling.LANCZOS).save(
            target / f"restoration-editor-{size}.png", optimize=True
        )
    print(f"wrote {len(SIZES)} icons to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
