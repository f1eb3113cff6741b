"""Shared guards: input-file checks, user-facing error text, Pillow's global pixel limit."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import PIL
from PIL import Image

from engine.errors import UnsupportedImage

# Pillow's own decompression-bomb check is switched off while we read (we apply
# ``max_pixels`` ourselves, before decoding). A counter makes concurrent reads restore the
# caller's value exactly once, when the last of them finishes.
_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: int | None = None


@contextlib.contextmanager
def pillow_limit_disabled() -> Iterator[None]:
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                Image.MAX_IMAGE_PIXELS = _limit_saved


def one_line(exc: BaseException) -> str:
    """A short, single-line description of an exception for a user-facing message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def check_input_file(path: str | os.PathLike[str]) -> Path:
    """The path as a :class:`Path` if it names a non-empty regular file, else UnsupportedImage."""
    file = Path(os.fsdecode(os.fspath(path)))
    try:
        info = file.stat()
    except FileNotFoundError as exc:
        raise UnsupportedImage(f"{file}: file not found") from exc
    except OSError as exc:
        raise UnsupportedImage(f"{file}: cannot access file ({one_line(exc)})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise UnsupportedImage(f"{file}: is a folder, not an image file")
    if not stat.S_ISREG(info.st_mode):
        raise UnsupportedImage(f"{file}: is not a regular file")
    if info.st_size == 0:
        raise UnsupportedImage(f"{file}: file is empty (0 bytes)")
    return file


class ReadNote(UserWarning):
    """Something the reader worked around and the user may want to know, one line naming the
    file: damaged metadata left out, only the first frame of an animation read. The CLI
    prints it as a note; an application may show it or filter it out."""


_PILLOW_DIR = os.path.dirname(PIL.__file__)
_warnings_lock = threading.Lock()  # catch_warnings swaps process-wide state


@contextlib.contextmanager
def pillow_warnings() -> Iterator[list[str]]:
    """Collect Pillow's warnings (printed with its source path and line, over two lines) as
    one-line texts; warnings from anything else pass through as they were."""
    texts: list[str] = []
    with _warnings_lock, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield texts
        finally:
            foreign = [w for w in caught if not w.filename.startswith(_PILLOW_DIR)]
            texts.extend(one_line(w.message) for w in caught if w not in foreign)
    for w in foreign:  # e.g. another thread's, raised while the filters were swapped
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
