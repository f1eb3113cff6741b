"""Finding training images on disk and holding some of them out for validation.

The scan only reads file headers (size), never the pixels, so a folder of thousands of
photos is listed in seconds; files that still fail to decode later are handled by the
datasets (see :mod:`training.data.datasets`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from engine.io import DEFAULT_MAX_PIXELS, is_supported_image_path
from engine.io.guard import pillow_limit_disabled
from training.errors import TrainingError

BENCH_FOLDER_NAME = "bench"
"""A folder of this name holds benchmark images: they must never be trained on."""

_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP")  # what engine.io.read_image opens
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


class TrainingDataError(TrainingError):
    """The training images cannot be used: missing folder, too few images, benchmark folder,
    every file unreadable. The message names the folder or file and what to change."""


@dataclass
class ImageScan:
    """What :func:`scan_images` found.

    Attributes:
        paths: usable image files, sorted by path (the same folders always give the same list).
        skipped: ``(file, reason)`` for every candidate that was left out, in path order.
    """

    paths: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _has_bench_part(path: Path) -> bool:
    return any(part.lower() == BENCH_FOLDER_NAME for part in path.parts)


def _is_bench_folder(folder: Path) -> bool:
    """Whether `folder`, as given or resolved (symlinks, ``..``), lies in a benchmark folder."""
    if _has_bench_part(folder):
        return True
    with contextlib.suppress(OSError):  # an unresolvable path is judged as given
        return _has_bench_part(folder.resolve())
    return False


def _header_size(file: Path) -> tuple[int, int]:
    """``(width, height)`` from the file header only; raises on anything that is not an image.

    EXIF orientation may swap width and height, which does not matter for a short-side check.
    """
    if file.stat().st_size == 0:
        raise ValueError("empty file")
    with open(file, "rb") as fh:
        head = fh.read(8)
    Image.init()  # register every plugin: Image.open(formats=...) only looks them up
    try:
        # Pillow's own bomb check would refuse images engine.io reads; the caller checks size.
        with pillow_limit_disabled(), Image.open(file, formats=_PIL_FORMATS) as im:
            return int(im.size[0]), int(im.size[1])
    except UnidentifiedImageError:
        if not head.startswith(_TIFF_MAGIC):
            raise ValueError("not an image file (PNG, JPEG, TIFF, BMP or WebP expected)") from None
    # Pillow cannot open some 16-bit TIFF layouts that engine.io reads through tifffile.
    import tifffile  # only needed for those rare files

    with tifffile.TiffFile(file) as tif:
        page = tif.pages.first
        return int(page.imagewidth), int(page.imagelength)


def _check_file(file: Path, min_side: int) -> str | None:
    """None when `file` looks usable, else a short reason for skipping it."""
    try:
        width, height = _header_size(file)
    except Exception as exc:  # Pillow, tifffile and OSError: all mean "cannot be used"
        text = " ".join(str(exc).split()) or type(exc).__name__
        return f"unreadable image header ({text[:150]})"
    if width <= 0 or height <= 0:
        return f"image has no pixels ({width}x{height})"
    if width * height > DEFAULT_MAX_PIXELS:
        return f"image is larger than {DEFAULT_MAX_PIXELS:,} pixels"
    if min(width, height) < min_side:
        return f"image is {width}x{height}, smaller than {min_side} px on its short side"
    return None


def _candidates(folder: Path) -> Iterable[Path]:
    """Every supported-suffix regular file below `folder`, in no particular order."""
    seen: set[str] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        # Links are followed (datasets are often linked in), but a link cycle is walked once.
        real = os.path.realpath(root)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()  # deterministic walk; the result is sorted again anyway
        for name in files:
            file = Path(root) / name
            if is_supported_image_path(file) and file.is_file():
                yield file


def scan_images(dirs: Sequence[Path | str], *, min_side: int) -> ImageScan:
    """Recursively list the usable training images in `dirs`.

    A file is usable when its suffix is one :mod:`engine.io` reads, its header opens and its
    short side is at least `min_side` pixels. Other candidates go to ``skipped`` with a
    reason; files under a ``bench`` sub-folder are skipped too (never train on benchmarks).

    Raises:
        TrainingDataError: a folder is missing, is not a folder, is a benchmark folder or
            holds no usable image, or fewer than 2 usable images were found in all.
    """
    if min_side < 1:
        raise TrainingDataError(f"min_side must be at least 1, got {min_side}")
    if not dirs:
        raise TrainingDataError("no training image folder was given")
    found: dict[Path, Path] = {}  # resolved -> as found, so overlapping folders count once
    skipped: dict[Path, str] = {}
    counts: dict[Path, int] = {}
    for given in dirs:
        folder = Path(given)
        if _is_bench_folder(folder):
            raise TrainingDataError(
                f"{folder} is a benchmark folder; never train on benchmark images"
            )
        if not folder.exists():
            raise TrainingDataError(f"training image folder {folder} does not exist")
        if not folder.is_dir():
            raise TrainingDataError(f"training image folder {folder} is not a folder")
        counts[folder] = 0
        for file in _candidates(folder):
            if _has_bench_part(file.relative_to(folder)):
                skipped[file] = "inside a benchmark folder; never train on benchmark images"
                continue
            reason = _check_file(file, min_side)
            if reason is not None:
                skipped[file] = reason
                continue
            counts[folder] += 1
            found.setdefault(file.resolve(), file)
    paths = sorted(found.values(), key=lambda p: p.as_posix())
    summary = ", ".join(f"{folder} ({n} usable)" for folder, n in counts.items())
    empty = [folder for folder, n in counts.items() if n == 0]
    if empty or len(paths) < 2:
        where = ", ".join(str(f) for f in (empty or counts))
        examples = "; ".join(f"{p.name}: {r}" for p, r in list(skipped.items())[:3])
        raise TrainingDataError(
            f"not enough training images in {where}: found {len(paths)} usable image(s) in all "
            f"[{summary}], need at least 2 with a short side of {min_side} px or more"
            + (f"; {len(skipped)} file(s) skipped, e.g. {examples}" if skipped else "")
        )
    ordered_skips = sorted(skipped.items(), key=lambda item: item[0].as_posix())
    return ImageScan(paths=paths, skipped=ordered_skips)


def _split_key(path: Path, seed: int) -> bytes:
    # A hash per path (not a shuffle of the list) keeps the split independent of input order,
    # and adding an image later leaves every other image on the side it was on.
    return hashlib.sha256(f"{seed}\0{path.as_posix()}".encode()).digest()


def split_train_val(
    paths: Sequence[Path], val_fraction: float, seed: int, min_val: int = 1
) -> tuple[list[Path], list[Path]]:
    """Deterministic held-out split: ``(train, val)``, each sorted by path, disjoint.

    ``round(len(paths) * val_fraction)`` images (at least `min_val`, and always leaving at
    least one for training) go to validation. The same paths and seed always give the same
    split, whatever order the paths are given in.

    Raises:
        TrainingDataError: `val_fraction` outside [0, 1), or too few paths for the split.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise TrainingDataError(f"val_fraction must be in [0, 1), got {val_fraction}")
    unique = sorted({Path(p) for p in paths}, key=lambda p: p.as_posix())
    n_val = max(int(min_val), round(len(unique) * val_fraction))
    if n_val > 0 and len(unique) - n_val < 1:
        raise TrainingDataError(
            f"cannot hold out {n_val} validation image(s) from {len(unique)} image(s): "
            "add images or lower val_fraction"
        )
    ranked = sorted(unique, key=lambda p: _split_key(p, seed))
    val = sorted(ranked[:n_val], key=lambda p: p.as_posix())
    train = sorted(ranked[n_val:], key=lambda p: p.as_posix())
    return train, val
