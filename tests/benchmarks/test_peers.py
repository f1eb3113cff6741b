"""The peer denoisers: the networks match the shipped state dicts and FFDNet's σ oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks import peers
from benchmarks import quality_real as real
from benchmarks.quality_common import BENCH, load_set

needs_peers = pytest.mark.skipif(
    not peers.PEERS.is_dir(), reason=f"peer weights not present: {peers.PEERS}"
)


@needs_peers
@pytest.mark.parametrize("name", sorted(peers.FILES))
def test_architectures_match_the_shipped_state_dicts(name):
    shipped = torch.load(peers.PEERS / peers.FILES[name], map_location="cpu", weights_only=True)
    network = peers.FFDNet() if name == "ffdnet" else peers.DnCNN()
    ours = network.state_dict()
    assert list(ours) == list(shipped)
    assert all(ours[key].shape == shipped[key].shape for key in ours)
    loaded = peers.load_network(name)  # strict loading: no key missing, none unexpected
    assert loaded is not None and not loaded.training
    assert torch.equal(loaded.state_dict()["model.0.weight"], shipped["model.0.weight"])


@needs_peers
def test_networks_keep_the_size_of_odd_images_and_restore_the_range():
    networks = peers.load_networks(["ffdnet", "dncnn"])
    image = np.full((17, 23, 3), 120, np.uint8)
    for run in (
        peers.ffdnet_restorer(networks["ffdnet"], 10),
        peers.dncnn_restorer(networks["dncnn"]),
    ):
        restored = run(image)
        assert restored.shape == image.shape and restored.dtype == np.float64
        assert np.abs(restored - 120).max() < 6  # a flat grey stays flat and in [0, 255]


def test_missing_weights_leave_the_peer_out(tmp_path, capsys):
    assert peers.load_networks(["ffdnet", "dncnn"], folder=tmp_path) == {}
    assert capsys.readouterr().err.count("rows left out") == 2


def test_oracle_picks_the_candidate_with_the_best_psnr():
    clean = np.random.default_rng(0).integers(0, 256, (16, 16, 3)).astype(np.uint8)
    noisy = clean ^ 8

    def off_by(k: float):
        return lambda _image: clean.astype(np.float64) + k

    candidates = {k: off_by(k) for k in (4.0, 0.0, 9.0)}
    best, scores = real.best_of(candidates, [(noisy, clean)])
    assert best == 0.0 and scores["psnr"] == np.inf


@needs_peers
@pytest.mark.skipif(not (BENCH / "kodak24").is_dir(), reason="Kodak24 not present")
@pytest.mark.parametrize("sigma", [10.0, 25.0])
def test_ffdnet_oracle_finds_the_true_sigma(sigma):
    clean = load_set("kodak24", 1)[0][200:264, 300:364]
    noise = np.random.default_rng(0).normal(0, sigma, clean.shape)
    noisy = np.clip(np.round(clean + noise), 0, 255).astype(np.uint8)
    network = peers.load_network("ffdnet")
    candidates = {s: peers.ffdnet_restorer(network, s) for s in peers.ORACLE_SIGMAS}
    best, scores = real.best_of(candidates, [(noisy, clean)])
    assert best == sigma and scores["gain"] > 3
