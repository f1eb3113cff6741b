"""Issue 24: files other editors open (a JPEG without its end marker, an animated GIF, damaged
EXIF) open here too, with one line of our own; killed writes leave no temp files for good."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import cli
from engine.errors import UnsupportedImage
from engine.io import ReadNote, read_image, write_image
from engine.io import write as write_module
from engine.io.jpeg_end import restore_end_marker


def _photo(h: int = 75, w: int = 101) -> np.ndarray:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w]
    smooth = np.dstack([x * 2, y * 3, x + y]).astype(np.int64)
    return np.clip(smooth + rng.integers(0, 60, (h, w, 3)), 0, 255).astype(np.uint8)


def _jpeg(**options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(_photo()).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


JPEG_KINDS = [
    {"quality": 90},
    {"quality": 75, "subsampling": 2},
    {"quality": 85, "progressive": True},
    {"quality": 60, "restart_marker_blocks": 3},
]


# --------------------------------------------------------------------------- JPEG end marker


@pytest.mark.parametrize("options", JPEG_KINDS)
@pytest.mark.parametrize("missing", [2, 1])
def test_a_jpeg_lacking_only_its_end_marker_is_read_whole(tmp_path, options, missing):
    data = _jpeg(**options)
    path = tmp_path / "scan.jpg"
    path.write_bytes(data[:-missing])
    loaded = read_image(path)
    assert loaded.meta.source_format == "JPEG"
    assert np.array_equal(loaded.pixels, _decoded(data))


@pytest.mark.parametrize("options", JPEG_KINDS)
def test_a_truncated_jpeg_is_still_refused(tmp_path, options):
    data = _jpeg(**options)
    path = tmp_path / "cut.jpg"
    # Cuts through the data, near its end, and at every byte of the last 40.
    cuts = [len(data) // 2, len(data) * 9 // 10, *range(len(data) - 42, len(data) - 2)]
    for cut in cuts:
        assert restore_end_marker(data[:cut]) is None, cut
    path.write_bytes(data[: len(data) - 5])
    with pytest.raises(UnsupportedImage, match="cut.jpg.*truncated"):
        read_image(path)


def test_an_intact_or_foreign_file_is_not_repaired():
    data = _jpeg()
    assert restore_end_marker(data) is None  # nothing missing
    assert restore_end_marker(b"\x89PNG\r\n\x1a\n" + data[2:-2]) is None
    assert restore_end_marker(data[:300]) is None  # cut inside the headers or first scan


# --------------------------------------------------------------------------- warnings


def _with_damaged_exif(path: Path) -> Path:
    """A JPEG whose EXIF says its Make tag holds 16 MB (Pillow warns and skips the tag)."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS 5D"
    Image.fromarray(_photo()).save(path, "JPEG", exif=exif.tobytes())
    data = bytearray(path.read_bytes())
    entry = data.find(b"\x01\x0f\x00\x02")  # Make, ASCII (big-endian IFD)
    assert entry > 0
    data[entry + 4 : entry + 8] = (1 << 24).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path


def test_damaged_exif_gives_one_note_of_our_own(tmp_path):
    path = _with_damaged_exif(tmp_path / "exif.jpg")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = read_image(path)
    assert [w.category for w in caught] == [ReadNote]
    note = str(caught[0].message)
    assert note.startswith(f"{path}: damaged metadata left out") and "\n" not in note
    assert loaded.pixels.shape == (75, 101, 3)


def test_other_warnings_raised_while_reading_pass_through(tmp_path, monkeypatch):
    path = tmp_path / "a.png"
    Image.fromarray(_photo()).save(path)
    from engine.io import read as read_module

    original = read_module._read

    def noisy(*args: object):
        warnings.warn("not Pillow's", DeprecationWarning, stacklevel=1)
        return original(*args)

    monkeypatch.setattr(read_module, "_read", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_image(path)
    assert [str(w.message) for w in caught] == ["not Pillow's"]


def test_the_cli_prints_notes_as_one_line_each(tmp_path, tiny_resources):
    exif, gif = _with_damaged_exif(tmp_path / "exif.jpg"), _animated_gif(tmp_path / "anim.gif")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "engine", "denoise", str(exif), str(gif), "-o", str(out)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "OMP_NUM_THREADS": "1",
            "REBUILDING_IMAGE_RESOURCES": str(tiny_resources),
        },
        timeout=120,
    )
    assert result.returncode == cli.EXIT_OK, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("note: ") for line in lines)
    assert "exif.jpg: damaged metadata" in lines[0] and "anim.gif: animated GIF" in lines[1]
    assert "PIL" not in result.stderr and "warnings.warn" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["anim.png", "exif.jpg"]


# --------------------------------------------------------------------------- GIF


def _animated_gif(path: Path) -> Path:
    frames = [Image.fromarray(np.full((20, 30, 3), v, np.uint8)) for v in (10, 200, 90)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def test_an_animated_gif_gives_its_first_frame_and_says_so(tmp_path):
    path = _animated_gif(tmp_path / "anim.gif")
    with pytest.warns(ReadNote, match="anim.gif: animated GIF, only its first frame"):
        loaded = read_image(path)
    assert loaded.meta.source_format == "GIF" and loaded.pixels.shape == (20, 30, 3)
    assert (loaded.pixels == 10).all() and loaded.alpha is None


def test_a_still_gif_with_transparency_reads_quietly(tmp_path):
    path = tmp_path / "still.gif"
    image = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), "P")
    image.save(path, transparency=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = read_image(path)
    assert loaded.alpha is not None and loaded.alpha[0, 0] == 0 and loaded.alpha[0, 1] == 255


def test_a_gif_input_gets_a_png_beside_it(tmp_path):
    source = _animated_gif(tmp_path / "anim.gif")
    assert cli.default_output(source) == tmp_path / "anim-restored.png"


# --------------------------------------------------------------------------- temp files


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temp(folder: Path, name: str, age_s: float = 0.0) -> Path:
    path = folder / name
    path.write_bytes(b"partial image")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_a_write_removes_the_temp_files_of_killed_writes(tmp_path):
    stale = [
        _temp(tmp_path, f".photo.png.{_dead_pid()}-0123456789ab.tmp"),  # its writer is gone
        _temp(tmp_path, f".other.jpg.{os.getpid()}-00000000beef.tmp", age_s=3600),  # old
        _temp(tmp_path, ".photo.png.a1b2c3d4e5f6.tmp", age_s=3600),  # from before the PID
    ]
    kept = [
        _temp(tmp_path, f".photo.png.{os.getpid()}-fedcba987654.tmp"),  # in progress
        _temp(tmp_path, ".photo.png.a1b2c3d4e5f6.tmp.bak", age_s=3600),  # not our pattern
        _temp(tmp_path, "notes.tmp", age_s=3600),
        _temp(tmp_path, ".photo.png.a1b2c3d4e5f6.tmp2", age_s=3600),
    ]
    write_image(tmp_path / "photo.png", _photo())
    assert [p.exists() for p in stale] == [False] * len(stale)
    assert [p.exists() for p in kept] == [True] * len(kept)
    assert (tmp_path / "photo.png").is_file()


def test_the_temp_name_carries_the_writers_pid(tmp_path):
    temp = write_module._create_temp(tmp_path, "photo.png")
    assert temp.name.startswith(f".photo.png.{os.getpid()}-") and temp.name.endswith(".tmp")
    assert write_module._TEMP_NAME.match(temp.name)


def test_a_write_killed_midway_is_cleaned_by_the_next_process(tmp_path):
    code = (
        "import os, numpy as np\n"
        "from engine.io import write as w\n"
        "def die(fh, *a):\n"
        "    fh.write(b'half an image'); fh.flush(); os._exit(9)\n"
        "w._encode = die\n"
        f"w.write_image(r'{tmp_path}/photo.png', np.zeros((8, 8, 3), np.uint8))\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], cwd=root, timeout=120, check=False)
    assert len(list(tmp_path.glob(".photo.png.*.tmp"))) == 1  # the killed write's leftover
    subprocess.run(
        [sys.executable, "-c", code.replace("w._encode = die\n", "")],
        cwd=root,
        timeout=120,
        check=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]
