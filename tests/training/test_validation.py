"""The logged validation is what the exported model scores through the engine's public API."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from training_support import make_trainer, tiny_config

from engine import api
from training.export import export_run
from training.metrics import psnr, ssim
from training.report import read_log
from training.validation import mean_metrics, validation_case


def _unit(tensor: torch.Tensor) -> np.ndarray:
    """A dataset tensor on [-1, 1] as a float32 H×W×3 picture on [0, 1]."""
    return np.ascontiguousarray((tensor.numpy().transpose(1, 2, 0) + 1.0) / 2.0, np.float32)


def _plain_scores(task: str, dataset, options: api.RunOptions) -> dict[str, float]:
    """Each validation image restored by `engine.api` from the exported file, scored alone."""
    rows = []
    for index in range(len(dataset)):
        sample = dataset[index]
        clean = dataset.crop(index, dataset.rng(index))  # the photo the sample was made from
        photo = (clean * 255 + 0.5).astype(np.uint8)  # as a file holds it
        if task == "denoise":
            out = np.clip(api.denoise(_unit(sample["input"]), options=options), 0, 1)
        elif task == "inpaint":
            hole = sample["mask"][0].numpy() > 0.5
            out = api.inpaint(photo, hole, options=options) / 255.0
        else:
            out = api.colorize(photo, options=options) / 255.0
        row = {"psnr": psnr(out, clean), "ssim": ssim(out, clean)}
        if task == "inpaint":
            row["psnr_hole"] = psnr(out, clean, mask=hole)
            row["ssim_hole"] = ssim(out, clean, mask=hole)
        rows.append(row)
    return mean_metrics(rows)


@pytest.mark.parametrize("task", ["denoise", "inpaint", "colorize"])
def test_logged_validation_equals_a_plain_loop_through_the_engine(task, photos, tmp_path):
    run = tmp_path / "run"
    trainer = make_trainer(tiny_config(task, steps=2, val_every=2), photos, run)
    trainer.fit()
    logged = read_log(run, "val")[-1]
    assert logged["step"] == 2
    weights = export_run(run, tmp_path / "weights" / f"{task}.pt", allow_half=False).path
    options = api.RunOptions(device="cpu", weights=weights, precision="full")
    plain = _plain_scores(task, trainer.val_set, options)
    assert len(trainer.val_set) == 2 and set(plain) <= set(logged)
    for key, value in plain.items():
        assert logged[key] == pytest.approx(value, abs=1e-4), key


def test_a_validation_case_is_the_datasets_sample_and_the_photo_it_came_from(photos, tmp_path):
    trainer = make_trainer(tiny_config("inpaint", steps=1), photos, tmp_path / "run")
    dataset = trainer.val_set
    case = validation_case("inpaint", dataset, 1)
    sample = dataset[1]
    for key, tensor in sample.items():
        assert torch.equal(case.sample[key], tensor), key
    np.testing.assert_allclose(case.target, _unit(sample["target"]), atol=1e-6)
    # The engine gets the 8-bit photo (holes included: it zeroes them itself) and the mask.
    assert case.image.dtype == np.uint8
    np.testing.assert_array_equal(case.image, (case.target * 255 + 0.5).astype(np.uint8))
    np.testing.assert_array_equal(case.request.mask, sample["mask"][0].numpy() > 0.5)
    assert case.hole is not None and case.hole.any()
