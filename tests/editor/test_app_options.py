"""`--version` and `--self-test`: answered without a window, the version from the metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from editor import app, system_libs
from editor.resources import about_markdown, app_version, icon_paths

ROOT = Path(__file__).resolve().parents[2]
VERSION = metadata.version("rebuilding-image")


def test_the_version_comes_from_the_package_metadata_and_shows_in_about():
    assert app_version() == VERSION
    assert about_markdown().startswith(f"## Restoration Editor {VERSION}\n")


def test_the_version_is_unknown_rather_than_wrong_without_metadata(monkeypatch):
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert app_version() == "(version unknown)"


def test_version_option_prints_it(capsys):
    assert app.main(["restoration-editor", "--version"]) == 0
    assert capsys.readouterr().out == f"Restoration Editor {VERSION}\n"


def test_self_test_option_prints_one_line_and_exits_zero(capsys):
    assert app.main(["restoration-editor", "--self-test"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("self-test passed in ")


def test_self_test_exits_nonzero_with_the_reason_on_stderr(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REBUILDING_IMAGE_RESOURCES", str(tmp_path))  # an empty install
    assert app.main(["restoration-editor", "--self-test"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "self-test FAILED" in captured.err
    assert "no model is listed" in captured.err


def test_self_test_needs_no_display_and_creates_no_application():
    """In a fresh process with no display and no Qt platform set: Qt would abort on a
    QApplication there, so success proves none was made."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    code = (
        "import sys; from editor import app; status = app.main(['x', '--self-test']); "
        "from PySide6.QtWidgets import QApplication; "
        "sys.exit(status if QApplication.instance() is None else 99)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("self-test passed")


def test_the_icon_ships_at_the_desktop_sizes_and_becomes_the_window_icon(qapp):
    sizes = [int(path.stem.rsplit("-", 1)[1]) for path in icon_paths()]
    assert sizes == [16, 32, 48, 64, 128, 256, 512]
    icon = app._app_icon()
    assert not icon.isNull()
    assert sorted(size.width() for size in icon.availableSizes()) == sizes


def _x11_session(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def test_missing_libraries_are_named_with_their_packages(monkeypatch) -> None:
    _x11_session(monkeypatch)
    monkeypatch.setattr(system_libs, "library_present", lambda name: "cursor" not in name)
    assert system_libs.missing_packages(["editor"]) == ["libxcb-cursor0"]
    monkeypatch.setattr(system_libs, "library_present", lambda name: "EGL" not in name)
    assert system_libs.missing_packages(["editor"]) == ["libegl1"]  # Qt's own, not X11's
    monkeypatch.setattr(system_libs, "library_present", lambda name: True)
    assert system_libs.missing_packages(["editor"]) == []


def test_the_x11_libraries_are_checked_only_where_qt_will_use_x11(monkeypatch) -> None:
    _x11_session(monkeypatch)
    monkeypatch.setattr(system_libs, "library_present", lambda name: False)
    every = len(system_libs.QT_LIBRARIES) + len(system_libs.XCB_LIBRARIES)
    only_qt = len(system_libs.QT_LIBRARIES)
    assert len(system_libs.missing_packages(["editor"])) == every
    assert len(system_libs.missing_packages(["editor", "-platform", "offscreen"])) == only_qt
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert len(system_libs.missing_packages(["editor"])) == only_qt
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")  # asked for X11 by name: checked
    assert len(system_libs.missing_packages(["editor"])) == every
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert len(system_libs.missing_packages(["editor"])) == only_qt
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    assert system_libs.missing_packages(["editor"]) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt uses X11 on Linux only")
def test_missing_libraries_end_the_editor_with_one_line_before_qt_is_imported() -> None:
    """In a fresh process with the probe answering "missing" for a Qt library and two X11
    ones: one line with the install command, exit status 2, and Qt never imported (where
    a missing libEGL would otherwise fail the import with a traceback)."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    code = (
        "import sys; from editor import launch, system_libs\n"
        "gone = ('libxcb-cursor', 'libxcb-xkb', 'libEGL')\n"
        "system_libs.library_present = lambda name: not name.startswith(gone)\n"
        "status = launch.main(['editor'])\n"
        "sys.exit(status if 'PySide6' not in sys.modules else 99)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr.count("\n") == 1
    wanted = "sudo apt-get install libegl1 libxcb-cursor0 libxcb-xkb1"
    assert result.stderr.rstrip().endswith(wanted)
