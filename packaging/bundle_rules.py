"""What goes into the bundle and what is stripped from it: plain data, read by the spec.

Kept apart from the spec so the rules are readable and testable without PyInstaller. Each
rule says why the thing is unused; the stripped bundle's self-test and GUI smoke test
(tests/packaging/) are what prove it.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

DISTRIBUTION = "rebuilding-image"
APP_NAME = "Restoration Editor"
EXECUTABLE = "restoration-editor"
BUNDLE_ID = "org.rebuilding-image.RestorationEditor"

# Modules imported only lazily (by name at run time) that the analysis cannot see. Short on
# purpose: anything else the app needs is found by following its imports.
HIDDEN_IMPORTS: list[str] = []

# Never in the bundle: the project's other parts, optional packages the environment happens
# to hold (bench/train extras), and the parts of torch that only compile, export, distribute
# or test models — the engine runs eager inference only.
EXCLUDED_MODULES = [
    "training",
    "tests",
    "benchmarks",
    "torchvision",
    "torchaudio",
    "triton",
    "scipy",
    "bm3d",
    "bm4d",
    "pywt",
    "sympy",
    "networkx",
    "matplotlib",
    "pandas",
    "IPython",
    "tkinter",
    "pytest",
    "_pytest",
    "pytestqt",
    "PyInstaller",
    "setuptools",
    "pip",
    "torch._inductor",
    "torch._dynamo",
    "torch.onnx",
    "torch.utils.tensorboard",
    "torch.utils.benchmark",
]

# Paths inside the bundle (relative to its _internal/ folder, '/'-separated) that are
# dropped after analysis. fnmatch patterns: '*' crosses folders.
STRIPPED = [
    # torch: C++ headers, CMake files and C++ tests (our hook collects none of them; these
    # guard against a hook that would), and the test libraries beside the real ones.
    "torch/include/*",
    "torch/share/*",
    "torch/test/*",
    "torch/lib/libtorchbind_test.so",
    "torch/lib/libjitbackend_test.so",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libaoti_custom_ops.so",
    # Qt: the user interface is English only, so no translations.
    "PySide6/Qt/translations/*",
    # Qt plugins the editor never loads: it decodes images through the engine (Pillow,
    # OpenCV), draws no OpenGL, opens no network connection, reads no touch screens.
    "PySide6/Qt/plugins/imageformats/*",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/xcbglintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    # The GTK platform theme would load the system's GTK into the process; the XDG desktop
    # portal theme (kept) gives native file dialogs on GNOME and KDE without it.
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    # Qt libraries only those dropped plugins use.
    "PySide6/Qt/lib/libQt6EglFSDeviceIntegration.so*",
    "PySide6/Qt/lib/libQt6EglFsKmsSupport.so*",
    "PySide6/Qt/lib/libQt6EglFsKmsGbmSupport.so*",
    "PySide6/Qt/lib/libQt6XcbQpa.so*-gl*",
    # Test folders anywhere (torch.testing itself is imported by torch: it stays).
    "*/tests/*",
]


def is_stripped(dest: str) -> bool:
    """Whether a bundle path matches a STRIPPED pattern."""
    name = dest.replace("\\", "/")
    return any(fnmatch.fnmatch(name, pattern) for pattern in STRIPPED)


def resource_files(root: Path) -> list[tuple[str, str]]:
    """(source, bundle folder) for every resources/ file the application uses.

    Weights come from the manifest — only files it vouches for ship (never a half-exported
    file a training run left beside them) — plus their model cards.
    """
    resources = root / "resources"
    weights = resources / "weights"
    manifest = weights / "manifest.json"
    pairs: list[tuple[str, str]] = [(str(manifest), "resources/weights")]
    for entry in json.loads(manifest.read_text(encoding="utf-8"))["models"]:
        for name in (entry["file"], entry.get("card")):
            if name:
                pairs.append((str(weights / name), "resources/weights"))
    for folder, pattern in (("icons", "*.png"), ("samples", "*")):
        for path in sorted((resources / folder).glob(pattern)):
            if path.is_file():
                pairs.append((str(path), f"resources/{folder}"))
    return pairs
