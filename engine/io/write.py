"""Writing images atomically, keeping EXIF and ICC: :func:`write_image`."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from engine.errors import EngineError, ImageWriteError
from engine.io import encode16, png_stream
from engine.io.guard import one_line
from engine.io.metadata import clean_exif, exif_to_bytes, icc_matches, parse_exif
from engine.io.types import SUPPORTED_WRITE_SUFFIXES, ImageMeta
from engine.pixels import convert_depth, is_grey

_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
    ".webp": "WEBP",
}
_JPEG_MAX_EXIF = 65533  # one APP1 segment


def write_image(
    path: str | os.PathLike[str],
    pixels: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    meta: ImageMeta | None = None,
    quality: int = 95,
) -> None:
    """Write ``pixels`` (and ``alpha``) to ``path`` atomically, in the format its suffix names.

    Args:
        path: target file; the suffix (case-insensitive) picks PNG, JPEG, TIFF, BMP or WebP.
            The folder must exist (it is not created). A symlink is followed.
        pixels: H x W x 3 RGB, or H x W / H x W x 1 gray, ``uint8`` or ``uint16``.
        alpha: H x W (``uint8``, ``uint16`` or ``bool``; converted to the pixels' depth), or
            ``None``. Written as RGBA / gray + alpha in PNG, TIFF and WebP; JPEG and BMP have no
            alpha, so it is dropped there.
        meta: EXIF and ICC to embed (usually ``LoadedImage.meta`` of the source); when it says
            the source was grey and the three channels are equal, a grey file is written.
            The EXIF is rebuilt: orientation reset to 1, TIFF storage tags and the thumbnail
            dropped, ``PixelXDimension``/``PixelYDimension`` updated to the written size; EXIF
            that cannot be parsed is left out. An ICC profile is embedded only when its colour space
            matches the written pixels (an RGB profile for RGB, a GRAY profile for gray).
        quality: 1..100, for JPEG and WebP. JPEG at 90 or more is written without chroma
            subsampling (4:4:4). WebP at 100 is written lossless.

    What is kept, per format:
        * JPEG, WebP (Pillow's encoders): EXIF and ICC. JPEG EXIF larger than one APP1
          segment (64 KiB), and EXIF that Pillow's encoder refuses, are left out rather than
          failing the write.
        * PNG (`engine.io.png_stream`, a strip of rows at a time, with our own ``iCCP``
          and ``eXIf`` chunks; 8 and 16 bits): EXIF and ICC.
        * TIFF, 8 and 16 bits (tifffile, Deflate with the horizontal predictor,
          little-endian, written from the array itself a strip at a time): EXIF and ICC.
          The EXIF's IFD0 tags go in the TIFF's IFD0 and the Exif and GPS sub-IFDs
          (exposure, DateTimeOriginal, GPS position, Interop) are appended after the image;
          a single tag that cannot be encoded is left out rather than failing the write.
        * BMP: neither EXIF nor ICC.
        * 16-bit pixels to JPEG, BMP or WebP are reduced to 8 bits as ``(x + 128) // 257``.
        * 16-bit gray + alpha PNG is written as 16-bit RGBA (as OpenCV, which wrote it before).

    Atomicity: the image is encoded into a temporary file beside the target (honouring the
    umask), flushed with fsync, then moved over the target with ``os.replace``. On any failure
    the temporary file is removed and an existing target is left untouched.

    Raises:
        ImageWriteError: unknown suffix, invalid pixels/alpha/quality, missing or unwritable
            folder, or any encoding / disk failure; the message names the path.
    """
    target = Path(os.fsdecode(os.fspath(path)))
    suffix = target.suffix.lower()
    fmt = _FORMATS.get(suffix)
    if fmt is None:
        supported = ", ".join(sorted(SUPPORTED_WRITE_SUFFIXES))
        raise ImageWriteError(
            f"{target}: cannot write '{target.suffix or '(no suffix)'}' files; "
            f"supported suffixes: {supported}"
        )
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)):
        raise ImageWriteError(f"{target}: quality must be an integer 1..100, got {quality!r}")
    if not 1 <= int(quality) <= 100:
        raise ImageWriteError(f"{target}: quality must be 1..100, got {quality}")
    pixels, alpha = _validate(target, pixels, alpha)
    if meta is not None and meta.was_grayscale and pixels.ndim == 3 and is_grey(pixels):
        # A grey scan stays a grey file: a third of the size, and its GRAY ICC profile fits.
        pixels = pixels[..., 0]
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    folder = target.parent
    if not folder.is_dir():
        raise ImageWriteError(f"{target}: output folder {folder} does not exist")
    if target.is_dir():
        raise ImageWriteError(f"{target}: is a folder, cannot write an image over it")

    def encode(fh: IO[bytes]) -> None:
        _encode(fh, fmt, pixels, alpha, meta, int(quality))

    _atomic_write(target, encode)


# --------------------------------------------------------------------------- validation


def _as_unsigned(target: Path, array: object, what: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise ImageWriteError(f"{target}: {what} must be a numpy array, got {type(array).__name__}")
    if array.dtype == np.bool_ and what == "alpha":
        return array
    if array.dtype.kind != "u" or array.dtype.itemsize not in (1, 2):
        raise ImageWriteError(f"{target}: {what} must be uint8 or uint16, got {array.dtype}")
    return array.astype(np.uint8 if array.dtype.itemsize == 1 else np.uint16, copy=False)


def _validate(target: Path, pixels: object, alpha: object) -> tuple[np.ndarray, np.ndarray | None]:
    px = _as_unsigned(target, pixels, "pixels")
    if px.ndim == 3 and px.shape[2] == 1:
        px = px[:, :, 0]
    if not (px.ndim == 2 or (px.ndim == 3 and px.shape[2] == 3)):
        raise ImageWriteError(
            f"{target}: pixels must be HxWx3 RGB or HxW gray, got shape {tuple(px.shape)}"
        )
    if px.shape[0] == 0 or px.shape[1] == 0:
        raise ImageWriteError(f"{target}: pixels are empty, shape {tuple(px.shape)}")
    px = np.ascontiguousarray(px)
    if alpha is None:
        return px, None
    a = _as_unsigned(target, alpha, "alpha")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.shape != px.shape[:2]:
        raise ImageWriteError(
            f"{target}: alpha shape {tuple(a.shape)} does not match pixels {tuple(px.shape[:2])}"
        )
    maximum = np.iinfo(px.dtype).max
    if a.dtype == np.bool_:
        a = np.where(a, maximum, 0).astype(px.dtype)
    elif a.dtype != px.dtype:
        a = convert_depth(a, px.dtype)
    return px, np.ascontiguousarray(a)


# --------------------------------------------------------------------------- encoding


def _prepare_exif(meta: ImageMeta | None, width: int, height: int) -> Image.Exif | None:
    if meta is None or not meta.exif:
        return None
    parsed = parse_exif(meta.exif)
    if len(parsed) == 0:
        return None
    cleaned = clean_exif(parsed, size=(width, height))
    return cleaned if len(cleaned) else None


def _encode(
    fh: IO[bytes],
    fmt: str,
    pixels: np.ndarray,
    alpha: np.ndarray | None,
    meta: ImageMeta | None,
    quality: int,
) -> None:
    gray = pixels.ndim == 2
    exif = _prepare_exif(meta, pixels.shape[1], pixels.shape[0])
    exif_bytes = exif_to_bytes(exif) if exif is not None else None
    icc = meta.icc_profile if meta is not None else None
    if fmt == "PNG":  # streamed a strip of rows at a time: no copy of the image
        rgba_gray = gray and alpha is not None and pixels.dtype == np.uint16  # as RGBA
        icc = icc if icc_matches(icc, gray and not rgba_gray) else None
        png_stream.write_png(fh, pixels, alpha, icc=icc, exif=exif_bytes)
        return
    if fmt == "TIFF":  # tifffile writes from the array itself, strip by strip
        icc = icc if icc_matches(icc, gray) else None
        encode16.write_tiff16(fh, pixels, alpha, icc=icc, exif=exif)
        return
    if pixels.dtype == np.uint16:
        pixels = convert_depth(pixels, np.uint8)
        alpha = None if alpha is None else convert_depth(alpha, np.uint8)
    if fmt in ("JPEG", "BMP"):
        alpha = None
    if fmt == "WEBP" and gray:  # WebP holds RGB(A) only
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        gray = False
    array = pixels if alpha is None else np.dstack([pixels, alpha])
    image = Image.fromarray(np.ascontiguousarray(array))
    icc = icc if icc_matches(icc, gray) else None
    options: dict[str, object] = {}
    if fmt != "BMP":
        if icc:
            options["icc_profile"] = icc
        if exif_bytes and not (fmt == "JPEG" and len(exif_bytes) > _JPEG_MAX_EXIF):
            options["exif"] = exif_bytes
    if fmt == "JPEG":
        options["quality"] = quality
        if quality >= 90:
            options["subsampling"] = 0
    elif fmt == "WEBP":
        options["quality"] = quality
        options["lossless"] = quality == 100
    try:
        image.save(fh, format=fmt, **options)
    except Exception:
        if "exif" not in options:
            raise
        # An EXIF tag the encoder cannot write must not cost the user the picture.
        del options["exif"]
        fh.seek(0)
        fh.truncate()
        image.save(fh, format=fmt, **options)


# --------------------------------------------------------------------------- atomic file


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return one_line(exc)


def _create_temp(folder: Path, name: str) -> Path:
    """Create an empty temporary file in ``folder`` exclusively; mode 0o666 minus the umask.

    (``tempfile`` would make it 0o600, and the image would keep that after the rename.)
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = folder / f".{name[:100]}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(candidate, flags, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"no free temporary file name in {folder}")


# Our temporary files: ".NAME.PID-HEX.tmp", and ".NAME.HEX.tmp" from before the PID was in
# the name. A killed run leaves one behind (7-13 MB each for a photo), never removed.
_TEMP_NAME = re.compile(r"^\..+\.(?:(\d+)-)?[0-9a-f]{12}\.tmp$")
STALE_TEMP_SECONDS = 600
_swept: set[str] = set()
_swept_lock = threading.Lock()


def _is_stale(entry: os.DirEntry[str], now: float) -> bool:
    match = _TEMP_NAME.match(entry.name)
    if match is None or not entry.is_file(follow_symlinks=False):
        return False
    if match.group(1) is not None and os.name == "posix" and int(match.group(1)) != os.getpid():
        try:
            os.kill(int(match.group(1)), 0)  # signal 0: only asks whether the PID exists
        except ProcessLookupError:
            return True  # its writer is gone
        except OSError:
            pass  # alive under another user: judge by age
    # A live writer keeps its file fresh; a PID may have been reused since.
    return now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS


def remove_stale_temps(folder: Path) -> None:
    """Remove temporary files of killed writes in `folder` (once per folder and process:
    a batch writes thousands of files there). Best effort: nothing here fails a write."""
    key = os.path.realpath(folder)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                if _is_stale(entry, now):
                    os.unlink(entry.path)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows (POSIX); best effort."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _atomic_write(target: Path, encode: Callable[[IO[bytes]], None]) -> None:
    temp: Path | None = None
    remove_stale_temps(target.parent)
    try:
        temp = _create_temp(target.parent, target.name)
        # A named file (tifffile wants one), readable too: the 16-bit TIFF writer patches it.
        with open(temp, "w+b") as fh:
            encode(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
        temp = None
    except EngineError:
        raise
    except MemoryError as exc:
        raise ImageWriteError(f"{target}: not enough memory to encode the image") from exc
    except Exception as exc:
        raise ImageWriteError(f"{target}: could not write image ({_reason(exc)})") from exc
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    _fsync_folder(target.parent)
