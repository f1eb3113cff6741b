"""The frozen bundle leaves torch._dynamo out: loading and running every shipped model, and
refusing a critic's weight file, must never import it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith("torch._dynamo"):
            raise ModuleNotFoundError("No module named 'torch._dynamo' (left out of the bundle)")
sys.meta_path.insert(0, Block())
import numpy as np
from engine import api
from engine.archs import build_arch
from engine.weights import save_weights
image = np.full((64, 64, 3), 120, np.uint8)
mask = np.zeros((64, 64), bool); mask[20:30, 20:40] = True
options = api.RunOptions(device="cpu", precision="full")
api.denoise(image, options=options); api.inpaint(image, mask, options=options)
api.colorize(image, options=options)
critic = build_arch("inpaint_patchgan", base_channels=4)
save_weights(sys.argv[1], critic, task="inpaint")
try:
    api.inpaint(image, mask, options=api.RunOptions(device="cpu", weights=sys.argv[1]))
except api.ModelUnavailable as exc:
    assert "not a inpaint generator" in str(exc) or "generator" in str(exc), exc
else:
    raise SystemExit("a critic was accepted")
print("ok")
"""


def test_shipped_models_load_and_run_without_torch_dynamo(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "critic.pt")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
