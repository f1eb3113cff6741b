"""OpenRaster (.ora) files: the layered format GIMP and Krita read and write.

Written by `save_ora` (spec 0.0.5): a ZIP whose first entry is ``mimetype`` (stored,
``image/openraster``), ``stack.xml`` (layers top first), one PNG per layer under ``data/``,
``mergedimage.png`` (the 8-bit composite) and ``Thumbnails/thumbnail.png`` (≤ 256 px).

What plain ORA has no word for is kept in ways other programs ignore:

- the original is marked ``restoration:role="original"``; its PNG alpha is the image's own
  alpha channel (other layers' PNG alpha is their coverage, which GIMP shows correctly);
- the mask is one more, hidden, grayscale layer marked ``restoration:role="mask"``;
- ``restoration/meta.json`` holds the document's name and path and its metadata (a dataclass
  such as ``engine.api.ImageMeta`` by its fields, bytes in base64), rebuilt on load by a
  `meta_factory` (e.g. `engine_meta_factory`) or else returned as a plain dict.
- ``restoration/hints.json``, only when there are colour pins: the CLI's hint list.

`load_ora` also reads ORA files from GIMP/Krita: layers at any offset and size are placed on
full-size layers (outside them the coverage is 0), the bottom one becomes the original.
Groups are flattened into their layers (their visibility and opacity multiplied in);
blend modes other than normal are read as normal.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from editor.doc.document import Document
from editor.doc.hints import hints_entries, read_hints
from editor.doc.layers import DocumentSnapshot, Layer
from editor.doc.ora_codec import (
    MetaFactory,
    decode_png,
    encode_png,
    meta_from_json,
    meta_to_json,
    place,
)
from editor.doc.ora_limits import (
    META_LIMIT,
    MIMETYPE_LIMIT,
    STACK_LIMIT,
    Declared,
    DocumentTooLarge,
    check_canvas,
    check_layer,
    check_layer_count,
    check_memory,
    document_sample_bytes,
    memory_needed,
    png_header,
    read_entry,
)
from editor.doc.types import DocumentError
from engine import api
from engine.api import convert_depth

MIMETYPE = b"image/openraster"
NAMESPACE = "https://example.invalid/restoration"
ROLE = f"{{{NAMESPACE}}}role"
META_ENTRY = "restoration/meta.json"
THUMBNAIL_SIZE = 256

ET.register_namespace("restoration", NAMESPACE)


def _opacity_text(opacity: float) -> str:
    # The shortest decimal that reads back as the same float: opacity round-trips exactly.
    return np.format_float_positional(opacity, unique=True, trim="0")


def _layer_element(stack: ET.Element, name: str, src: str, visible: bool, opacity: float) -> dict:
    attributes = {
        "name": name,
        "src": src,
        "visibility": "visible" if visible else "hidden",
        "opacity": _opacity_text(opacity),
        "x": "0",
        "y": "0",
    }
    return ET.SubElement(stack, "layer", attributes).attrib


def _entries(snap: DocumentSnapshot, compression: int) -> list[tuple[str, bytes]]:
    """Every file of the archive but ``mimetype``, in order."""
    root = ET.Element("image", {"w": str(snap.width), "h": str(snap.height), "version": "0.0.5"})
    stack = ET.SubElement(root, "stack")
    # (name, what encodes it): the PNGs are encoded together at the end, see below.
    jobs: list[tuple[str, Callable[[], bytes]]] = []
    mask = _layer_element(stack, "Mask", "data/mask.png", False, 1.0)
    mask[ROLE] = "mask"
    jobs.append(("data/mask.png", partial(encode_png, snap.mask, None, compression)))
    for index in reversed(range(len(snap.layers))):  # the spec lists the top layer first
        layer = snap.layers[index]
        src = f"data/layer{index}.png"
        element = _layer_element(stack, layer.name, src, layer.visible, layer.opacity)
        if index == 0:
            element[ROLE] = "original"
            alpha = snap.alpha
        else:
            alpha = None if layer.coverage is None else convert_depth(layer.coverage, snap.dtype)
        jobs.append((src, partial(encode_png, layer.pixels, alpha, compression)))
    merged = snap.composite_rgb8()
    merged_alpha = None if snap.alpha is None else convert_depth(snap.alpha, np.uint8)
    jobs.append(("mergedimage.png", partial(encode_png, merged, merged_alpha, compression)))
    scale = THUMBNAIL_SIZE / max(snap.width, snap.height)
    thumb = merged
    if scale < 1.0:
        size = (max(1, round(snap.width * scale)), max(1, round(snap.height * scale)))
        thumb = cv2.resize(merged, size, interpolation=cv2.INTER_AREA)
    jobs.append(("Thumbnails/thumbnail.png", partial(encode_png, thumb)))
    # PNG encoding dominates a save (seconds at 24 MP) and OpenCV releases the GIL while it
    # runs; two at a time is most of the gain without holding many full-size copies at once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = list(pool.map(lambda job: job(), [job for _, job in jobs]))
    record = {
        "format": 1,
        "name": snap.name,
        "path": None if snap.path is None else str(snap.path),
        "meta": meta_to_json(snap.meta),
    }
    return [
        ("stack.xml", ET.tostring(root, encoding="utf-8", xml_declaration=True)),
        *zip([name for name, _ in jobs], encoded, strict=True),
        (META_ENTRY, json.dumps(record, indent=1).encode("utf-8")),
        *hints_entries(snap.hints),  # the colour pins (`editor.doc.hints`)
    ]


def _create_temp(path: Path) -> tuple[int, str]:
    """A new private file to write `path` through, named as the engine names its own
    (".NAME.PID-HEX.tmp"), after removing the ones killed saves left in that folder: the
    editor's and the engine's, by `engine.api.remove_stale_temps`."""
    api.remove_stale_temps(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = path.parent / f".{path.name[:100]}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
        with contextlib.suppress(FileExistsError):
            return os.open(temporary, flags, 0o600), str(temporary)
    raise FileExistsError(f"no free temporary file name in {path.parent}")


def save_ora(
    source: Document | DocumentSnapshot, path: Path | str, *, compression: int = 3
) -> None:
    """Write `source` to `path` as OpenRaster, atomically: a temporary file in the same
    folder replaces `path` only once complete, and is removed on any failure.

    `compression` is the PNG level (0..9; 1 is much faster, e.g. for recovery files). To save
    from a worker thread, pass `document.snapshot()` taken on the GUI thread. Does not call
    `mark_saved`: the caller decides what the file is (a save, an export, a recovery copy).
    Raises DocumentError when the file cannot be written.
    """
    path = Path(path)
    snap = source.snapshot() if isinstance(source, Document) else source
    try:
        entries = _entries(snap, compression)
        handle, temporary = _create_temp(path)
    except (OSError, ValueError, cv2.error) as exc:
        raise DocumentError(f"cannot save “{path.name}”: {exc}") from exc
    done = False
    try:
        with os.fdopen(handle, "wb") as file:
            with zipfile.ZipFile(file, "w") as archive:
                # The spec: first, uncompressed, so `file` and friends can identify the format.
                archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, zipfile.ZIP_STORED)
                for name, data in entries:
                    # PNGs are compressed already; deflating them again only costs time.
                    method = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                    archive.writestr(name, data, method)
            file.flush()
            os.fsync(file.fileno())
        # The file was made private (0600); give it the mode a new document would have.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
        done = True
    except OSError as exc:
        raise DocumentError(f"cannot save “{path.name}”: {exc.strerror or exc}") from exc
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


@dataclass
class _Entry:
    """One `<layer>` of stack.xml, with what enclosing groups add to it."""

    element: ET.Element
    visible: bool
    opacity: float


def _collect(stack: ET.Element, visible: bool, opacity: float, out: list[_Entry]) -> None:
    for child in stack:
        child_visible = visible and child.get("visibility", "visible") != "hidden"
        child_opacity = opacity * min(1.0, max(0.0, float(child.get("opacity", "1"))))
        if child.tag == "layer":
            out.append(_Entry(child, child_visible, child_opacity))
        elif child.tag == "stack":
            _collect(child, child_visible, child_opacity, out)


@dataclass
class _Planned:
    """A layer as stack.xml and its PNG header declare it, checked, not yet decoded."""

    entry: _Entry
    name: str
    src: str
    x: int
    y: int
    declared: Declared


def _read(
    archive: zipfile.ZipFile, meta_factory: MetaFactory | None, max_pixels: int
) -> tuple[list[Layer], np.ndarray | None, np.ndarray | None, dict]:
    stack, height, width = _stack(archive, max_pixels)
    hints = read_hints(archive, width, height)  # small: checked before any layer is read
    entries: list[_Entry] = []
    _collect(stack, True, 1.0, entries)
    entries.reverse()  # bottom first from here on
    count = sum(entry.element.get(ROLE) != "mask" for entry in entries)
    if count == 0:
        raise DocumentError("it has no layers")
    check_layer_count(height, width, count)  # before any layer is opened
    planned = _plan(archive, entries, max_pixels, height, width)
    declared = [plan.declared for plan in planned]
    check_memory(height, width, count, memory_needed(height, width, declared))
    dtype = np.dtype(np.uint16 if document_sample_bytes(declared) == 2 else np.uint8)
    ours = any(entry.element.get(ROLE) for entry in entries)
    layers, mask, image_alpha = _decode(archive, planned, ours, dtype, height, width)
    info: object = {}
    if META_ENTRY in archive.namelist():
        info = json.loads(bytes(read_entry(archive, META_ENTRY, META_LIMIT)))
    if not isinstance(info, dict):
        raise DocumentError(f"its {META_ENTRY} is not an object")
    info["meta"] = meta_from_json(info.get("meta"), meta_factory)
    info["hints"] = hints
    return layers, mask, image_alpha, info


def _stack(archive: zipfile.ZipFile, max_pixels: int) -> tuple[ET.Element, int, int]:
    """The <stack> element of stack.xml and the image's height and width."""
    names = set(archive.namelist())
    mimetype = read_entry(archive, "mimetype", MIMETYPE_LIMIT) if "mimetype" in names else None
    if mimetype is not None and mimetype.strip() != MIMETYPE:
        raise DocumentError("it is not an OpenRaster image (wrong mimetype)")
    if "stack.xml" not in names:
        raise DocumentError("it has no stack.xml")
    root = ET.fromstring(bytes(read_entry(archive, "stack.xml", STACK_LIMIT)))
    stack = root.find("stack")
    if root.tag != "image" or stack is None:
        raise DocumentError("its stack.xml has no <image><stack>")
    width, height = int(root.get("w", "0")), int(root.get("h", "0"))
    check_canvas(width, height, max_pixels)
    return stack, height, width


def _plan(
    archive: zipfile.ZipFile, entries: list[_Entry], max_pixels: int, height: int, width: int
) -> list[_Planned]:
    """Every layer's source, offset and PNG header, each checked against the limits."""
    names = set(archive.namelist())
    planned: list[_Planned] = []
    number = 0  # of the image layers so far
    for entry in entries:
        is_mask = entry.element.get(ROLE) == "mask"
        number += not is_mask
        name = entry.element.get("name") or f"Layer {number}"
        src = entry.element.get("src", "")
        if src not in names:
            raise DocumentError(f"layer “{name}” has no image ({src or 'no src'})")
        header = png_header(archive, src, name)
        info = archive.getinfo(src)
        check_layer(name, header, info, max_pixels)
        x, y = int(entry.element.get("x", "0")), int(entry.element.get("y", "0"))
        full = (x, y, header.height, header.width) == (0, 0, height, width)
        declared = Declared(header, min(info.file_size, header.max_entry_size), full, is_mask)
        planned.append(_Planned(entry, name, src, x, y, declared))
    return planned


def _decode(
    archive: zipfile.ZipFile,
    planned: list[_Planned],
    ours: bool,
    dtype: np.dtype,
    height: int,
    width: int,
) -> tuple[list[Layer], np.ndarray | None, np.ndarray | None]:
    """The stack at the document's depth, bottom first, the mask (full size) if there is
    one, and the original's alpha. One layer is decoded at a time."""
    layers: list[Layer] = []
    mask: np.ndarray | None = None
    image_alpha: np.ndarray | None = None
    for plan in planned:
        header = plan.declared.header
        rgb, alpha = decode_png(read_entry(archive, plan.src, header.max_entry_size))
        if rgb.shape[:2] != (header.height, header.width):
            raise DocumentError(f"layer “{plan.name}” is not the size its PNG header says")
        x, y = plan.x, plan.y
        if plan.declared.is_mask:
            mask = place(convert_depth(rgb[..., 0], np.uint8), 0, x, y, height, width)
            continue
        if alpha is None and not plan.declared.full_size:
            alpha = np.full(rgb.shape[:2], np.iinfo(rgb.dtype).max, rgb.dtype)  # its extent
        pixels = convert_depth(place(rgb, 0, x, y, height, width), dtype)
        del rgb
        is_original = not layers  # the bottom layer, in our files and in others
        if alpha is not None:
            # The original's alpha is the image's (document dtype); others' is a coverage.
            depth = dtype if is_original else np.dtype(np.uint8)
            alpha = place(convert_depth(alpha, depth), 0, x, y, height, width)
            # Foreign files store RGBA everywhere: an alpha that hides nothing means "none".
            if not ours and bool(np.all(alpha == np.iinfo(alpha.dtype).max)):
                alpha = None
        if is_original:
            image_alpha = alpha
        coverage = None if is_original else alpha
        entry = plan.entry
        number = len(layers) + 1
        layers.append(
            Layer(number, plan.name, pixels, entry.visible, entry.opacity, False, coverage)
        )
    return layers, mask, image_alpha


def load_ora(
    path: Path | str,
    *,
    meta_factory: MetaFactory | None = None,
    restore_identity: bool = False,
    max_pixels: int = api.DEFAULT_MAX_PIXELS,
) -> Document:
    """Read an OpenRaster file (ours, GIMP's, Krita's) into a new, unmodified document.

    `meta_factory(class_name, fields)` rebuilds the stored metadata (see module docstring).
    The document is named after the file and has it as `path`, unless `restore_identity`
    (for recovery files): then the name and path stored at save time come back.
    Before decoding anything, the canvas and every layer are checked against `max_pixels`
    (the images' limit) and the whole document against the memory free (`ora_limits`).
    Raises DocumentError, naming the file, for anything unreadable or beyond those limits.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            layers, mask, alpha, info = _read(archive, meta_factory, max_pixels)
        if restore_identity:
            stored = info.get("path")
            name, origin = info.get("name"), None if not stored else Path(stored)
        else:
            name, origin = path.stem, path
        return Document.from_layers(
            layers, mask=mask, alpha=alpha, meta=info["meta"], path=origin, name=name,
            hints=info["hints"],
        )  # fmt: skip
    except DocumentError as exc:  # DocumentTooLarge stays one: it is a MemoryError too
        raise type(exc)(f"cannot open “{path.name}”: {exc}") from exc
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"cannot open “{path.name}”: not an OpenRaster (ZIP) file") from exc
    except MemoryError as exc:
        raise DocumentTooLarge(f"cannot open “{path.name}”: not enough memory") from exc
    except (OSError, ValueError, KeyError, EOFError, ET.ParseError, zlib.error) as exc:
        raise DocumentError(f"cannot open “{path.name}”: damaged file ({exc})") from exc
    except (NotImplementedError, cv2.error) as exc:
        raise DocumentError(f"cannot open “{path.name}”: unsupported content ({exc})") from exc
    except Exception as exc:  # anything else a crafted file provokes (TypeError, ...)
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise DocumentError(f"cannot open “{path.name}”: damaged file ({reason})") from exc
