"""Network architectures, registered by name and built by :func:`build_arch`.

Every architecture module is imported explicitly below (no folder scanning: frozen PyInstaller
builds have no folder to scan). Importing a module runs its ``@register_arch`` decorator.
"""

from __future__ import annotations

from engine.archs import (  # noqa: F401  (imported for their registration side effect)
    colorize_hint,
    colorize_patchgan,
    colorize_unet,
    denoise_cond,
    denoise_patchgan,
    denoise_resunet,
    denoise_unet,
    detect_patchgan,
    detect_unet,
    inpaint_gated,
    inpaint_patchgan,
)
from engine.archs.base import Discriminator, Generator
from engine.archs.registry import (
    UnknownArchitecture,
    arch_class,
    build_arch,
    list_archs,
    register_arch,
)

__all__ = [
    "Discriminator",
    "Generator",
    "UnknownArchitecture",
    "arch_class",
    "build_arch",
    "list_archs",
    "register_arch",
]
