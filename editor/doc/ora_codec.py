"""Pieces of the OpenRaster format: PNG encoding/decoding, metadata as JSON, layer placing.

`editor.doc.ora` assembles them into `save_ora` / `load_ora`.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from engine.api import ImageMeta

# A metadata value that is bytes is written as {"$bytes": "<base64>"} (JSON has no bytes).
_BYTES_KEY = "$bytes"

MetaFactory = Callable[[str | None, dict[str, Any]], Any]
"""Builds the metadata object from its stored class name (None for a dict) and fields."""


# --- PNG -----------------------------------------------------------------------------------


def encode_png(rgb: np.ndarray, alpha: np.ndarray | None = None, compression: int = 3) -> bytes:
    """PNG bytes of H×W×3 RGB (8 or 16 bit), with an alpha of the same dtype if given, or of
    an H×W single channel (grayscale)."""
    if rgb.ndim == 2:
        image = rgb
    elif alpha is None:
        image = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    else:
        image = np.dstack((rgb[..., ::-1], alpha))  # cv2 wants BGRA
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ValueError("the PNG encoder failed")
    return data.tobytes()


def decode_png(data: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """``(rgb, alpha)`` from PNG bytes: H×W×3 and H×W (or None), uint8 or uint16.

    Grayscale becomes RGB; palette and grey+alpha images come back as RGB(A) (cv2 expands
    them).
    """
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype not in (np.uint8, np.uint16) or image.size == 0:
        raise ValueError("not a readable 8- or 16-bit PNG")
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2), None
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., 2::-1]), np.ascontiguousarray(image[..., 3])
    if image.shape[2] == 3:
        return np.ascontiguousarray(image[..., ::-1]), None
    raise ValueError(f"unexpected PNG with {image.shape[2]} channels")


def place(layer: np.ndarray, fill: int, x: int, y: int, height: int, width: int) -> np.ndarray:
    """`layer` (h×w or h×w×c) put at offset (x, y) on a height×width canvas filled with `fill`;
    parts outside the canvas are cut off. A full-size layer at (0, 0) is returned as is."""
    if (x, y) == (0, 0) and layer.shape[:2] == (height, width):
        return layer
    canvas = np.full((height, width, *layer.shape[2:]), fill, dtype=layer.dtype)
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(height, y + layer.shape[0]), min(width, x + layer.shape[1])
    if y0 < y1 and x0 < x1:
        canvas[y0:y1, x0:x1] = layer[y0 - y : y1 - y, x0 - x : x1 - x]
    return canvas


# --- metadata ------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {_BYTES_KEY: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in the metadata")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES_KEY}:
            return base64.b64decode(value[_BYTES_KEY])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def meta_to_json(meta: Any) -> dict[str, Any] | None:
    """A JSON-able record of `meta`: a dataclass (by its fields and class name) or a dict.

    Anything else (or a value JSON cannot hold) is not stored and comes back as None: the
    metadata is a courtesy for export, never a reason to fail a save.
    """
    if dataclasses.is_dataclass(meta) and not isinstance(meta, type):
        kind = type(meta)
        class_name: str | None = f"{kind.__module__}.{kind.__qualname__}"
        fields = dataclasses.asdict(meta)
    elif isinstance(meta, dict):
        class_name, fields = None, meta
    else:
        return None
    try:
        return {"class": class_name, "fields": _encode(fields)}
    except TypeError:
        return None


def meta_from_json(record: Any, factory: MetaFactory | None) -> Any:
    """The metadata `meta_to_json` stored: ``factory(class_name, fields)`` when a factory is
    given, else the plain `fields` dict (bytes restored)."""
    if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
        return None
    fields = _decode(record["fields"])
    class_name = record.get("class")
    if factory is None:
        return fields
    return factory(class_name if isinstance(class_name, str) else None, fields)


def engine_meta_factory(class_name: str | None, fields: dict[str, Any]) -> Any:
    """A `meta_factory` for `load_ora` that rebuilds `engine.api.ImageMeta`."""
    if class_name is None or not class_name.endswith(".ImageMeta"):
        return fields
    try:
        return ImageMeta(**fields)
    except TypeError:  # fields of another version of the class: keep them as data
        return fields
