"""Issue 24: the editor's saves write through temporary files named as the engine names its
own (".NAME.PID-HEX.tmp"), and the next save or open in that folder removes the ones a
killed save left (`engine.api.remove_stale_temps`), leaving everything else alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.doc import Document, save_ora
from editor.files import read_document

ROOT = Path(__file__).resolve().parents[2]

_KILLED_SAVE = """
import os, sys
import numpy as np
from editor.doc import Document, save_ora
os.fsync = lambda fd: os._exit(9)  # killed with the file written, before the rename
save_ora(Document(np.zeros((8, 8, 3), np.uint8)), sys.argv[1])
"""


def _killed_save(target: Path) -> Path:
    """Save `target` in a process killed half-way; the temporary file it left."""
    env = {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_SAVE, str(target)],
        cwd=ROOT, env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 9, result.stderr
    (left,) = target.parent.glob(f".{target.name}.*.tmp")
    assert not target.exists() and left.stat().st_size > 0
    return left


def test_the_temporary_file_is_named_as_the_engines(tmp_path: Path, monkeypatch) -> None:
    names = []
    replace = os.replace

    def spy(source: str, target: Path) -> None:
        names.append(Path(source).name)
        replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    save_ora(Document(np.zeros((4, 4, 3), np.uint8)), tmp_path / "work.ora")
    (name,) = names
    assert re.fullmatch(rf"\.work\.ora\.{os.getpid()}-[0-9a-f]{{12}}\.tmp", name)
    assert [p.name for p in tmp_path.iterdir()] == ["work.ora"]


@pytest.mark.parametrize("then", ["save", "open"])
def test_what_a_killed_save_left_goes_at_the_next_save_or_open(tmp_path: Path, then: str):
    left = _killed_save(tmp_path / "work.ora")
    ours_alive = tmp_path / f".other.ora.{os.getpid()}-0123456789ab.tmp"  # this process's
    not_ours = [tmp_path / ".work.ora.k3j_x9a2.tmp", tmp_path / "notes.tmp"]  # other patterns
    for path in (ours_alive, *not_ours):
        path.write_bytes(b"kept")
    if then == "save":
        save_ora(Document(np.zeros((4, 4, 3), np.uint8)), tmp_path / "other.ora")
    else:
        photo = tmp_path / "photo.png"
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(photo)
        assert read_document(photo).shape == (4, 4, 3)
    assert not left.exists()
    assert all(path.read_bytes() == b"kept" for path in (ours_alive, *not_ours))
