"""Crash-recovery copies of open documents, as OpenRaster files in one folder.

The editor writes a copy now and then while a document has unsaved changes, discards it
when the document is saved or closed, and offers the ones it finds at start-up (left behind
by a crash). Recovery files keep the document's own name and path: open them with
``load_ora(path, meta_factory=..., restore_identity=True)``.
"""

from __future__ import annotations

import re
from pathlib import Path

from editor.doc.document import Document
from editor.doc.layers import DocumentSnapshot
from editor.doc.ora import save_ora

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
