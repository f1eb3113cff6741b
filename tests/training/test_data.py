"""training.data: folder scan, train/val split, noise, masks and the deterministic datasets."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from engine.color import normalize_ab, normalize_l, rgb_to_lab
from engine.tasks.base import pad_to_multiple
from training.data import (
    AugmentConfig,
    ColorizeDataset,
    DenoiseDataset,
    InpaintDataset,
    MaskConfig,
    NoiseConfig,
    TrainingDataError,
    add_salt_and_pepper,
    add_speckle,
    build_dataset,
    centre_crop,
    degrade,
    lab_to_rgb_tensor,
    random_mask,
    scan_images,
    split_train_val,
)
from training.data.augment import train_crop

WIDTH, HEIGHT = 64, 48
AUG = AugmentConfig(crop_size=32)


def _photo(seed: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Smooth random colour content (JPEG-friendly), uint8 H×W×3 RGB."""
    coarse = np.random.default_rng(seed).random((height // 4, width // 4, 3), dtype=np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return (np.clip(smooth, 0, 1) * 255).astype(np.uint8)


def _write(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _make_images(folder: Path, count: int = 12) -> list[Path]:
    """`count` images, PNG and JPEG alternating, two of them in a sub-folder."""
    paths = []
    for i in range(count):
        sub = folder / "sub" if i >= count - 2 else folder
        paths.append(_write(sub / f"img_{i:02d}.{'png' if i % 2 else 'jpg'}", _photo(i)))
    return paths


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> list[Path]:
    return sorted(_make_images(tmp_path_factory.mktemp("photos")), key=lambda p: p.as_posix())


# ------------------------------------------------------------------------------- scanning


def test_scan_keeps_images_and_skips_bad_files_with_reasons(tmp_path):
    good = _make_images(tmp_path)
    (tmp_path / "notes.jpg").write_text("this is not a photo")
    (tmp_path / "empty.png").write_bytes(b"")
    _write(tmp_path / "tiny.png", _photo(99, width=40, height=20))
    (tmp_path / "readme.txt").write_text("not a candidate at all")

    scan = scan_images([tmp_path], min_side=32)

    assert scan.paths == sorted(good, key=lambda p: p.as_posix())
    reasons = {path.name: reason for path, reason in scan.skipped}
    assert set(reasons) == {"notes.jpg", "empty.png", "tiny.png"}
    assert "not an image" in reasons["notes.jpg"]
    assert "empty" in reasons["empty.png"]
    assert "40x20" in reasons["tiny.png"] and "32" in reasons["tiny.png"]


@pytest.mark.parametrize("case", ["missing", "empty", "one_image"])
def test_scan_refuses_unusable_folders_naming_them(tmp_path, case):
    folder = tmp_path / f"{case}_folder"
    if case != "missing":
        folder.mkdir()
    if case == "one_image":
        _write(folder / "only.png", _photo(1))
        (folder / "broken.jpg").write_bytes(b"garbage")
    with pytest.raises(TrainingDataError) as info:
        scan_images([folder], min_side=16)
    message = str(info.value)
    assert str(folder) in message
    if case == "missing":
        assert "does not exist" in message
    else:
        assert f"found {1 if case == 'one_image' else 0} usable" in message


def test_scan_refuses_benchmark_folders_and_skips_bench_subfolders(tmp_path):
    bench = tmp_path / "shared" / "data" / "bench" / "denoise"
    _make_images(bench, count=3)
    with pytest.raises(TrainingDataError, match="benchmark folder; never train"):
        scan_images([bench], min_side=16)
    # A parent of the bench folder may be scanned, but the benchmark files never come back.
    _make_images(tmp_path / "shared" / "data" / "train", count=3)
    scan = scan_images([tmp_path / "shared" / "data"], min_side=16)
    assert len(scan.paths) == 3 and all("bench" not in p.parts for p in scan.paths)
    assert len(scan.skipped) == 3 and all("benchmark" in r for _, r in scan.skipped)


def test_split_is_deterministic_disjoint_and_order_independent():
    paths = [Path(f"/photos/p{i:03d}.jpg") for i in range(40)]
    train, val = split_train_val(paths, 0.25, seed=7)
    assert len(val) == 10 and len(train) == 30
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(paths)
    shuffled = list(np.random.default_rng(0).permutation(np.array(paths, dtype=object)))
    assert split_train_val(shuffled, 0.25, seed=7) == (train, val)
    assert split_train_val(paths[::-1], 0.25, seed=7) == (train, val)
    assert split_train_val(paths, 0.25, seed=8)[1] != val  # the seed matters
    assert len(split_train_val(paths[:3], 0.01, seed=7, min_val=1)[1]) == 1
    with pytest.raises(TrainingDataError):
        split_train_val(paths[:1], 0.5, seed=7)


# ------------------------------------------------------------------------------- datasets


def _assert_range(tensor: torch.Tensor, low: float = -1.0, high: float = 1.0) -> None:
    assert tensor.dtype == torch.float32
    assert float(tensor.min()) >= low and float(tensor.max()) <= high


def test_denoise_dataset_shapes_and_ranges(images):
    ds = DenoiseDataset(images, AUG, NoiseConfig(), seed=3)
    assert len(ds) == len(images)
    sample = ds[0]
    assert set(sample) == {"input", "target"}
    assert sample["input"].shape == sample["target"].shape == (3, 32, 32)
    _assert_range(sample["input"])
    _assert_range(sample["target"])
    assert not torch.equal(sample["input"], sample["target"])


def test_inpaint_dataset_zeroes_holes_and_appends_the_mask(images):
    sample = InpaintDataset(images, AUG, MaskConfig(), seed=3)[1]
    assert sample["input"].shape == (4, 32, 32)
    assert sample["target"].shape == (3, 32, 32) and sample["mask"].shape == (1, 32, 32)
    for key in ("input", "target", "mask"):
        _assert_range(sample[key])
    mask = sample["mask"]
    assert set(torch.unique(mask).tolist()) == {0.0, 1.0}
    assert torch.equal(sample["input"][3:], mask)
    hole = mask.expand(3, -1, -1) == 1
    assert torch.all(sample["input"][:3][hole] == 0)
    assert torch.equal(sample["input"][:3][~hole], sample["target"][~hole])


def test_colorize_dataset_gives_normalised_l_and_ab_of_the_crop(images):
    ds = ColorizeDataset(images, AUG, seed=3)
    sample = ds[2]
    assert sample["input"].shape == (1, 32, 32) and sample["target"].shape == (2, 32, 32)
    _assert_range(sample["input"])
    _assert_range(sample["target"])
    clean = ds.crop(2, ds.rng(2))  # the same draws __getitem__ made
    rgb = lab_to_rgb_tensor(sample["input"][None], sample["target"][None])[0]
    assert torch.allclose(rgb, torch.from_numpy(clean.transpose(2, 0, 1)), atol=1.5 / 255)


def test_crop_larger_than_the_image_is_upscaled(images):
    sample = DenoiseDataset(images, AugmentConfig(crop_size=96), seed=0)[0]
    assert sample["target"].shape == (3, 96, 96)


def test_zooming_out_shows_more_of_the_photo_in_the_same_crop():
    # A horizontal ramp: a crop's value span measures how wide a window it covers.
    ramp = np.tile(np.linspace(0, 255, 400, dtype=np.float32)[None, :, None], (400, 1, 3))
    photo = ramp.round().astype(np.uint8)
    plain = AugmentConfig(crop_size=64, flips=False, rot90=False, brightness=0, contrast=0)
    zoomed = AugmentConfig(
        crop_size=64, flips=False, rot90=False, brightness=0, contrast=0, scale_range=(0.5, 0.5)
    )
    a = train_crop(photo, np.random.default_rng(0), plain)
    b = train_crop(photo, np.random.default_rng(0), zoomed)
    assert a.shape == b.shape == (64, 64, 3)
    span_a, span_b = np.ptp(a[0, :, 0]), np.ptp(b[0, :, 0])
    assert span_b == pytest.approx(2 * span_a, rel=0.05)
    # The window never exceeds the photo: zooming out 1/8 on 400 px still gives a crop.
    tiny = AugmentConfig(crop_size=64, scale_range=(0.125, 0.125))
    assert train_crop(photo, np.random.default_rng(1), tiny).shape == (64, 64, 3)


def test_zooming_past_the_short_side_shows_the_whole_photo_padded_as_the_engine_pads():
    # A 300×600 landscape photo, zoomed out to the whole of it: the square holds the photo
    # shrunk to 64×128 -> 32 rows × 64 columns and mirrors below, as pad_to_multiple does.
    rng = np.random.default_rng(5)
    photo = rng.integers(0, 256, (300, 600, 3), dtype=np.uint8)
    cfg = AugmentConfig(
        crop_size=64,
        flips=False,
        rot90=False,
        brightness=0,
        contrast=0,
        scale_range=(0.1, 0.1),
        zoom_past_short_side=True,
    )
    crop = train_crop(photo, np.random.default_rng(0), cfg)
    assert crop.shape == (64, 64, 3)
    whole = cv2.resize(photo.astype(np.float32) / 255, (64, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(crop[:32], whole, atol=1e-5)
    x = torch.from_numpy(whole.transpose(2, 0, 1))[None]
    engine_padded = pad_to_multiple(x, 64)[0].numpy().transpose(1, 2, 0)
    np.testing.assert_allclose(crop, engine_padded, atol=1e-5)
    # Validation then sees the whole photo the same way, deterministically.
    np.testing.assert_allclose(centre_crop(photo, cfg), engine_padded, atol=1e-5)
    # Without the option the window stops at the short side: no padding, a square of photo.
    cfg.zoom_past_short_side = False
    plain = train_crop(photo, np.random.default_rng(0), cfg)
    assert not np.allclose(plain[32:], plain[31::-1])


@pytest.mark.parametrize("bad", [(0.0, 1.0), (1.5, 1.0), (1.0, 5.0), (1.0,), "big"])
def test_a_bad_zoom_range_is_refused_by_name(bad):
    with pytest.raises(TrainingDataError, match="scale_range"):
        AugmentConfig(scale_range=bad)


def test_samples_are_reproducible_per_seed_epoch_and_index(images):
    def make(seed: int = 5) -> InpaintDataset:
        return InpaintDataset(images, AUG, MaskConfig(), seed=seed)

    first, second = make(), make()
    for key in ("input", "target", "mask"):
        assert torch.equal(first[4][key], second[4][key])
    second.set_epoch(1)
    assert not torch.equal(first[4]["target"], second[4]["target"])  # another crop
    assert not torch.equal(first[4]["mask"], second[4]["mask"])
    first.set_epoch(1)
    assert torch.equal(first[4]["mask"], second[4]["mask"])  # resuming at epoch 1 matches
    assert not torch.equal(make(6)[4]["mask"], make()[4]["mask"])

    noisy = [DenoiseDataset(images, AUG, seed=1) for _ in range(2)]
    noisy[1].set_epoch(3)
    assert not torch.equal(noisy[0][0]["input"], noisy[1][0]["input"])


def test_validation_is_a_fixed_centre_crop_across_epochs(images):
    ds = DenoiseDataset(images, AUG, NoiseConfig(), seed=2, train=False)
    before = ds[3]
    ds.set_epoch(9)
    after = ds[3]
    assert torch.equal(before["input"], after["input"])
    pixels = np.asarray(Image.open(images[3]).convert("RGB"), dtype=np.float32) / 255
    centre = pixels[8:40, 16:48].transpose(2, 0, 1) * 2 - 1  # 48x64 -> centre 32x32
    assert torch.allclose(before["target"], torch.from_numpy(centre), atol=1e-6)


def test_sixteen_bit_images_are_scaled_to_unit_range(tmp_path):
    pixels = np.full((HEIGHT, WIDTH, 3), 49151, np.uint16)  # 0.75 of full scale
    paths = [tmp_path / f"deep{i}.png" for i in range(2)]
    for path in paths:
        assert cv2.imwrite(str(path), pixels)
    target = DenoiseDataset(paths, AUG, seed=0, train=False)[0]["target"]
    assert torch.allclose(target, torch.full_like(target, 0.5), atol=1e-4)


def test_truncated_file_is_warned_once_and_replaced(tmp_path, caplog):
    paths = _make_images(tmp_path, count=4)
    broken = tmp_path / "img_01.png"
    broken.write_bytes(broken.read_bytes()[:200])  # header intact, pixels cut off
    scan = scan_images([tmp_path], min_side=16)
    assert broken in scan.paths  # the cheap scan cannot tell
    ds = DenoiseDataset(scan.paths, AUG, seed=0)
    with caplog.at_level(logging.WARNING, logger="training.data"):
        first = [ds[i] for i in range(len(ds))]
        again = [ds[i] for i in range(len(ds))]
    warnings = [r for r in caplog.records if r.name == "training.data"]
    assert len(warnings) == 1 and "img_01.png" in warnings[0].getMessage()
    assert list(ds.bad_files) == [broken]
    bad_index = scan.paths.index(broken)
    fresh = DenoiseDataset(scan.paths, AUG, seed=0)[bad_index]
    assert torch.equal(fresh["input"], first[bad_index]["input"])
    assert torch.equal(again[bad_index]["target"], first[bad_index]["target"])
    assert len(paths) == len(ds)


def test_every_file_bad_raises_training_data_error(tmp_path):
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in paths:
        path.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(TrainingDataError, match="none of the 2 training images"):
        DenoiseDataset(paths, AUG, seed=0)[0]


def test_colorize_skips_grayscale_photos(tmp_path, caplog):
    colour = _make_images(tmp_path, count=2)
    grey = _write(tmp_path / "grey.png", _photo(5)[..., 0])
    ds = ColorizeDataset([grey, *colour], AUG, seed=0)
    with caplog.at_level(logging.WARNING, logger="training.data"):
        sample = ds[0]
    assert "grey.png" in caplog.text and "grayscale" in caplog.text
    assert float(sample["target"].abs().max()) > 0.01  # a colour image replaced it


def test_build_dataset_picks_the_task(images):
    assert isinstance(build_dataset("denoise", images, AUG, 0, True), DenoiseDataset)
    assert isinstance(build_dataset("inpaint", images, AUG, 0, False), InpaintDataset)
    assert isinstance(build_dataset("colorize", images, AUG, 0, True), ColorizeDataset)
    with pytest.raises(TrainingDataError, match="unknown task"):
        build_dataset("sharpen", images, AUG, 0, True)


# ------------------------------------------------------------------------------- noise

GREY = np.full((128, 128, 3), 0.5, np.float32)


def test_gaussian_sigma_matches_the_configured_value():
    cfg = NoiseConfig(gaussian_sigma=(25, 25), kind_weights={"gaussian": 1.0})
    noisy, kind = degrade(GREY, np.random.default_rng(0), cfg)
    assert kind == "gaussian" and noisy.dtype == np.float32
    residual = noisy - GREY
    assert abs(residual.std() - 25 / 255) < 0.03 * 25 / 255
    assert abs(residual.mean()) < 0.003


def test_salt_and_pepper_hits_the_configured_fraction_of_pixels():
    noisy = add_salt_and_pepper(GREY, np.random.default_rng(1), 0.05)
    changed = np.any(noisy != GREY, axis=2)
    assert abs(changed.mean() - 0.05) < 0.01
    hits = noisy[changed]
    assert np.all((hits == 0) | (hits == 1)) and np.all(hits.min(1) == hits.max(1))
    assert 0.4 < (hits[:, 0] == 1).mean() < 0.6  # salt and pepper in equal parts


def test_speckle_is_multiplicative():
    image = GREY.copy()
    image[:, :64] = 0.0
    noisy = add_speckle(image, np.random.default_rng(2), 0.2, clip=False)
    assert np.all(noisy[:, :64] == 0)
    assert abs((noisy[:, 64:] - 0.5).std() - 0.5 * 0.2) < 0.005


def test_noise_config_validates_and_accepts_toml_lists():
    cfg = NoiseConfig(gaussian_sigma=[5, 10], kind_weights={"speckle": 1})
    assert cfg.gaussian_sigma == (5.0, 10.0)
    assert degrade(GREY, np.random.default_rng(0), cfg)[1] == "speckle"
    with pytest.raises(TrainingDataError, match="unknown kind"):
        NoiseConfig(kind_weights={"poisson": 1.0})


# ------------------------------------------------------------------------------- masks


def test_masks_are_binary_and_spread_over_the_hole_ratio_range():
    ratios = []
    for i in range(300):
        mask = random_mask(64, 64, np.random.default_rng([11, i]), MaskConfig())
        if i < 10:
            assert mask.dtype == np.float32 and mask.shape == (64, 64)
            assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
        ratios.append(float(mask.mean()))
    counts, _ = np.histogram(ratios, bins=5, range=(0.05, 0.6))
    assert np.all(counts >= 30), counts  # each fifth of the range gets >= 10 %
    assert abs(np.mean(ratios) - 0.325) < 0.05
    assert min(ratios) >= 0.04 and max(ratios) <= 0.66


def test_masks_without_rectangles_are_brush_strokes():
    cfg = MaskConfig(rect_probability=0.0, hole_ratio=(0.1, 0.3))
    for i in range(20):
        mask = random_mask(64, 64, np.random.default_rng(i), cfg)
        ys, xs = np.nonzero(mask)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        assert len(ys) < 0.9 * box  # strokes never fill their bounding box


# ------------------------------------------------------------------------------- colour


def test_lab_round_trip_is_within_one_level():
    rgb = np.random.default_rng(4).random((2, 24, 24, 3), dtype=np.float32)
    lab = np.stack([rgb_to_lab(image) for image in rgb])
    l_norm = torch.from_numpy(normalize_l(lab[..., :1]).transpose(0, 3, 1, 2).copy())
    ab_norm = torch.from_numpy(normalize_ab(lab[..., 1:]).transpose(0, 3, 1, 2).copy())
    back = lab_to_rgb_tensor(l_norm, ab_norm)
    assert back.shape == (2, 3, 24, 24) and back.dtype == torch.float32
    error = (back - torch.from_numpy(rgb.transpose(0, 3, 1, 2))).abs().max()
    assert float(error) <= 1 / 255
