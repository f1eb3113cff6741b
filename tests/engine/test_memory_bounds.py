"""Issue 24: memory checked before work starts, and flat in the image's size.

- A run or a decode that needs more than the free memory is refused up front with one line
  that gives the numbers (`NotEnoughMemory`, an `OutOfMemory`); the CLI names the option.
- The free memory counts `ulimit -v` (RLIMIT_AS), not only what the system has.
- A file whose data expands far more than any photo's is held to 1/8 of the pixel limit.
- In place: the CLI's run writes its result into the input's rows (no second image).
- PNG and TIFF are encoded a strip at a time (`engine.io.png_stream`, tifffile).
"""

from __future__ import annotations

import io
import subprocess
import sys
import zlib

import numpy as np
import pytest
from bad_corpus import ROOT, png_chunk, zero_png
from PIL import Image

import engine.memory
from engine import api, cli
from engine.io import png_bands, png_stream
from engine.memory import amount, check_fits
from engine.tiling import TilePlan, iter_tiled
from engine.weights import RESOURCES_ENV


def _options(resources) -> api.RunOptions:
    return api.RunOptions(device="cpu", resources=resources, threads=1)


def _photo(height: int = 64, width: int = 80) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_check_fits_names_the_parts_and_the_free_memory(monkeypatch):
    monkeypatch.setattr(engine.memory, "available_memory", lambda: 1_500_000_000)
    check_fits("x", [("a", 1_000_000_000)], "do less")  # fits: nothing happens
    with pytest.raises(api.NotEnoughMemory) as info:
        check_fits("x", [("a", 1_000_000_000), ("b", 867_000_000)], "do less", "tile")
    error = info.value
    assert isinstance(error, api.OutOfMemory) and error.setting == "tile"
    assert (error.needed, error.available) == (1_867_000_000, 1_500_000_000)
    assert str(error) == (
        "x needs about 1.9 GB of memory (a 1.0 GB, b 867.0 MB), more than the 1.5 GB free; "
        "do less"
    )
    assert amount(843_112) == "843.1 KB" and amount(12) == "12 bytes"


def test_a_run_needing_more_than_is_free_is_refused_before_it_starts(monkeypatch, tiny_resources):
    monkeypatch.setattr(engine.memory, "available_memory", lambda: 50_000)
    image = _photo()
    before = image.copy()
    with pytest.raises(api.NotEnoughMemory) as info:
        api.denoise(image, options=_options(tiny_resources))
    message = str(info.value)
    assert message.startswith("denoise of a 80x64 image needs about ") and "\n" not in message
    assert "the result 15.4 KB" in message and "-pixel tiles" in message
    assert "more than the 50.0 KB free; choose a smaller tile size" in message
    assert info.value.setting == "tile" and info.value.needed > 50_000
    assert np.array_equal(image, before)
    with pytest.raises(api.NotEnoughMemory) as info:  # not tiled: no tile to blame
        api.colorize(image, options=_options(tiny_resources))
    assert info.value.setting is None and "close other programs" in str(info.value)


def test_the_cli_names_the_tile_option(monkeypatch, tmp_path, capsys, tiny_resources):
    monkeypatch.setenv(RESOURCES_ENV, str(tiny_resources))
    monkeypatch.setattr(engine.memory, "available_memory", lambda: 200_000)  # reads, no run
    source, target = tmp_path / "scan.png", tmp_path / "out.png"
    api.write_image(source, _photo())
    code = cli.main(["denoise", str(source), "-o", str(target), "--quiet", "--threads", "1"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_SOME_FAILED and err.count("\n") == 1
    assert err.startswith(f"skipped {source}: denoise of a 80x64 image needs about ")
    assert err.rstrip().endswith("(--tile sets the tile size)")
    assert not target.exists()


def test_decoding_more_than_is_free_is_refused_before_decoding(monkeypatch, tmp_path):
    path = tmp_path / "scan.png"
    Image.fromarray(_photo(300, 400)).save(path)
    monkeypatch.setattr(engine.memory, "available_memory", lambda: 400_000)
    with pytest.raises(api.NotEnoughMemory, match=r"scan.png: decoding its 400x300 pixels"):
        api.read_image(path)
    monkeypatch.setattr(engine.memory, "available_memory", lambda: 2_000_000)
    assert api.read_image(path).pixels.shape == (300, 400, 3)


def test_free_memory_counts_the_address_space_limit():
    code = (
        "import resource; limit = 2 << 30; "
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit)); "
        "from engine.memory import available_memory; print(available_memory())"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert 0 < int(out.stdout) < 2 << 30  # the limit less what the process maps already


def test_free_memory_counts_a_control_groups_limit(tmp_path, monkeypatch):
    (tmp_path / "memory.max").write_text("1000000000\n")
    (tmp_path / "memory.current").write_text("700000000\n")
    (tmp_path / "memory.stat").write_text("anon 500000000\nfile 200000000\n")
    monkeypatch.setattr(engine.memory, "_CGROUP_V2", str(tmp_path))
    monkeypatch.setattr(engine.memory, "_system_free", lambda: 8 << 30)
    monkeypatch.setattr(engine.memory, "_address_space_left", lambda: None)
    assert engine.memory.available_memory() == 500_000_000  # its page cache is reclaimed
    (tmp_path / "memory.max").write_text("max\n")
    monkeypatch.setattr(engine.memory, "_CGROUP_V1", str(tmp_path / "none"))
    assert engine.memory.available_memory() == 8 << 30


def test_data_expanding_like_a_bomb_is_held_to_an_eighth_of_the_limit(tmp_path):
    path = tmp_path / "blank.png"
    path.write_bytes(zero_png(1000, 1000))  # 3 MB of pixels from ~3 KB
    with pytest.raises(api.ImageTooLarge) as info:
        api.read_image(path, max_pixels=4_000_000)
    assert "blank.png: its " in str(info.value) and "1/8 of the limit of 4,000,000" in str(
        info.value
    )
    assert api.read_image(path, max_pixels=8_000_000).pixels.shape == (1000, 1000, 3)
    # Masks are mostly one value: they may expand that far (the pixel limit still holds).
    assert api.read_image(path, max_pixels=4_000_000, compressible=True).height == 1000
    assert not api.read_mask(path, max_pixels=4_000_000).any()


def test_in_place_run_writes_into_the_input_and_gives_the_same_result(tiny_resources):
    image = _photo(96, 120)
    copied = api.run_task("denoise", image, api.DenoiseRequest(), options=_options(tiny_resources))
    given = image.copy()
    result = api.run_task(
        "denoise", given, api.DenoiseRequest(), options=_options(tiny_resources), in_place=True
    )
    assert result is given and np.array_equal(result, copied)
    grey = np.repeat(image[:, :, :1], 3, axis=2)
    result = api.run_task(
        "denoise", grey, api.DenoiseRequest(), options=_options(tiny_resources), in_place=True
    )
    assert result is grey and api.is_grey(result)


def test_tiles_blended_into_their_own_source_and_a_row_undone_after_out_of_memory():
    src = np.random.default_rng(3).random((300, 420, 3), dtype=np.float32)
    calls = []

    def fragile(tile):
        calls.append(tile.shape)
        if len(calls) == 5:  # the second tile of the second row: the row is undone
            raise MemoryError()
        return tile * 2 + 0.25

    out = src.copy()  # the output is the source itself
    plan = TilePlan(tile=160, overlap=32, min_tile=32)
    for _ in iter_tiled(out, fragile, out, plan, lambda s, _a, _b: s):
        pass
    np.testing.assert_allclose(out, src * 2 + 0.25, atol=1e-5)


def _samples(seed: int, shape: tuple[int, ...], dtype=np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max + 1
    return np.random.default_rng(seed).integers(0, top, shape, dtype=dtype)


@pytest.mark.parametrize(
    "pixels,alpha",
    [
        (_samples(1, (37, 45, 3)), None),
        (_samples(2, (37, 45)), None),
        (_samples(3, (20, 9)), _samples(4, (20, 9))),
        (_samples(5, (11, 30, 3)), _samples(6, (11, 30))),
        (_samples(7, (25, 33, 3), np.uint16), None),
        (_samples(8, (25, 33), np.uint16), None),
        (_samples(9, (14, 17), np.uint16), _samples(10, (14, 17), np.uint16)),
        (_samples(11, (1, 1, 3)), None),
    ],
)
def test_streamed_png_reads_back_exactly(tmp_path, pixels, alpha):
    path = tmp_path / "x.png"
    api.write_image(path, pixels, alpha=alpha)
    loaded = api.read_image(path)
    rgb = pixels if pixels.ndim == 3 else np.repeat(pixels[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(loaded.pixels, rgb)
    assert loaded.alpha is None if alpha is None else np.array_equal(loaded.alpha, alpha)
    with Image.open(path) as im:  # what another program sees
        want = {(1, 8): "L", (1, 16): "I;16", (3, 8): "RGB", (3, 16): "RGB"}
        key = (1 if pixels.ndim == 2 else 3, pixels.itemsize * 8)
        mode = want[key] if alpha is None else ("LA" if key == (1, 8) else "RGBA")
        assert im.mode.startswith(mode)


def test_streamed_png_of_a_photo_is_about_pillows_size_in_several_idat_chunks():
    y, x = np.mgrid[0:900, 0:1400].astype(np.float32)
    noise = np.random.default_rng(0).normal(0, 6, (900, 1400, 3))
    shade = 128 + 60 * np.sin(x / 90)[..., None] * np.cos(y / 70)[..., None]
    photo = np.clip(shade + noise, 0, 255).astype(np.uint8)
    ours, pillows = io.BytesIO(), io.BytesIO()
    png_stream.write_png(ours, photo, None, icc=b"profile", exif=b"Exif\x00\x00MM\x00*")
    Image.fromarray(photo).save(pillows, "PNG", compress_level=6)
    data = ours.getvalue()
    assert len(data) < 1.03 * len(pillows.getvalue())
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(np.asarray(im), photo) and im.info["icc_profile"] == b"profile"
    assert data.count(b"IDAT") >= 2 and data.count(b"eXIf") == 1
    assert data.endswith(png_chunk(b"IEND", b"")) and zlib.crc32(b"IEND") == 0xAE426082


@pytest.mark.parametrize("mode", ["RGB", "L", "LA", "RGBA"])
def test_a_png_decoded_in_bands_equals_pillows_whole_decoding(tmp_path, monkeypatch, mode):
    """Bands of 7 rows: every band's first row is filtered against the band above it."""
    y, x = np.mgrid[0:61, 0:47]
    ramp = [(x * 5 + y * 3) % 256, (x * y) % 256, (x * 11) % 256, (y * 13 + x) % 256]
    noisy = np.stack(ramp, axis=2) + np.random.default_rng(4).integers(0, 9, (61, 47, 4))
    image = Image.fromarray(noisy.astype(np.uint8), "RGBA").convert(mode)
    path = tmp_path / "scan.png"
    image.save(path, exif=Image.Exif())  # Pillow's own adaptive filters: all five appear
    monkeypatch.setattr(png_bands, "BAND_BYTES", 7 * (1 + 47 * len(mode)))
    decoded = png_bands.read_bands(path, (47, 61), {"L": 0, "LA": 4, "RGB": 2, "RGBA": 6}[mode])
    assert decoded is not None
    loaded = api.read_image(path)
    whole = np.asarray(image.convert("RGBA" if "A" in mode else "RGB"))
    np.testing.assert_array_equal(loaded.pixels, whole[:, :, :3])
    if "A" in mode:
        np.testing.assert_array_equal(loaded.alpha, whole[:, :, 3])
    cut = tmp_path / "cut.png"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert png_bands.read_bands(cut, (47, 61), 2) is None  # the whole-image path says why
    with pytest.raises(api.UnsupportedImage, match="cut.png: cannot decode image"):
        api.read_image(cut)


def test_encoding_a_png_or_tiff_makes_no_copy_of_the_image(tmp_path):
    """27 MB of pixels: encoding adds only its strips (Pillow's copy alone would be 36 MB)."""
    code = (
        "import numpy as np, sys; from engine import api\n"
        "status = lambda: open('/proc/self/status').read().split('\\n')\n"
        "kib = lambda f: [int(l.split()[1]) for l in status() if l.startswith(f)]\n"
        "a = np.random.default_rng(1).integers(0, 256, (3000, 3000, 3), dtype=np.uint8)\n"
        "api.write_image(sys.argv[2], a[:2])\n"  # imports and first-call set-up
        "open('/proc/self/clear_refs', 'w').write('5')\n"  # the peak starts again from here
        "before = kib('VmRSS:')[0]\n"
        "api.write_image(sys.argv[1], a)\n"
        "print((kib('VmHWM:')[0] - before) * 1024, a.nbytes)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for suffix in (".png", ".tif"):
        paths = [str(tmp_path / f"{name}{suffix}") for name in ("a", "b")]
        out = subprocess.run(
            [sys.executable, "-c", code, *paths], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        added, nbytes = (int(v) for v in out.stdout.split())
        assert added < nbytes / 2, (suffix, added)
        assert api.read_image(paths[0]).pixels.shape == (3000, 3000, 3)
