"""The system libraries Qt needs on Linux, checked before Qt is imported.

pip installs Qt itself, but not the libraries its modules and its X11 platform plugin load
from the system. When one is missing, importing Qt fails with a traceback, or the X11 plugin
aborts the process with a page about plugins; on a minimal Debian both happen. This module
imports nothing of Qt, so `editor.launch` can name every missing package in one line first.
"""

from __future__ import annotations

import ctypes
import os
import sys

# Debian/Ubuntu package -> the library file Qt loads from it.
# Loaded by Qt's own modules whatever the platform (offscreen too): GUI, OpenGL, fonts, D-Bus.
QT_LIBRARIES = {
    "libegl1": "libEGL.so.1",
    "libgl1": "libGL.so.1",
    "libfontconfig1": "libfontconfig.so.1",
    "libglib2.0-0": "libglib-2.0.so.0",
    "libxkbcommon0": "libxkbcommon.so.0",
    "libdbus-1-3": "libdbus-1.so.3",
}
# Loaded by the X11 (xcb) platform plugin at start.
XCB_LIBRARIES = {
    "libx11-6": "libX11.so.6",
    "libx11-xcb1": "libX11-xcb.so.1",
    "libxcb1": "libxcb.so.1",
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-image0": "libxcb-image.so.0",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
    "libxcb-randr0": "libxcb-randr.so.0",
    "libxcb-render-util0": "libxcb-render-util.so.0",
    "libxcb-shape0": "libxcb-shape.so.0",
    "libxcb-xkb1": "libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "libxkbcommon-x11.so.0",
}


def library_present(filename: str) -> bool:
    """Whether the dynamic loader can load `filename` (as Qt would)."""
    try:
        ctypes.CDLL(filename)
    except OSError:
        return False
    return True


def uses_x11(argv: list[str]) -> bool:
    """Will Qt pick its X11 plugin: no other platform asked for, no Wayland session."""
    if "-platform" in argv:
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    return platform == "xcb" or (not platform and not os.environ.get("WAYLAND_DISPLAY"))


def missing_packages(argv: list[str]) -> list[str]:
    """The packages of the libraries Qt will need here that cannot be loaded (Linux only)."""
    if not sys.platform.startswith("linux"):
        return []
    wanted = dict(QT_LIBRARIES)
    if uses_x11(argv):
        wanted |= XCB_LIBRARIES
    return [package for package, name in wanted.items() if not library_present(name)]


def install_line(missing: list[str]) -> str:
    return (
        "The editor needs system libraries that are missing; install them with: "
        f"sudo apt-get install {' '.join(missing)}"
    )
