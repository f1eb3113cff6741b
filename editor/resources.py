"""The editor's bundled files: the sample photos and their credits.

The same lookup as `engine.weights.resources_dir` (which the editor may not import): the
PyInstaller bundle's ``resources/`` when frozen, else the repository's.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP_NAME = "Restoration Editor"
VERSION = "0.1.0"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def sample_photos(root: Path | None = None) -> list[Path]:
    """The bundled old photos (``samples/old_photo_*.png``), sorted by name."""
    folder = (root or resources_dir()) / "samples"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("old_photo_*.png") if p.is_file())


def sample_label(path: Path) -> str:
    """The menu label of a sample: "Old photo A" for old_photo_a.png."""
    words = path.stem.replace("_", " ").split()
    if words and len(words[-1]) == 1:
        words[-1] = words[-1].upper()
    if not words:
        return path.name
    words[0] = words[0].capitalize()
    return " ".join(words)


def about_markdown(root: Path | None = None) -> str:
    """The About box: what the program is, then the sample photos' credits (CREDITS.md)."""
    credits_file = (root or resources_dir()) / "samples" / "CREDITS.md"
    try:
        credits = credits_file.read_text(encoding="utf-8")
    except OSError:
        credits = "The sample photos' credits (samples/CREDITS.md) are missing."
    # Its headings go one level below the About box's own title.
    credits = "\n".join(
        "##" + line if line.startswith("#") else line for line in credits.split("\n")
    )
    return (
        f"## {APP_NAME} {VERSION}\n\n"
        "Restore old photos: denoise, paint over scratches and inpaint them, colorize, "
        "compare before and after, export.\n\n"
        "Licensed under the MIT licence.\n\n"
        f"{credits}"
    )
