"""Reading images into upright RGB arrays, keeping EXIF and ICC: :func:`read_image`."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from engine.errors import EngineError, UnsupportedImage
from engine.io import decode16, png_bands
from engine.io.bounds import (
    check_decode_memory,
    check_expansion,
    check_pillow_memory,
    check_pixels,
    file_bits,
)
from engine.io.guard import (
    ReadNote,
    check_input_file,
    one_line,
    pillow_limit_disabled,
    pillow_warnings,
)
from engine.io.jpeg_end import restore_end_marker
from engine.io.metadata import (
    ORIENTATION_TAG,
    apply_orientation,
    clean_exif,
    exif_to_bytes,
    orientation_of,
    parse_exif,
    png_find_chunk,
    png_header,
    srgb_profile_bytes,
    webp_size,
    xmp_orientation,
)
from engine.io.types import DEFAULT_MAX_PIXELS, ImageMeta, LoadedImage
from engine.options import check_max_pixels

_PIL_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")  # JPEG also yields MPO
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG16_MODES = {0: "I;16", 2: "RGB;16", 4: "LA;16", 6: "RGBA;16"}


def read_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    compressible: bool = False,
) -> LoadedImage:
    """Read a PNG, JPEG, TIFF, BMP, WebP or GIF file into upright RGB pixels, alpha, metadata.

    * The format is recognised from the content, not the suffix. Multi-frame files (multi-page
      TIFF, animated WebP and GIF, MPO) give their first frame; an animated GIF says so in a
      :class:`ReadNote` warning, as does damaged metadata that was left out (one line naming
      the file, instead of Pillow's own warnings). A JPEG that lacks only its end marker is
      read (``engine.io.jpeg_end``); a truncated one is refused.
    * The EXIF orientation (all eight values) is applied to the pixels and the alpha; the kept
      EXIF then says orientation 1. EXIF that cannot be parsed is dropped, not fatal.
    * Grayscale (``L``, ``1``, ``I;16``) is replicated to three channels
      (``meta.was_grayscale``); palette becomes RGB, or RGB + alpha when it has transparency;
      ``LA``/``RGBA`` give their alpha untouched; a colour-key transparency (``tRNS``) gives
      an alpha channel. CMYK is converted to RGB through the embedded ICC profile when
      LittleCMS accepts it (the profile kept is then sRGB), else with Pillow's conversion
      (no profile kept).
    * 16-bit PNG and TIFF keep 16 bits (``uint16`` pixels, ``meta.bit_depth == 16``).
    * 32-bit integer and floating-point images are refused (:class:`UnsupportedImage`): their
      value range is not defined well enough to convert without guessing.
    * ``width * height > max_pixels`` raises :class:`ImageTooLarge`, checked from the header
      before any pixel is decoded. Pillow's global limit is switched off during the call and
      restored afterwards. ``max_pixels`` itself must be 1..10 000 million
      (:class:`InvalidRequest` otherwise).
    * A file whose data would expand more than 100:1 (a decompression bomb: an 843 KB PNG
      of 17000×17000 zeros) is held to an eighth of ``max_pixels`` (:class:`ImageTooLarge`),
      unless ``compressible`` says such files are expected (masks: mostly one value).
    * Decoding that would need more memory than is free (the decoder's pixels, a converted
      copy, the result) is refused before it starts (:class:`NotEnoughMemory`, an
      :class:`OutOfMemory` naming the numbers). An 8-bit PNG is decoded a band of rows at
      a time and an 8- or 16-bit TIFF by tifffile, straight into the result; other files
      are copied out of Pillow a strip at a time (the peak: Pillow's storage + the result).

    Raises:
        UnsupportedImage: missing, empty, unreadable, truncated, corrupt or unsupported file;
            the one-line message names the file and the problem.
        ImageTooLarge: more pixels than ``max_pixels`` (or a bomb's expansion, above).
        NotEnoughMemory: decoding needs more memory than is free.
    """
    max_pixels = check_max_pixels(max_pixels)  # InvalidRequest naming the range
    file = check_input_file(path)
    try:
        with pillow_limit_disabled(), pillow_warnings() as damaged:
            loaded = _read(file, max_pixels, compressible)
        if damaged:  # Pillow warns per damaged EXIF tag, over two lines with its own path
            note = f"{file}: damaged metadata left out ({damaged[0]})"
            warnings.warn(ReadNote(note), stacklevel=2)
        return loaded
    except EngineError:
        raise
    except MemoryError as exc:
        raise UnsupportedImage(f"{file}: not enough memory to decode this image") from exc
    except Exception as exc:  # Pillow, cv2, tifffile and OSError all end up here
        raise UnsupportedImage(f"{file}: cannot decode image ({one_line(exc)})") from exc


def _read(file: Path, max_pixels: int, compressible: bool) -> LoadedImage:
    with open(file, "rb") as fh:
        head = fh.read(32)
    file_size = file.stat().st_size
    webp = webp_size(head)
    if webp is not None:  # libwebp allocates the whole canvas when Pillow opens the file
        check_pixels(file, webp, max_pixels)
        if not compressible:
            check_expansion(file, webp, 24, file_size, max_pixels)
        check_decode_memory(file, webp, decoder=4, converted=4, result=4)
    Image.init()  # register every plugin: Image.open(formats=...) only looks them up
    try:
        im = Image.open(file, formats=_PIL_FORMATS)
    except UnidentifiedImageError:
        if head.startswith(_TIFF_MAGIC):
            return _read_tiff_without_pillow(file, max_pixels, compressible)
        raise UnsupportedImage(
            f"{file}: not a supported image file (PNG, JPEG, TIFF, BMP, WebP or GIF expected)"
        ) from None
    with im:
        fmt = "JPEG" if im.format == "MPO" else str(im.format)
        check_pixels(file, im.size, max_pixels)
        png = png_header(head) if fmt == "PNG" else None
        if not compressible:
            check_expansion(file, im.size, file_bits(im.mode, png), file_size, max_pixels)
        if png is not None and png[2] == 16:
            samples = {0: 1, 2: 3, 4: 2, 6: 4}.get(png[3], 4)
            check_decode_memory(
                file, im.size, decoder=2 * samples, converted=0, result=8, extra=file_size
            )
            return _read_png16(file, im, png[3])
        if fmt == "TIFF" and _is_tiff16(im):
            sample = 2 if _tiff_bits(im) == 16 else 1  # the page's samples, then the result
            check_decode_memory(file, im.size, decoder=4 * sample, converted=0, result=4 * sample)
            return _read_tiff16(file, im)
        if png is not None and png_bands.bandable(head, im.info):
            # A band inflated, its small PNG and its pixels.
            band = 3 * min(png_bands.BAND_BYTES, im.size[1] * (1 + 4 * im.size[0]))
            check_decode_memory(file, im.size, decoder=0, converted=0, result=4, extra=band)
            loaded = _read_png_bands(file, im, png[3])
            if loaded is not None:
                return loaded
        check_pillow_memory(file, im.mode, im.size, "transparency" in im.info)
        return _read_pillow(file, im, fmt)


def _finish(
    rgb: np.ndarray,
    alpha: np.ndarray | None,
    exif: Image.Exif,
    *,
    fmt: str,
    mode: str,
    gray: bool,
    icc: bytes | None,
) -> LoadedImage:
    orientation = orientation_of(exif)
    if orientation != 1:
        rgb = apply_orientation(rgb, orientation)
        alpha = None if alpha is None else apply_orientation(alpha, orientation)
    rgb = np.require(rgb, requirements=("C", "W", "O"))
    if alpha is not None:
        alpha = np.require(alpha, dtype=rgb.dtype, requirements=("C", "W", "O"))
    exif_bytes = exif_to_bytes(clean_exif(exif, size=(rgb.shape[1], rgb.shape[0])))
    meta = ImageMeta(
        source_format=fmt,
        source_mode=mode,
        bit_depth=16 if rgb.dtype == np.uint16 else 8,
        was_grayscale=gray,
        exif=exif_bytes,
        icc_profile=bytes(icc) if icc else None,
    )
    return LoadedImage(pixels=rgb, alpha=alpha, meta=meta)


def _safe_exif(im: Image.Image) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:  # corrupt EXIF: keep the picture, lose the tags
        return Image.Exif()


# --------------------------------------------------------------------------- 16-bit paths


def _png_exif(im: Image.Image, raw: bytes | None) -> Image.Exif:
    """A PNG's EXIF from its eXIf chunk's data `raw` (wherever it was), else from the text
    chunks before the pixels, with an XMP orientation where EXIF has none (what Pillow's
    `getexif` does, without decoding the image)."""
    raw = raw or im.info.get("exif")
    if not raw and "Raw profile type exif" in im.info:
        with contextlib.suppress(Exception):
            raw = bytes.fromhex("".join(im.info["Raw profile type exif"].split("\n")[3:]))
    exif = parse_exif(raw)
    if ORIENTATION_TAG not in exif and (xmp := xmp_orientation(im.info)):
        exif[ORIENTATION_TAG] = xmp
    return exif


def _read_png16(file: Path, im: Image.Image, colour_type: int) -> LoadedImage:
    data = file.read_bytes()
    rgb, alpha, gray = decode16.decode_png16(file, data, im.size, colour_type)
    exif = _png_exif(im, png_find_chunk(data, b"eXIf"))
    mode = _PNG16_MODES.get(colour_type, "RGB;16")
    icc = im.info.get("icc_profile")
    return _finish(rgb, alpha, exif, fmt="PNG", mode=mode, gray=gray, icc=icc)


def _read_png_bands(file: Path, im: Image.Image, colour_type: int) -> LoadedImage | None:
    """An 8-bit PNG decoded a band at a time into the result (`engine.io.png_bands`), or
    None when the file is damaged (the whole-image path then says how)."""
    decoded = png_bands.read_bands(file, im.size, colour_type)
    if decoded is None:
        return None
    rgb, alpha, raw = decoded
    gray = colour_type in (0, 4)
    exif = _png_exif(im, raw)
    icc = im.info.get("icc_profile")
    return _finish(rgb, alpha, exif, fmt="PNG", mode=im.mode, gray=gray, icc=icc)


_TIFFFILE_CODECS = (1, 8, 32773, 32946)  # none, Deflate, PackBits: no imagecodecs needed


def _tiff_bits(im: Image.Image) -> int:
    bits = getattr(im, "tag_v2", {}).get(258, 8)
    return max(bits) if isinstance(bits, tuple) else bits


def _is_tiff16(im: Image.Image) -> bool:
    """16-bit TIFFs, and 8-bit ones tifffile decodes itself (straight into the result, where
    Pillow would hold RGB at 4 bytes a pixel first), go through tifffile."""
    tags = getattr(im, "tag_v2", {})
    bits = _tiff_bits(im)
    # CMYK and other colour spaces stay with Pillow (which reduces them to 8 bits).
    if tags.get(262, 1) not in (0, 1, 2):
        return False
    return bits == 16 or (bits == 8 and tags.get(259, 1) in _TIFFFILE_CODECS)


def _tiff16_mode(rgb: np.ndarray, alpha: np.ndarray | None, gray: bool) -> str:
    if rgb.dtype == np.uint8:
        return ("LA" if gray else "RGBA") if alpha is not None else ("L" if gray else "RGB")
    return ("LA;16" if gray else "RGBA;16") if alpha is not None else ("I;16" if gray else "RGB;16")


def _read_tiff16(file: Path, im: Image.Image) -> LoadedImage:
    exif = _safe_exif(im)
    icc = im.info.get("icc_profile")
    rgb, alpha, gray = decode16.decode_tiff(file, im.size)
    mode = _tiff16_mode(rgb, alpha, gray)
    return _finish(rgb, alpha, exif, fmt="TIFF", mode=mode, gray=gray, icc=icc)


def _read_tiff_without_pillow(file: Path, max_pixels: int, compressible: bool) -> LoadedImage:
    """TIFFs Pillow cannot open (e.g. 16-bit gray + alpha, unusual layouts): pixels from
    tifffile, EXIF (IFD0 and its sub-IFDs) from Pillow's TIFF directory parser."""
    width, height, orientation, icc = decode16.probe_tiff(file)
    check_pixels(file, (width, height), max_pixels)
    if not compressible:
        check_expansion(file, (width, height), 16, file.stat().st_size, max_pixels)
    check_decode_memory(file, (width, height), decoder=8, converted=8, result=8)
    rgb, alpha, gray = decode16.decode_tiff(file, (width, height))
    mode = _tiff16_mode(rgb, alpha, gray)
    with open(file, "rb") as fh:  # open while _finish reads the sub-IFDs
        exif = Image.Exif()
        try:
            exif.load_from_fp(fh)
        except Exception:  # corrupt EXIF, BigTIFF: keep the picture, lose the tags
            exif = Image.Exif()
        if orientation_of(exif) != orientation:  # tifffile's reading of the tag decides
            exif[ORIENTATION_TAG] = orientation
        return _finish(rgb, alpha, exif, fmt="TIFF", mode=mode, gray=gray, icc=icc)


# --------------------------------------------------------------------------- Pillow path


def _load(file: Path, im: Image.Image, fmt: str) -> Image.Image:
    """Decode `im`; a JPEG that lacks only its end marker gets it back (`jpeg_end`), while a
    truncated one is still refused."""
    try:
        im.load()
        return im
    except OSError as exc:
        if fmt != "JPEG" or "truncated" not in str(exc):
            raise
        repaired = restore_end_marker(file.read_bytes())
        if repaired is None:
            raise
    whole = Image.open(io.BytesIO(repaired), formats=["JPEG"])
    whole.load()
    return whole


def _pixels_of(im: Image.Image) -> np.ndarray:
    """``np.array(im)`` without its whole-image temporaries (Pillow's ``tobytes()`` and the
    copy of it): the rows are copied into one array a strip of ~8 MB at a time."""
    width, height = im.size
    first = np.asarray(im.crop((0, 0, width, 1)))
    out = np.empty((height, *first.shape[1:]), first.dtype)
    step = max(1, (8 << 20) // max(1, first.nbytes))
    for top in range(0, height, step):
        bottom = min(height, top + step)
        out[top:bottom] = np.asarray(im.crop((0, top, width, bottom)))
    return out


def _convert(im: Image.Image, mode: str) -> Image.Image:
    """`im` in L, LA, RGB or RGBA (`im` itself when it is already)."""
    has_trns = "transparency" in im.info
    if mode == "1" or mode == "L":
        return im.convert("LA") if has_trns else (im if mode == "L" else im.convert("L"))
    if mode == "La":
        return im.convert("LA")
    if mode in ("P", "PA"):
        return im.convert("RGBA") if (has_trns or mode == "PA") else im.convert("RGB")
    if (mode == "RGB" and has_trns) or mode == "RGBa":
        return im.convert("RGBA")
    if mode not in ("L", "LA", "RGB", "RGBA"):
        return im.convert("RGB")  # RGBX, YCbCr, HSV...: Pillow raises for what it cannot do
    return im


def _read_pillow(file: Path, opened: Image.Image, fmt: str) -> LoadedImage:
    if fmt == "GIF" and getattr(opened, "is_animated", False):  # before decoding: it seeks
        note = f"{file}: animated GIF, only its first frame is read"
        warnings.warn(ReadNote(note), stacklevel=2)
    decoded = _load(file, opened, fmt)
    exif = _safe_exif(decoded)
    icc = decoded.info.get("icc_profile") or None
    mode = decoded.mode
    gray = mode in ("1", "L", "LA", "La") or mode.startswith("I;16")
    if mode in ("F", "I") or mode.startswith(("I;32", "F;")) or mode == "I;16S":
        kind = "floating-point" if mode.startswith("F") else "32-bit or signed integer"
        raise UnsupportedImage(
            f"{file}: {kind} images (mode {mode}) are not supported; export it as 8- or 16-bit"
        )
    if mode.startswith("I;16"):
        values = _pixels_of(decoded).astype(np.uint16, copy=False)
        decoded.close()  # frees Pillow's copy of the pixels before the RGB one is made
        rgb = np.repeat(values[:, :, None], 3, axis=2)
        return _finish(rgb, None, exif, fmt=fmt, mode=mode, gray=True, icc=icc)
    if mode == "CMYK":
        converted, icc = _cmyk_to_rgb(decoded, icc)
    else:
        converted = _convert(decoded, mode)
    if converted is not decoded:
        decoded.close()
    array = _pixels_of(converted)
    alpha_band = converted.mode in ("LA", "RGBA")
    converted.close()  # the decoder's pixels are gone before any further copy is made
    if array.ndim == 2:
        array = array[:, :, None]
    alpha = None
    if alpha_band:
        alpha = array[:, :, -1]
        array = array[:, :, :-1]
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return _finish(array, alpha, exif, fmt=fmt, mode=mode, gray=gray, icc=icc)


def _cmyk_to_rgb(im: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """CMYK to RGB: through the file's own profile into sRGB if possible, else Pillow's way."""
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(im, source, target, outputMode="RGB")
            if converted is not None and converted.mode == "RGB":
                return converted, srgb_profile_bytes()
        except Exception:  # a broken or non-CMYK profile: fall back below
            pass
    return im.convert("RGB"), None
