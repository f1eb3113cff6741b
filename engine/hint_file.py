"""Colour-hint files: the JSON list `python -m engine colorize --hints FILE` reads, written
and read the same way by the editor (its pins, a document's hints), so both agree.

    [{"x": 120, "y": 80, "rgb": [200, 150, 120]}, ...]

``x``, ``y``: the input image's pixels (x to the right, y down, origin top-left);
``rgb``: 0-255 (`engine.options.ColourHint`). Whether the points lie on the photo is checked
when the photo is known (`engine.options.check_hints_inside`). Every problem is one
`InvalidRequest` line naming the file and, where it is one hint's, the hint (from 1).
Plain Python: no Qt, no torch.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from engine.errors import ImageWriteError, InvalidRequest
from engine.options import ColourHint

__all__ = ["MAX_FILE_BYTES", "hints_to_json", "load_hints", "parse_hints", "save_hints"]

MAX_FILE_BYTES = 1 << 20  # ~30 000 hints; a photo passed by mistake is refused unread
EXAMPLE = '[{"x": 120, "y": 80, "rgb": [200, 150, 120]}, ...]'
_KEYS = ("x", "y", "rgb")


def load_hints(path: str | os.PathLike) -> tuple[ColourHint, ...]:
    """The hints of a JSON hint file, or InvalidRequest naming the file and the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidRequest(
                f"{path}: {size / 1e6:.1f} MB is too large for a hint file "
                f"(at most {MAX_FILE_BYTES / 1e6:.0f} MB); expected a JSON list like {EXAMPLE}"
            )
        text = path.read_bytes().decode("utf-8-sig")  # a BOM some editors write is fine
    except FileNotFoundError:
        raise InvalidRequest(f"{path}: no such hint file") from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"{path}: not JSON (not UTF-8 text)") from None
    except OSError as exc:
        raise InvalidRequest(f"{path}: cannot read the hint file ({exc.strerror or exc})") from None
    return parse_hints(text, str(path))


def parse_hints(text: str, source: str = "hints") -> tuple[ColourHint, ...]:
    """The hints of a JSON text (`source` names it in errors: a file, a document's part)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InvalidRequest(f"{source}: not JSON ({exc.msg} at {where})") from None
    except RecursionError:
        raise InvalidRequest(f"{source}: not a hint list (nested too deeply)") from None
    if not isinstance(data, list):
        raise InvalidRequest(f"{source}: expected a JSON list like {EXAMPLE}, got {_kind(data)}")
    return tuple(_hint(item, number, source) for number, item in enumerate(data, 1))


def _kind(value: object) -> str:
    """How a JSON value is called in an error line."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    return "null" if value is None else "a number"


def _hint(item: object, number: int, source: str) -> ColourHint:
    where = f"{source}: hint {number}"
    if not isinstance(item, dict):
        example = '{"x": 120, "y": 80, "rgb": [200, 150, 120]}'
        raise InvalidRequest(f"{where}: expected an object like {example}, got {_kind(item)}")
    missing = [key for key in _KEYS if key not in item]
    if missing:
        raise InvalidRequest(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(key) for key in item if key not in _KEYS)
    if unknown:  # a misspelt key must not be dropped silently
        raise InvalidRequest(f"{where}: unknown key {', '.join(unknown)} (keys: x, y, rgb)")
    try:
        return ColourHint(item["x"], item["y"], item["rgb"])
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}: {exc}") from None


def _plain(value: float) -> int | float:
    """A whole coordinate written as 120, not 120.0 (files people read and write)."""
    return int(value) if value.is_integer() else value


def hints_to_json(hints: Iterable[ColourHint]) -> str:
    """The JSON text `parse_hints` reads back: one hint a line."""
    lines = [json.dumps({"x": _plain(h.x), "y": _plain(h.y), "rgb": list(h.rgb)}) for h in hints]
    return "[\n" + ",\n".join(f"  {line}" for line in lines) + "\n]\n" if lines else "[]\n"


def save_hints(path: str | os.PathLike, hints: Iterable[ColourHint]) -> None:
    """Write a hint file whole (a temporary beside it, then renamed: never half a file), or
    ImageWriteError naming it."""
    path = Path(path)
    text = hints_to_json(hints)
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise ImageWriteError(f"{path}: cannot write the hint file ({reason})") from None
