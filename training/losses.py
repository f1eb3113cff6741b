"""Generator and discriminator losses for the three restoration GANs.

Images are tensors in [-1, 1] (B×C×H×W); masks are B×1×H×W with 1 = hole. Every loss
term has a weight in `LossWeights`, and a weight of 0 means the term is never computed, so
the colorization and denoising trainers need no VGG16 unless someone asks for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from training.errors import DivergedError, MissingVGGWeights, TrainingError
from training.vgg import VGG16Features

l1 = F.l1_loss
mse = F.mse_loss

TASKS = ("inpaint", "colorize", "denoise", "detect")


class AdversarialLoss:
    """Non-saturating BCE-with-logits GAN loss with one-sided label smoothing.

    Only the discriminator's real targets are smoothed (Salimans et al. 2016): smoothing the
    fake targets too would reward the generator for samples the critic already rejects.
    """

    def __init__(self, real_label: float = 0.9, fake_label: float = 0.0) -> None:
        for name, value in (("real_label", real_label), ("fake_label", fake_label)):
            if not 0.0 <= value <= 1.0:
                raise TrainingError(f"{name} must be within [0, 1], got {value}")
        self.real_label = real_label
        self.fake_label = fake_label

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """Mean of the real and fake BCE terms (halved as in pix2pix, slowing D against G).

        ``fake_logits`` must come from a detached generator output.
        """
        real = F.binary_cross_entropy_with_logits(
            real_logits, torch.full_like(real_logits, self.real_label)
        )
        fake = F.binary_cross_entropy_with_logits(
            fake_logits, torch.full_like(fake_logits, self.fake_label)
        )
        return 0.5 * (real + fake)

    def generator(self, fake_logits: Tensor) -> Tensor:
        """BCE of the critic's verdict on generated samples against target 1.0."""
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def instance_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """``x`` plus Gaussian noise of std ``sigma``: blurs real/fake supports early in training."""
    if sigma <= 0.0:
        return x
    device = generator.device if generator is not None else x.device
    noise = torch.randn(x.shape, generator=generator, device=device, dtype=x.dtype)
    return x + sigma * noise.to(x.device)


def decayed_sigma(initial: float, step: int, decay_steps: int) -> float:
    """Instance-noise std decayed linearly from ``initial`` at step 0 to 0 at ``decay_steps``."""
    if decay_steps <= 0 or step >= decay_steps:
        return 0.0
    return max(0.0, initial * (1.0 - max(step, 0) / decay_steps))


def hole_l1(
    pred: Tensor, target: Tensor, mask: Tensor, hole_weight: float = 6.0, valid_weight: float = 1.0
) -> Tensor:
    """L1 weighted towards the hole (Liu et al. 2018), averaged over every pixel and channel.

    Dividing by the full pixel count (not the hole size) keeps small holes from dominating.
    """
    diff = (pred - target).abs()
    weight = hole_weight * mask + valid_weight * (1.0 - mask)
    return (diff * weight).mean()


def hole_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over each image's hole pixels, averaged over the batch.

    Per image, not pooled over the batch, because hole PSNR is averaged per image: a thin
    scratch counts as much as a torn-off corner. Images without a hole contribute 0.
    """
    squared = ((pred - target) ** 2 * mask).sum(dim=(1, 2, 3))
    area = mask.sum(dim=(1, 2, 3)) * pred.shape[1]
    return (squared / area.clamp_min(1.0)).mean()


def soft_dice(logits: Tensor, target: Tensor, smooth: float = 1.0) -> Tensor:
    """1 - soft Dice of sigmoid(`logits`) against a 0/1 `target`, pooled over the batch.

    Pooled, not per image: a fifth of the detector's samples hold no damage, and the Dice
    of an empty label is all smoothing; over the batch, the few damage pixels weigh as much
    as the many clean ones (which plain BCE lets dominate).
    """
    probability = torch.sigmoid(logits.float())
    target = target.float()
    overlap = (probability * target).sum()
    return 1.0 - (2.0 * overlap + smooth) / (probability.sum() + target.sum() + smooth)


# The share of each sample's clean pixels `hard_negative_bce` averages over, and how far from
# any damage a pixel must lie to count as clean (the benchmark's 3 px tolerance: the label
# leaves a crack's soft edge out, and that edge is not a false alarm worth punishing).
HARD_NEGATIVE_FRACTION = 0.01
HARD_NEGATIVE_GUARD_PX = 3


def hard_negative_bce(
    logits: Tensor, target: Tensor, fraction: float = HARD_NEGATIVE_FRACTION
) -> Tensor:
    """BCE over each sample's most confident false alarms: its `fraction` × pixel count
    clean pixels (farther than `HARD_NEGATIVE_GUARD_PX` from any damage) of highest logit.

    Why: the shipped cut is the one flagging at most 0.2 % of an undamaged photo, so what
    sets it is the tail of the clean pixels' probabilities (a fence rail, a backdrop), which
    a mean over every pixel hardly sees. Averaging only the top 1 % puts the gradient there.
    """
    logits = logits.float()
    guard = 2 * HARD_NEGATIVE_GUARD_PX + 1
    near = F.max_pool2d(target.float(), guard, stride=1, padding=HARD_NEGATIVE_GUARD_PX) > 0
    flat = logits.masked_fill(near, float("-inf")).flatten(1)
    k = max(1, int(round(fraction * flat.shape[1])))
    top = flat.topk(k, dim=1).values
    valid = torch.isfinite(top)  # a sample damaged nearly everywhere has fewer clean pixels
    losses = F.binary_cross_entropy_with_logits(
        top.masked_fill(~valid, 0.0), torch.zeros_like(top), reduction="none"
    )
    return (losses * valid).sum() / valid.sum().clamp_min(1)


def total_variation(x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean absolute difference between horizontal and vertical neighbours.

    With ``mask``, only neighbour pairs that both lie in the hole dilated by one pixel count,
    so the seam around the fill is smoothed but the intact photo is left alone.
    """
    dh = (x[..., :, 1:] - x[..., :, :-1]).abs()
    dv = (x[..., 1:, :] - x[..., :-1, :]).abs()
    if mask is None:
        return dh.mean() + dv.mean()
    region = F.max_pool2d(mask.to(x.dtype), kernel_size=3, stride=1, padding=1)
    wh = (region[..., :, 1:] * region[..., :, :-1]).expand_as(dh)
    wv = (region[..., 1:, :] * region[..., :-1, :]).expand_as(dv)
    # clamp: an empty hole yields 0 (still connected to x's graph) instead of 0/0.
    return (dh * wh).sum() / wh.sum().clamp_min(1.0) + (dv * wv).sum() / wv.sum().clamp_min(1.0)


def gram_matrix(features: Tensor) -> Tensor:
    """B×C×C Gram matrix of B×C×H×W features, normalised by C·H·W (Johnson et al. 2016)."""
    b, c, h, w = features.shape
    # In float32 even under autocast: a float16 sum over H·W positions overflows past 65504.
    with torch.autocast(features.device.type, enabled=False):
        flat = features.float().reshape(b, c, h * w)
        return flat @ flat.transpose(1, 2) / (c * h * w)


def style_loss(feats_a: Mapping[str, Tensor], feats_b: Mapping[str, Tensor]) -> Tensor:
    """L1 between Gram matrices, averaged over the layers (both dicts need the same keys)."""
    if set(feats_a) != set(feats_b) or not feats_a:
        raise ValueError(f"feature layers differ: {sorted(feats_a)} vs {sorted(feats_b)}")
    terms = [F.l1_loss(gram_matrix(feats_a[k]), gram_matrix(feats_b[k])) for k in feats_a]
    return torch.stack(terms).mean()


class PerceptualLoss(nn.Module):
    """Perceptual (feature L1) and style (Gram L1) losses from one VGG16 pass per image.

    Move it to the training device with ``.to(device)``; the VGG stays frozen.
    """

    def __init__(self, vgg: VGG16Features) -> None:
        super().__init__()
        self.vgg = vgg

    def forward(
        self, pred: Tensor, target: Tensor, *, perceptual: bool = True, style: bool = True
    ) -> tuple[Tensor | None, Tensor | None]:
        """``(perceptual, style)``, each ``None`` when not asked for."""
        pred_feats = self.vgg(pred)
        with torch.no_grad():  # the target is a constant: no graph, half the memory
            target_feats = self.vgg(target)
        perc = None
        if perceptual:
            terms = [F.l1_loss(pred_feats[k], target_feats[k]) for k in pred_feats]
            perc = torch.stack(terms).mean()
        sty = style_loss(pred_feats, target_feats) if style else None
        return perc, sty


@dataclass
class LossWeights:
    """Weight of each generator loss term; 0 disables (and skips computing) the term.

    Attributes:
        adversarial: BCE of the discriminator's verdict on the generated image.
        l1: plain L1 to the target over the whole image.
        reconstruction: `hole_l1`, L1 weighted 6:1 towards the hole (inpainting; needs a mask).
        perceptual: L1 between VGG16 features (needs ImageNet VGG16 weights and RGB output).
        style: L1 between Gram matrices of VGG16 features (same needs as perceptual).
        tv: total variation, over the dilated hole when a mask is given.
        mse: mean squared error to the target (PSNR-oriented denoising).
        hole_mse: mean squared error over the hole's pixels alone (inpainting; needs a mask):
            exactly what hole PSNR scores, with no gradient spent on pixels the composite
            replaces by the known ones anyway.
        bce: binary cross-entropy of logits against a 0/1 target (damage detection).
        dice: `soft_dice` of logits against a 0/1 target (damage detection).
        balanced_bce: BCE of logits weighted per pixel by the batch's ``weight`` (the
            detector's component-balanced weights: small pieces of damage count more).
        hard_negative_bce: `hard_negative_bce`, BCE over each sample's most confident false
            alarms (damage detection).
    """

    adversarial: float = 0.0
    l1: float = 0.0
    reconstruction: float = 0.0
    perceptual: float = 0.0
    style: float = 0.0
    tv: float = 0.0
    mse: float = 0.0
    hole_mse: float = 0.0
    bce: float = 0.0
    dice: float = 0.0
    balanced_bce: float = 0.0
    hard_negative_bce: float = 0.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise `TrainingError` if a weight is negative or not finite."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise TrainingError(f"loss weight {f.name} must be a finite number >= 0: {value}")

    @classmethod
    def for_task(cls, task: str) -> LossWeights:
        """The default weights of ``task`` ("inpaint", "colorize", "denoise" or "detect")."""
        if task == "inpaint":
            # Liu et al. 2018 (partial convolutions) ratios, with a light adversarial term.
            return cls(
                adversarial=0.1, l1=1.0, reconstruction=1.0, perceptual=0.05, style=120.0, tv=0.1
            )
        if task == "colorize":
            return cls(adversarial=1.0, l1=100.0)  # pix2pix's λ = 100
        if task == "denoise":
            return cls(adversarial=0.01, l1=1.0, perceptual=0.01)
        if task == "detect":  # segmentation: no critic (a mask has no texture to judge)
            return cls(bce=1.0, dice=1.0)
        raise TrainingError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")

    @property
    def needs_vgg(self) -> bool:
        """Whether a VGG16 (and so ImageNet weights) is needed."""
        return self.perceptual > 0 or self.style > 0

    @property
    def enabled(self) -> dict[str, float]:
        """The terms with a non-zero weight, in field order."""
        return {name: value for name, value in asdict(self).items() if value > 0}


class GeneratorLoss:
    """Weighted sum of the enabled generator loss terms.

    Args:
        weights: per-term weights; zero-weight terms are never computed.
        adversarial: the GAN loss (default: `AdversarialLoss()`).
        perceptual: required iff ``weights.needs_vgg``.
        channels: the generator's output channels when known, to reject perceptual/style on
            non-RGB outputs (colorization's ab) at construction rather than at the first step.
    """

    def __init__(
        self,
        weights: LossWeights,
        adversarial: AdversarialLoss | None = None,
        perceptual: PerceptualLoss | None = None,
        *,
        channels: int | None = None,
    ) -> None:
        weights.validate()
        if not any(v > 0 for k, v in weights.enabled.items() if k != "adversarial"):
            # Adversarial alone is skipped during warm-up, leaving nothing to minimise.
            raise TrainingError("at least one non-adversarial loss weight must be > 0")
        if weights.needs_vgg and perceptual is None:
            raise MissingVGGWeights(
                "perceptual/style loss weights are > 0 but no VGG16 perceptual loss was given; "
                "pass --vgg-weights FILE or set the perceptual and style weights to 0"
            )
        if weights.needs_vgg and channels is not None and channels != 3:
            raise TrainingError(_not_rgb_message(channels))
        self.weights = weights
        self.adversarial = adversarial if adversarial is not None else AdversarialLoss()
        self.perceptual = perceptual if weights.needs_vgg else None

    def __call__(
        self,
        pred: Tensor,
        target: Tensor,
        fake_logits: Tensor | None = None,
        mask: Tensor | None = None,
        pixel_weight: Tensor | None = None,
    ) -> tuple[Tensor, dict[str, float]]:
        """``(weighted total, unweighted value of each computed term)``.

        ``fake_logits`` None skips the adversarial term (generator warm-up). ``mask`` (1 = hole)
        is required by the reconstruction and hole_mse terms and restricts TV to the hole's
        surroundings. ``pixel_weight`` is required by the balanced_bce term.
        """
        w = self.weights
        terms: dict[str, Tensor] = {}
        if w.adversarial > 0 and fake_logits is not None:
            terms["adversarial"] = self.adversarial.generator(fake_logits)
        if w.l1 > 0:
            terms["l1"] = F.l1_loss(pred, target)
        if w.reconstruction > 0:
            if mask is None:
                raise TrainingError("the reconstruction (hole L1) loss needs the hole mask")
            terms["reconstruction"] = hole_l1(pred, target, mask)
        if self.perceptual is not None:
            if pred.shape[1] != 3:
                raise TrainingError(_not_rgb_message(pred.shape[1]))
            perc, sty = self.perceptual(
                pred, target, perceptual=w.perceptual > 0, style=w.style > 0
            )
            if perc is not None:
                terms["perceptual"] = perc
            if sty is not None:
                terms["style"] = sty
        if w.tv > 0:
            terms["tv"] = total_variation(pred, mask)
        if w.mse > 0:
            terms["mse"] = F.mse_loss(pred, target)
        if w.hole_mse > 0:
            if mask is None:
                raise TrainingError("the hole_mse loss needs the hole mask")
            terms["hole_mse"] = hole_mse(pred, target, mask)
        if w.bce > 0:  # in float32: autocast's float16 logits would saturate the loss
            terms["bce"] = F.binary_cross_entropy_with_logits(pred.float(), target.float())
        if w.dice > 0:
            terms["dice"] = soft_dice(pred, target)
        if w.balanced_bce > 0:
            if pixel_weight is None:
                raise TrainingError("the balanced_bce loss needs per-pixel weights")
            terms["balanced_bce"] = F.binary_cross_entropy_with_logits(
                pred.float(), target.float(), weight=pixel_weight.float()
            )
        if w.hard_negative_bce > 0:
            terms["hard_negative_bce"] = hard_negative_bce(pred, target)
        total = sum((getattr(w, name) * value for name, value in terms.items()), pred.new_zeros(()))
        # One device sync for all the logged values instead of one per term.
        values = torch.stack([t.detach().float() for t in terms.values()]).tolist()
        return total, dict(zip(terms, values, strict=True))


def _not_rgb_message(channels: int) -> str:
    return (
        f"perceptual/style losses need RGB generator outputs, got {channels} channel(s) "
        "(colorization predicts ab); set the perceptual and style loss weights to 0"
    )


def raise_if_diverged(parts: Mapping[str, float], step: int | None = None) -> None:
    """Raise `DivergedError` naming the first non-finite loss term in ``parts``."""
    for name, value in parts.items():
        if not math.isfinite(value):
            where = f" at step {step}" if step is not None else ""
            raise DivergedError(
                f"training diverged{where}: the {name} loss is {value}; lower the learning "
                "rate or resume from an earlier checkpoint"
            )
