"""The real-photo part of the denoising benchmark: PolyU pairing, the JPEG protocol, rows."""

from __future__ import annotations

import argparse
import io

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from benchmarks import quality_denoise as q
from benchmarks import quality_real as real
from training.metrics import psnr


def _photo(height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([128 + 60 * np.sin(x / 3), 100 + 50 * np.cos(y / 2), 4 * x], -1)
    return np.clip(rgb, 0, 255).round().astype(np.uint8)


def test_polyu_pairs_are_paired_by_name(tmp_path, capsys):
    for stem in ("b_real", "b_mean", "a_real", "a_mean", "c_real", "d_mean"):
        (tmp_path / f"{stem}.JPG").touch()
    pairs = real.polyu_paths(tmp_path)
    assert [(n.name, c.name) for n, c in pairs] == [
        ("a_real.JPG", "a_mean.JPG"),
        ("b_real.JPG", "b_mean.JPG"),
    ]
    assert "c_real.JPG" in capsys.readouterr().err


@pytest.mark.skipif(not real.POLYU.is_dir(), reason=f"PolyU not present: {real.POLYU}")
def test_the_polyu_set_has_its_100_pairs_and_every_nth_subsets_them():
    paths = real.polyu_paths()
    assert len(paths) == 100
    assert all(n.name[:-9] == c.name[:-9] and c.name.endswith("_mean.JPG") for n, c in paths)
    (noisy, clean), *_ = real.polyu_pairs(every=2, limit=1)
    assert noisy.shape == clean.shape == (512, 512, 3) and noisy.dtype == np.uint8
    assert 30 < psnr(noisy / 255.0, clean / 255.0) < 45
    assert real.polyu_paths()[::2][:3] == paths[0:6:2]


def test_jpeg_uses_the_quality_and_4_2_0_chroma():
    clean = _photo()
    data = real.jpeg_bytes(clean, 30)
    assert data == real.jpeg_bytes(clean, 30)  # deterministic: the same file every run
    with Image.open(io.BytesIO(data)) as im:
        assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
        assert [c[1:3] for c in im.layer] == [(2, 2), (1, 1), (1, 1)]
    scores = [psnr(real.jpeg_degrade(clean, k) / 255.0, clean / 255.0) for k in (10, 20, 30, 40)]
    assert scores == sorted(scores) and scores[0] < scores[-1] - 1
    decoded = real.jpeg_degrade(clean, 40)
    assert decoded.shape == clean.shape and decoded.dtype == np.uint8


def _args(**changes) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    q.add_arguments(parser)
    args = parser.parse_args([])
    vars(args).update(changes)
    return args


def test_options_default_to_every_part_and_strength_names_the_row():
    args = _args(strength=[1.0, 0.5])
    assert args.parts == ["synthetic", "polyu", "jpeg"] and args.polyu_every == 1
    assert "ffdnet" in args.peers and args.jpeg_qualities == [10, 20, 30, 40]
    assert q.model_runs(args) == {
        "shipped model": (None, 1.0),
        "shipped model, strength 0.5": (None, 0.5),
    }


def test_rows_name_the_oracle_setting_and_the_tables_keep_their_order():
    clean = _photo(32, 32)
    pairs = [(real.jpeg_degrade(clean, 10), clean)]
    methods = real.entries("decoded JPEG (input)", {}, {}, _args(peers=["nlm"]))
    rows: list[dict] = []
    block = {"set": "kodak24", "noise": "jpeg", "level": 10.0, "clipped": True}
    real.block_rows(block, pairs, methods, rows.append)
    assert [r["method"] for r in rows] == ["decoded JPEG (input)", "OpenCV NL-means (oracle h)"]
    assert rows[0]["gain"] == 0 and "param" not in rows[0]
    assert rows[1]["param"] in real.NLM_HS and rows[1]["param_name"] == "h"
    synthetic = {"set": "mcmaster", "noise": "gaussian", "level": 50.0, "clipped": True}
    assert q.sort_key(synthetic) < q.sort_key(rows[0])
    text = q.table(rows)
    assert "JPEG q10 4:2:0" in text and "| h " in text and "Gaussian" not in text
