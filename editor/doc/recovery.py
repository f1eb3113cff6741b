"""Crash-recovery copies of open documents, as OpenRaster files in one folder.

The editor writes a copy now and then while a document has unsaved changes, discards it
when the document is saved or closed, and offers the ones it finds at start-up (left behind
by a crash). Recovery files keep the document's own name and path: open them with
``load_ora(path, meta_factory=..., restore_identity=True)``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from editor.doc.document import Document
from editor.doc.layers import DocumentSnapshot
from editor.doc.ora import META_ENTRY, save_ora
from editor.doc.ora_limits import META_LIMIT, STACK_LIMIT, read_entry
from editor.doc.types import DocumentError

SUFFIX = ".recovery.ora"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 80  # file-name length limits: leave room for the suffix and the temp prefix


def recovery_path(base_dir: Path | str, document_name: str) -> Path:
    """Where the recovery copy of `document_name` goes: a file-system-safe name in
    `base_dir` (e.g. "Grand-père 1932.tif" → "Grand-p_re_1932.tif.recovery.ora")."""
    stem = _UNSAFE.sub("_", document_name).strip("._")[:_MAX_STEM] or "untitled"
    return Path(base_dir) / f"{stem}{SUFFIX}"


def write_recovery(document: Document | DocumentSnapshot, path: Path | str) -> None:
    """Write the copy (atomically, fast PNG compression); creates the folder if needed.

    Leaves the document's saved state alone. Raises DocumentError when it cannot write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_ora(document, path, compression=1)


def find_recoveries(base_dir: Path | str) -> list[Path]:
    """The recovery files in `base_dir`, newest first (none when the folder is missing)."""
    folder = Path(base_dir)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def discard(path: Path | str) -> None:
    """Delete a recovery file (no error if it is already gone)."""
    Path(path).unlink(missing_ok=True)


@dataclass(frozen=True)
class RecoveryInfo:
    """What a recovery copy holds, read without decoding any pixels."""

    name: str
    width: int
    height: int
    layers: int  # every <layer> of stack.xml, the mask's included
    bytes_per_sample: int  # 1 or 2, from the first layer's PNG header
    file_size: int

    @property
    def memory_needed(self) -> int:
        """About how many bytes opening it takes: each layer decoded as RGB plus alpha,
        half as much again for the decoder's temporaries, never less than the file."""
        pixels = self.width * self.height
        decoded = pixels * self.layers * 4 * self.bytes_per_sample
        return max(decoded * 3 // 2, self.file_size)


_PNG_DEPTH_OFFSET = 24  # signature (8), IHDR length and type (8), width, height (8)


def inspect_recovery(path: Path | str) -> RecoveryInfo:
    """The declared canvas size, layer count and depth of a recovery copy (stack.xml, the
    stored name, one PNG header): enough to tell whether opening it fits in memory.
    Raises DocumentError for a file that is not a readable OpenRaster."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            root = ET.fromstring(bytes(read_entry(archive, "stack.xml", STACK_LIMIT)))
            elements = root.findall(".//layer")
            depth = 2  # unknown: assume 16-bit, the larger
            sources = [element.get("src", "") for element in elements]
            if sources and sources[-1] in archive.namelist():
                with archive.open(sources[-1]) as png:  # the bottom layer: the original
                    header = png.read(_PNG_DEPTH_OFFSET + 1)
                if len(header) > _PNG_DEPTH_OFFSET:
                    depth = 2 if header[_PNG_DEPTH_OFFSET] == 16 else 1
            name = path.name.removesuffix(SUFFIX)
            if META_ENTRY in archive.namelist():
                stored = json.loads(bytes(read_entry(archive, META_ENTRY, META_LIMIT)))
                if isinstance(stored, dict) and isinstance(stored.get("name"), str):
                    name = stored["name"]
        width, height = int(root.get("w", "0")), int(root.get("h", "0"))
        return RecoveryInfo(name, width, height, len(elements), depth, path.stat().st_size)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError) as exc:
        raise DocumentError(f"cannot open “{path.name}”: damaged file ({exc})") from exc
