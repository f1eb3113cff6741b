"""OpenRaster save/load (`editor.doc.ora`) and recovery files (`editor.doc.recovery`)."""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editor.doc import (
    Document,
    DocumentError,
    discard,
    engine_meta_factory,
    find_recoveries,
    load_ora,
    recovery_path,
    save_ora,
    write_recovery,
)
from engine.api import ImageMeta

H, W = 20, 28
NS = "{https://example.invalid/restoration}"


def _pixels(seed: int, dtype: type = np.uint8, shape: tuple[int, int] = (H, W)) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.random.default_rng(seed).integers(0, top + 1, (*shape, 3), dtype=dtype)


def _state(doc: Document) -> list[tuple]:
    stack = [
        (
            layer.name,
            layer.visible,
            layer.opacity,
            layer.locked,
            layer.pixels.dtype.str,
            layer.pixels.tobytes(),
            None if layer.coverage is None else layer.coverage.tobytes(),
        )
        for layer in doc.layers
    ]
    alpha = None if doc.alpha is None else (doc.alpha.dtype.str, doc.alpha.tobytes())
    return [*stack, ("mask", doc.mask.tobytes()), ("alpha", alpha)]


def _rich_document(dtype: type = np.uint16) -> Document:
    top = np.iinfo(dtype).max
    alpha = np.random.default_rng(7).integers(0, top + 1, (H, W), dtype=dtype)
    meta = ImageMeta("TIFF", "RGB;16", 16, False, exif=b"Exif\0\0\x01\x02", icc_profile=b"\0ICC")
    doc = Document(_pixels(0, dtype), alpha=alpha, meta=meta, path="/scans/grandpa.tif")
    coverage = np.random.default_rng(3).integers(0, 256, (H, W), dtype=np.uint8)
    doc.add_layer(_pixels(1, dtype), "Denoise", coverage=coverage)
    doc.add_layer(_pixels(2, dtype), "Colorize «été»")
    doc.set_opacity(doc.layers[2].id, 0.37)
    doc.add_layer(_pixels(4, dtype), "Hidden & <odd>")
    doc.set_visible(doc.layers[3].id, False)
    doc.set_opacity(doc.layers[3].id, 1 / 3)
    mask = np.zeros((H, W), np.uint8)
    mask[3:9, 4:15] = 255
    mask[10, 2:6] = 91  # a soft edge value
    doc.set_mask(mask)
    return doc


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_round_trip_keeps_everything(tmp_path: Path, dtype: type) -> None:
    doc = _rich_document(dtype)
    path = tmp_path / "work.ora"
    save_ora(doc, path)
    back = load_ora(path, meta_factory=engine_meta_factory)
    assert _state(back) == _state(doc)
    assert back.meta == doc.meta and isinstance(back.meta, ImageMeta)
    assert (back.name, back.path, back.modified) == ("work", path, False)
    assert np.array_equal(back.composite(), doc.composite())
    assert [tmp.name for tmp in tmp_path.iterdir()] == ["work.ora"]  # no temp file left


def test_metadata_without_a_factory_comes_back_as_fields(tmp_path: Path) -> None:
    path = tmp_path / "a.ora"
    save_ora(_rich_document(), path)
    meta = load_ora(path).meta
    assert meta["exif"] == b"Exif\0\0\x01\x02" and meta["icc_profile"] == b"\0ICC"
    assert meta["source_format"] == "TIFF"


def test_the_archive_follows_the_openraster_layout(tmp_path: Path) -> None:
    path = tmp_path / "a.ora"
    save_ora(_rich_document(), path)
    with zipfile.ZipFile(path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"image/openraster"
        root = ET.fromstring(archive.read("stack.xml"))
        merged = Image.open(io.BytesIO(archive.read("mergedimage.png")))
        thumb = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
        layers = root.find("stack").findall("layer")
        for layer in layers:
            assert layer.get("src") in archive.namelist()
    assert (root.get("w"), root.get("h"), root.get("version")) == (str(W), str(H), "0.0.5")
    names = [layer.get("name") for layer in layers]
    assert names == ["Mask", "Hidden & <odd>", "Colorize «été»", "Denoise", "Original"]
    assert [layer.get(f"{NS}role") for layer in layers] == ["mask", None, None, None, "original"]
    assert [layer.get("visibility") for layer in layers][:2] == ["hidden", "hidden"]
    assert layers[2].get("opacity") == "0.37"
    assert merged.size == (W, H) and max(thumb.size) <= 256


def test_16_bit_layers_are_16_bit_pngs(tmp_path: Path) -> None:
    path = tmp_path / "a.ora"
    save_ora(_rich_document(np.uint16), path)
    with zipfile.ZipFile(path) as archive:
        original = archive.read("data/layer0.png")
        result = archive.read("data/layer2.png")
        mask = archive.read("data/mask.png")
    # IHDR's bit depth and colour type bytes: RGBA (the image alpha), RGB, grayscale.
    assert (original[24], original[25]) == (16, 6)
    assert (result[24], result[25]) == (16, 2)
    assert (mask[24], mask[25]) == (8, 0)


def test_a_large_document_gets_a_small_thumbnail(tmp_path: Path) -> None:
    doc = Document(_pixels(0, shape=(300, 700)))
    path = tmp_path / "big.ora"
    save_ora(doc, path)
    with zipfile.ZipFile(path) as archive:
        thumb = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
    assert thumb.size == (256, 110)


def _png(rgba: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA" if rgba.shape[2] == 4 else "RGB").save(buffer, "PNG")
    return buffer.getvalue()


def _write_gimp_ora(path: Path, layers: list[tuple[dict, np.ndarray]], w: int, h: int) -> None:
    """An ORA as GIMP writes one: top layer first, RGBA PNGs, offsets, no extensions."""
    stack = "".join(
        "<layer " + " ".join(f'{k}="{v}"' for k, v in attrs.items()) + "/>" for attrs, _ in layers
    )
    xml = f'<?xml version="1.0"?><image w="{w}" h="{h}"><stack>{stack}</stack></image>'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "image/openraster")
        archive.writestr("stack.xml", xml, zipfile.ZIP_DEFLATED)
        for attrs, pixels in layers:
            archive.writestr(attrs["src"], _png(pixels))


def test_a_gimp_file_with_an_offset_smaller_layer_loads(tmp_path: Path) -> None:
    background = np.dstack([_pixels(0), np.full((H, W), 255, np.uint8)])
    patch = np.dstack([_pixels(1, shape=(6, 9)), np.full((6, 9), 200, np.uint8)])
    hidden = np.dstack([_pixels(2, shape=(4, 4)), np.full((4, 4), 255, np.uint8)])
    path = tmp_path / "gimp.ora"
    _write_gimp_ora(
        path,
        [
            (
                {"name": "Hidden", "src": "data/h.png", "x": 0, "y": 0, "visibility": "hidden"},
                hidden,
            ),
            ({"name": "Patch", "src": "data/p.png", "x": 5, "y": 7, "opacity": "0.5"}, patch),
            ({"name": "Background", "src": "data/b.png", "x": 0, "y": 0}, background),
        ],
        W,
        H,
    )
    doc = load_ora(path)
    assert [layer.name for layer in doc.layers] == ["Background", "Patch", "Hidden"]
    original, layer, hid = doc.layers
    assert original.locked and doc.alpha is None and doc.dtype == np.uint8
    assert np.array_equal(original.pixels, background[..., :3])
    assert layer.opacity == 0.5 and layer.visible and not hid.visible
    expected = np.zeros((H, W), np.uint8)
    expected[7:13, 5:14] = 200
    assert np.array_equal(layer.coverage, expected)
    assert np.array_equal(layer.pixels[7:13, 5:14], patch[..., :3])
    # The composite is the background with the patch blended at 0.5 × 200/255 inside it.
    looks = doc.composite().astype(np.float64)
    weight = 0.5 * 200 / 255
    blend = background[7:13, 5:14, :3] * (1 - weight) + patch[..., :3] * weight
    assert np.abs(looks[7:13, 5:14] - blend).max() <= 1.0
    assert np.array_equal(looks[0:7], background[0:7, :, :3])
    assert doc.mask_is_empty() and doc.meta is None


def test_a_transparent_background_becomes_the_image_alpha(tmp_path: Path) -> None:
    small = np.dstack([_pixels(0, shape=(10, 10)), np.full((10, 10), 255, np.uint8)])
    path = tmp_path / "t.ora"
    _write_gimp_ora(path, [({"name": "bg", "src": "data/a.png", "x": 2, "y": 3}, small)], W, H)
    doc = load_ora(path)
    expected = np.zeros((H, W), np.uint8)
    expected[3:13, 2:12] = 255
    assert np.array_equal(doc.alpha, expected)


def test_groups_are_read_as_their_layers(tmp_path: Path) -> None:
    background = np.dstack([_pixels(0), np.full((H, W), 255, np.uint8)])
    inner = np.dstack([_pixels(1), np.full((H, W), 255, np.uint8)])
    xml = (
        f'<image w="{W}" h="{H}"><stack>'
        '<stack name="group" opacity="0.5" visibility="visible">'
        '<layer name="inner" src="data/i.png" opacity="0.5"/></stack>'
        '<stack name="off" visibility="hidden"><layer name="gone" src="data/i.png"/></stack>'
        '<layer name="bg" src="data/b.png"/></stack></image>'
    )
    path = tmp_path / "groups.ora"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "image/openraster")
        archive.writestr("stack.xml", xml)
        archive.writestr("data/i.png", _png(inner))
        archive.writestr("data/b.png", _png(background))
    doc = load_ora(path)
    assert [(lay.name, lay.visible, lay.opacity) for lay in doc.layers] == [
        ("bg", True, 1.0),
        ("gone", False, 1.0),
        ("inner", True, 0.25),
    ]


def test_a_snapshot_saves_the_document_as_it_was(tmp_path: Path) -> None:
    doc = _rich_document(np.uint8)
    snapshot = doc.snapshot()
    expected = _state(doc)
    doc.remove_layer(doc.layers[1].id)
    doc.invert_mask()
    save_ora(snapshot, tmp_path / "s.ora")  # e.g. from a worker thread
    assert _state(load_ora(tmp_path / "s.ora")) == expected


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is not a zip", "not an OpenRaster"),
        (None, "stack.xml"),
        (b"<image w='4' h='4'><stack><layer src='data/x.png'/></stack>", "damaged"),
        (b"<image w='4' h='4'><stack><layer name='L' src='data/x.png'/></stack></image>", "“L”"),
        (b"<image w='0' h='4'><stack/></image>", "size"),
        (b"<image w='4' h='4'><stack/></image>", "no layers"),
    ],
)
def test_bad_files_raise_a_document_error_naming_the_file(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "bad.ora"
    if content == b"this is not a zip":
        path.write_bytes(content)
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("mimetype", "image/openraster")
            if content is not None:
                archive.writestr("stack.xml", content)
    with pytest.raises(DocumentError, match="bad.ora") as caught:
        load_ora(path)
    assert reason in str(caught.value)


def test_a_corrupt_layer_image_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "ok.ora"
    save_ora(_rich_document(np.uint8), path)
    broken = tmp_path / "broken.ora"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data[:40] if info.filename == "data/layer1.png" else data)
    with pytest.raises(DocumentError, match="broken.ora"):
        load_ora(broken)
    with pytest.raises(DocumentError, match="missing.ora"):
        load_ora(tmp_path / "missing.ora")


def test_a_failed_save_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DocumentError, match="x.ora"):
        save_ora(_rich_document(), tmp_path / "no such folder" / "x.ora")
    target = tmp_path / "keep.ora"
    target.write_bytes(b"previous version")

    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(DocumentError, match="keep.ora.*No space left"):
        save_ora(_rich_document(), target)
    assert target.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ora"]


def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "shared.ora"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    save_ora(_rich_document(), target)
    assert target.stat().st_mode & 0o777 == 0o640
    assert load_ora(target).layers[1].name == "Denoise"


def test_recovery_files(tmp_path: Path) -> None:
    base = tmp_path / "recovery"
    assert find_recoveries(base) == []
    doc = _rich_document()
    path = recovery_path(base, "Grand-père 1932/scan?.tif")
    assert path.parent == base and path.name.endswith(".recovery.ora") and "/" not in path.name
    write_recovery(doc, path)
    assert doc.modified  # a recovery copy is not a save
    assert find_recoveries(base) == [path]
    back = load_ora(path, meta_factory=engine_meta_factory, restore_identity=True)
    assert _state(back) == _state(doc)
    assert (back.name, back.path) == (doc.name, doc.path)
    discard(path)
    discard(path)  # already gone: fine
    assert find_recoveries(base) == []


@pytest.mark.parametrize(
    "meta_json",
    [
        '{"name": "x", "meta": {"class": null, "fields": {"icc": {"$bytes": 5}}}}',
        "[1, 2]",
        "{not json",
    ],
)
def test_any_failure_decoding_a_crafted_file_is_a_document_error(
    tmp_path: Path, meta_json: str
) -> None:
    from editor_support import craft_ora

    path = tmp_path / "crafted.ora"
    save_ora(Document(np.zeros((8, 8, 3), np.uint8)), path)
    craft_ora(path, meta_json)
    with pytest.raises(DocumentError, match="crafted.ora"):
        load_ora(path, meta_factory=engine_meta_factory, restore_identity=True)
