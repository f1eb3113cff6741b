"""VGG16 loading without downloads, and the generator/discriminator loss terms."""

from __future__ import annotations

import logging
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from training.errors import DivergedError, MissingVGGWeights, TrainingError
from training.losses import (
    AdversarialLoss,
    GeneratorLoss,
    LossWeights,
    PerceptualLoss,
    decayed_sigma,
    gram_matrix,
    hard_negative_bce,
    hole_l1,
    hole_mse,
    instance_noise,
    raise_if_diverged,
    style_loss,
    total_variation,
)
from training.vgg import TORCHVISION_VGG16_FILE, VGG16Features, load_vgg16


@pytest.fixture(autouse=True)
def _empty_hub_cache(tmp_path, monkeypatch):
    """Never let a test find a real cached torchvision file on this machine."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    return hub


@pytest.fixture(scope="module")
def random_vgg() -> VGG16Features:
    torch.manual_seed(0)
    return VGG16Features()  # direct: module fixtures run before the hub-cache patch


def _torchvision_state(vgg: VGG16Features) -> dict[str, torch.Tensor]:
    """The stack's weights as torchvision's full vgg16 state dict would hold them."""
    state = {f"features.{k}": v.clone() for k, v in vgg.features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 8)
    return state


# --- VGG16 -----------------------------------------------------------------------------


def test_vgg_has_13_convs_with_torchvision_keys(random_vgg):
    convs = [m for m in random_vgg.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13
    state = random_vgg.state_dict()
    assert len(state) == 26  # weight + bias per conv, no buffers
    assert state["features.0.weight"].shape == (64, 3, 3, 3)
    assert state["features.28.weight"].shape == (512, 512, 3, 3)
    assert all(not p.requires_grad for p in random_vgg.parameters())
    assert not random_vgg.train().training  # a parent's .train() cannot unfreeze it


def test_vgg_returns_requested_layers_only():
    vgg = VGG16Features(layers=("relu1_2", "relu2_2"))
    out = vgg(torch.zeros(1, 3, 16, 16))
    assert list(out) == ["relu1_2", "relu2_2"]
    assert out["relu2_2"].shape == (1, 128, 8, 8)
    with pytest.raises(TrainingError, match="RGB"):
        vgg(torch.zeros(1, 2, 16, 16))


def test_torchvision_state_dict_loads_and_gives_identical_activations(random_vgg, tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(_torchvision_state(random_vgg), path)
    torch.manual_seed(123)  # a different init, so equality proves the load
    loaded = load_vgg16(path)
    assert torch.equal(loaded.state_dict()["features.28.weight"], random_vgg.features[28].weight)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    a, b = random_vgg(x), loaded(x)
    for name in a:
        assert torch.equal(a[name], b[name])


def test_features_only_state_dict_without_prefix_loads(random_vgg, tmp_path):
    path = tmp_path / "features.pth"
    torch.save(random_vgg.features.state_dict(), path)
    loaded = load_vgg16(path)
    assert torch.equal(loaded.features[0].bias, random_vgg.features[0].bias)


def test_cached_torchvision_file_is_used(random_vgg, _empty_hub_cache):
    (_empty_hub_cache / "checkpoints").mkdir()
    torch.save(
        _torchvision_state(random_vgg), _empty_hub_cache / "checkpoints" / TORCHVISION_VGG16_FILE
    )
    loaded = load_vgg16()
    assert torch.equal(loaded.features[28].weight, random_vgg.features[28].weight)


def test_no_weights_raises_with_instructions():
    with pytest.raises(MissingVGGWeights, match="--vgg-weights") as info:
        load_vgg16()
    assert "perceptual" in str(info.value)


def test_allow_random_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="training.vgg"):
        vgg = load_vgg16(allow_random=True)
    assert isinstance(vgg, VGG16Features)
    assert "RANDOM" in caplog.text


def test_corrupted_or_foreign_weights_are_refused(random_vgg, tmp_path):
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"not a torch file at all")
    with pytest.raises(MissingVGGWeights, match="corrupt.pth"):
        load_vgg16(corrupt)
    with pytest.raises(MissingVGGWeights, match="does not exist"):
        load_vgg16(tmp_path / "absent.pth")
    partial = _torchvision_state(random_vgg)
    del partial["features.28.bias"]
    torch.save(partial, tmp_path / "partial.pth")
    with pytest.raises(MissingVGGWeights, match=r"partial\.pth.*28\.bias"):
        load_vgg16(tmp_path / "partial.pth")
    wrong = _torchvision_state(random_vgg)
    wrong["features.0.weight"] = torch.zeros(64, 1, 3, 3)
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(MissingVGGWeights, match="shape"):
        load_vgg16(tmp_path / "wrong.pth")


# --- adversarial -----------------------------------------------------------------------


def _bce(logit: float, target: float) -> float:
    p = 1 / (1 + math.exp(-logit))
    return -(target * math.log(p) + (1 - target) * math.log(1 - p))


def test_label_smoothing_matches_hand_computation():
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    smooth = AdversarialLoss().discriminator(real, fake).item()
    assert smooth == pytest.approx(0.5 * (_bce(2.0, 0.9) + _bce(-1.0, 0.0)), rel=1e-5)
    hard = AdversarialLoss(real_label=1.0).discriminator(real, fake).item()
    assert hard == pytest.approx(0.5 * (_bce(2.0, 1.0) + _bce(-1.0, 0.0)), rel=1e-5)
    assert smooth > hard  # a confident real verdict is penalised once smoothed
    assert AdversarialLoss().generator(fake).item() == pytest.approx(_bce(-1.0, 1.0), rel=1e-5)
    with pytest.raises(TrainingError):
        AdversarialLoss(real_label=1.5)


def test_instance_noise_decays_to_zero():
    assert decayed_sigma(0.1, 0, 100) == pytest.approx(0.1)
    assert decayed_sigma(0.1, 50, 100) == pytest.approx(0.05)
    assert decayed_sigma(0.1, 100, 100) == 0.0
    assert decayed_sigma(0.1, 500, 100) == 0.0
    x = torch.zeros(2, 3, 8, 8)
    assert instance_noise(x, 0.0) is x
    gen = torch.Generator().manual_seed(0)
    noisy = instance_noise(x, 0.5, gen)
    assert 0.3 < noisy.std().item() < 0.7
    again = instance_noise(x, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)


# --- reconstruction terms --------------------------------------------------------------


def test_hole_l1_weighs_hole_errors_more():
    target = torch.zeros(1, 3, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., :2, :] = 1  # top half is the hole
    err_in_hole = target.clone()
    err_in_hole[..., 0, 0] = 1.0
    err_outside = target.clone()
    err_outside[..., 3, 3] = 1.0
    inside = hole_l1(err_in_hole, target, mask).item()
    outside = hole_l1(err_outside, target, mask).item()
    assert inside == pytest.approx(6.0 * 3 / 48)  # three channels, 48 elements
    assert outside == pytest.approx(1.0 * 3 / 48)


def test_hole_mse_scores_each_image_by_its_hole_alone():
    target = torch.zeros(2, 3, 4, 4)
    mask = torch.zeros(2, 1, 4, 4)
    mask[0, :, 0, 0] = 1  # a one-pixel hole
    mask[1, :, :2, :] = 1  # half the image
    pred = target.clone()
    pred[:, :, 3, 3] = 5.0  # outside both holes: ignored
    pred[0, :, 0, 0] = 0.5  # the whole small hole is off by 0.5
    pred[1, :, 0, :] = 1.0  # half the big hole is off by 1
    # Per image (0.25 and 0.5), then averaged: the small hole weighs as much as the big one.
    assert hole_mse(pred, target, mask).item() == pytest.approx((0.25 + 0.5) / 2)
    assert hole_mse(pred, target, torch.zeros_like(mask)).item() == 0.0
    parts = GeneratorLoss(LossWeights(hole_mse=1.0))(pred, target, mask=mask)[1]
    assert parts == {"hole_mse": pytest.approx(0.375)}
    with pytest.raises(TrainingError, match="hole_mse loss needs the hole mask"):
        GeneratorLoss(LossWeights(hole_mse=1.0))(pred, target)


def test_total_variation():
    assert total_variation(torch.full((1, 3, 8, 8), 0.3)).item() == 0.0
    ramp = torch.arange(8.0).repeat(1, 1, 8, 1)  # +1 per column
    assert total_variation(ramp).item() == pytest.approx(1.0)
    # Only pairs inside the hole dilated by one pixel count.
    noisy = torch.zeros(1, 1, 16, 16)
    noisy[..., 12:, 12:] = torch.rand(4, 4) + 1
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., 2:4, 2:4] = 1
    assert total_variation(noisy, mask).item() == 0.0
    assert total_variation(noisy).item() > 0.0


def test_gram_matrix_and_style_loss():
    feats = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    expected = torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / (2 * 1 * 2)
    assert torch.allclose(gram_matrix(feats)[0], expected)
    a = {"x": feats, "y": feats * 2}
    assert style_loss(a, a).item() == 0.0
    b = {"x": feats, "y": feats}
    # layer y: gram scales by 4, so |4G - G| = 3G, mean over entries; averaged with layer x = 0
    assert style_loss(a, b).item() == pytest.approx(0.5 * (3 * expected).mean().item())


# --- weights and the generator loss ----------------------------------------------------


def test_for_task_defaults_match_table():
    inpaint = LossWeights.for_task("inpaint")
    assert (inpaint.adversarial, inpaint.l1, inpaint.reconstruction) == (0.1, 1.0, 1.0)
    assert (inpaint.perceptual, inpaint.style, inpaint.tv, inpaint.mse) == (0.05, 120.0, 0.1, 0)
    colorize = LossWeights.for_task("colorize")
    assert colorize.enabled == {"adversarial": 1.0, "l1": 100.0}
    denoise = LossWeights.for_task("denoise")
    assert denoise.enabled == {"adversarial": 0.01, "l1": 1.0, "perceptual": 0.01}
    assert inpaint.needs_vgg and denoise.needs_vgg and not colorize.needs_vgg
    with pytest.raises(TrainingError, match="unknown task"):
        LossWeights.for_task("sharpen")
    with pytest.raises(TrainingError, match="tv"):
        LossWeights(l1=1.0, tv=-1.0)


def test_zero_weights_compute_nothing(monkeypatch):
    import training.losses as losses

    def forbidden(*args, **kwargs):
        raise AssertionError("a zero-weight term was computed")

    monkeypatch.setattr(losses, "total_variation", forbidden)
    monkeypatch.setattr(losses, "hole_l1", forbidden)
    loss = GeneratorLoss(LossWeights.for_task("colorize"))  # no VGG needed
    pred = torch.rand(2, 2, 8, 8, requires_grad=True)  # ab channels
    target = torch.rand(2, 2, 8, 8)
    total, parts = loss(pred, target)
    assert set(parts) == {"l1"}  # adversarial skipped during warm-up
    assert total.item() == pytest.approx(100.0 * parts["l1"], rel=1e-5)
    total, parts = loss(pred, target, fake_logits=torch.zeros(2, 1, 2, 2))
    assert set(parts) == {"adversarial", "l1"}
    assert parts["adversarial"] == pytest.approx(math.log(2), rel=1e-5)


def test_vgg_weights_without_perceptual_loss_raise():
    with pytest.raises(MissingVGGWeights, match="--vgg-weights"):
        GeneratorLoss(LossWeights.for_task("denoise"))
    with pytest.raises(TrainingError, match="non-adversarial"):
        GeneratorLoss(LossWeights(adversarial=1.0))


def test_perceptual_on_ab_channels_is_refused(random_vgg):
    weights = LossWeights(l1=1.0, perceptual=1.0)
    with pytest.raises(TrainingError, match="RGB"):
        GeneratorLoss(weights, perceptual=PerceptualLoss(random_vgg), channels=2)
    loss = GeneratorLoss(weights, perceptual=PerceptualLoss(random_vgg))
    with pytest.raises(TrainingError, match="ab"):
        loss(torch.zeros(1, 2, 16, 16), torch.zeros(1, 2, 16, 16))


def test_inpaint_loss_all_terms_and_gradients(random_vgg):
    torch.manual_seed(1)
    loss = GeneratorLoss(LossWeights.for_task("inpaint"), perceptual=PerceptualLoss(random_vgg))
    pred = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_()
    target = torch.rand(1, 3, 32, 32) * 2 - 1
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 8:20, 8:20] = 1
    total, parts = loss(pred, target, fake_logits=torch.randn(1, 1, 4, 4), mask=mask)
    expected = {"adversarial", "l1", "reconstruction", "perceptual", "style", "tv"}
    assert set(parts) == expected
    weights = LossWeights.for_task("inpaint")
    weighted = sum(getattr(weights, k) * v for k, v in parts.items())
    assert total.item() == pytest.approx(weighted, rel=1e-4)
    total.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0
    assert all(p.grad is None for p in random_vgg.parameters())
    with pytest.raises(TrainingError, match="mask"):
        loss(pred, target)


def test_perceptual_loss_zero_for_identical_images(random_vgg):
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    perc, sty = PerceptualLoss(random_vgg)(x, x)
    assert perc.item() == 0.0 and sty.item() == 0.0
    perc, sty = PerceptualLoss(random_vgg)(x, -x, style=False)
    assert perc.item() > 0 and sty is None


def test_raise_if_diverged():
    raise_if_diverged({"l1": 0.5})
    with pytest.raises(DivergedError, match="style.*nan"):
        raise_if_diverged({"l1": 0.5, "style": float("nan")}, step=7)


def test_mse_term_for_denoise_variant():
    weights = LossWeights(l1=1.0, mse=2.0)
    pred = torch.ones(1, 3, 4, 4, requires_grad=True)
    total, parts = GeneratorLoss(weights)(pred, torch.zeros(1, 3, 4, 4))
    assert parts == {"l1": 1.0, "mse": 1.0}
    assert total.item() == pytest.approx(3.0)
    total.backward()
    assert torch.allclose(pred.grad, torch.full_like(pred, (1 + 2 * 2) / 48))


def test_hard_negative_bce_punishes_only_the_most_confident_clean_pixels():
    target = torch.zeros(2, 1, 40, 40)
    target[0, 0, 10:20, 10:20] = 1.0
    logits = torch.full((2, 1, 40, 40), -6.0, requires_grad=True)
    with torch.no_grad():
        logits[0, 0, 9, 9] = 6.0  # beside the damage: its soft edge, not a false alarm
        logits[1, 0, 30:34, 30:34] = 4.0  # a confident false alarm on a clean sample
    loss = hard_negative_bce(logits, target, fraction=0.01)
    loss.backward()
    grad = logits.grad[:, 0]
    assert grad[0, 9, 9] == 0 and grad[0, 10:20, 10:20].abs().sum() == 0
    # The false alarm's 16 pixels are the clean sample's whole top 1 % (16 of 1 600), so
    # they alone take its gradient; the rest of that sample gets none.
    assert (grad[1, 30:34, 30:34] > 0).all()
    assert grad[1].abs().sum() == grad[1, 30:34, 30:34].abs().sum()
    expected = (F.softplus(torch.tensor(4.0)) + F.softplus(torch.tensor(-6.0))) / 2
    assert torch.isclose(loss, expected, atol=1e-5)
    # Weighted into the generator loss under its own name.
    weights = LossWeights(dice=1.0, hard_negative_bce=0.5)
    _, parts = GeneratorLoss(weights)(logits.detach(), target)
    assert set(parts) == {"dice", "hard_negative_bce"}
