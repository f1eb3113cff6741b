"""Replaces pyinstaller-hooks-contrib's torch hook for this application.

The contrib hook collects every torch submodule (torch._inductor, torch.distributed,
torch.onnx, ...) and every data file, for programs that may compile or export models. The
engine only runs eager inference, so the modules come from following its imports, and only
torch's shared libraries are collected besides (they are loaded by path, not imported).
"""

from pathlib import Path

from PyInstaller.utils.hooks import PY_DYLIB_PATTERNS, collect_dynamic_libs, get_package_paths

# torch reads its own sources while it imports (inspect.getsource in its config modules,
# torch.functional, torch.nn.functional, ...: "OSError: could not get source code" without
# them), so they ship beside the byte code, as the contrib hook does (~21 MB).
module_collection_mode = "pyz+py"
binaries = collect_dynamic_libs("torch", search_patterns=[*PY_DYLIB_PATTERNS, "*.so.*"])
# Symlinks from torch/lib to the top level confuse torch's own library lookup (see the
# contrib hook); torch/lib is on its rpath anyway.
bindepend_symlink_suppression = ["**/torch/lib/*.so*"]

# `import torch` checks that this helper exists (it serves torch.multiprocessing's shared
# memory); the rest of torch/bin is C++ test programs and protoc.
binaries += [(str(Path(get_package_paths("torch")[1]) / "bin" / "torch_shm_manager"), "torch/bin")]
