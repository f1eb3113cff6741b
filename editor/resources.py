"""The editor's bundled files (sample photos, their credits, the icon) and its version.

The same lookup as `engine.weights.resources_dir` (which the editor may not import): the
PyInstaller bundle's ``resources/`` when frozen, else the repository's.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

APP_NAME = "Restoration Editor"
DISTRIBUTION = "rebuilding-image"  # the name in pyproject.toml; its metadata has the version
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def app_version() -> str:
    """The installed package's version (the frozen bundle carries a copy of its metadata)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        # A source tree run without `pip install -e .`: there is no version to tell.
        return "(version unknown)"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen app
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def icon_paths(root: Path | None = None) -> list[Path]:
    """The application icon's PNG renderings that exist, smallest first."""
    folder = (root or resources_dir()) / "icons"
    paths = (folder / f"restoration-editor-{size}.png" for size in ICON_SIZES)
    return [path for path in paths if path.is_file()]


def sample_photos(root: Path | None = None) -> list[Path]:
    """The bundled old photos (``samples/old_photo_*.png``), sorted by name."""
    folder = (root or resources_dir()) / "samples"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("old_photo_*.png") if p.is_file())


def sample_label(path: Path) -> str:
    """The menu label of a sample: "Old photo A" for old_photo_a.png, and "Old photo B (black
    and white)" for old_photo_b_bw.png."""
    words = path.stem.replace("_", " ").split()
    suffix = ""
    if len(words) > 1 and words[-1].lower() == "bw":
        words, suffix = words[:-1], " (black and white)"
    if words and len(words[-1]) == 1:
        words[-1] = words[-1].upper()
    if not words:
        return path.name
    words[0] = words[0].capitalize()
    return " ".join(words) + suffix


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
        f"## {APP_NAME} {app_version()}\n\n"
        "Restore old photos: denoise, paint over scratches and inpaint them, colorize, "
        "compare before and after, export.\n\n"
        "Licensed under the MIT licence.\n\n"
        f"{credits}"
    )
