"""The packaging's parts that need no build: the strip rules, the resources list, the
desktop file and the Linux install script (run against a stand-in bundle)."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import bundle_rules as rules  # noqa: E402  (packaging/ is a folder of scripts)

NAME = "restoration-editor"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


@pytest.mark.parametrize(
    ("path", "stripped"),
    [
        ("torch/lib/libtorchbind_test.so", True),
        ("torch/lib/libtorch_cpu.so", False),
        ("torch/include/ATen/ATen.h", True),
        ("PySide6/Qt/translations/qtbase_de.qm", True),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", False),
        ("PySide6/Qt/plugins/platforms/libqeglfs.so", True),
        ("PySide6/Qt/plugins/imageformats/libqjpeg.so", True),
        ("PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so", False),
        ("numpy/_core/tests/test_api.py", True),
        ("resources/weights/denoise.pt", False),
    ],
)
def test_strip_rules_drop_only_what_is_unused(path, stripped):
    assert rules.is_stripped(path) is stripped


def test_only_weights_the_manifest_vouches_for_are_bundled(tmp_path):
    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", resources)
    (resources / "weights" / "half-exported.pt.tmp").write_bytes(b"partial")
    (resources / "weights" / "old.pt").write_bytes(b"not in the manifest")
    pairs = rules.resource_files(tmp_path)
    names = {Path(source).name for source, _ in pairs}
    manifest = json.loads((resources / "weights" / "manifest.json").read_text())
    for entry in manifest["models"]:
        assert entry["file"] in names
        assert entry["card"] in names
    assert "half-exported.pt.tmp" not in names and "old.pt" not in names
    assert f"{NAME}-512.png" in names and "CREDITS.md" in names
    assert {folder for _, folder in pairs} == {
        "resources/weights",
        "resources/icons",
        "resources/samples",
    }


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_file_opens_photos_and_ora_documents():
    entry = _desktop_entry(PACKAGING / "linux" / f"{NAME}.desktop")
    assert entry["Type"] == "Application"
    assert entry["Exec"].endswith(" %F")  # several files, as local paths
    assert entry["Icon"] == NAME
    assert set(entry["MimeType"].rstrip(";").split(";")) == {
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/openraster",
    }
    # Qt names the window class after the executable; docks match windows to the entry.
    assert entry["StartupWMClass"] == NAME


@pytest.fixture
def stand_in_bundle(tmp_path) -> Path:
    """A folder shaped like dist/restoration-editor: a program that prints its arguments."""
    bundle = tmp_path / "unpacked" / f"{NAME}-0.1.0"
    icons = bundle / "_internal" / "resources" / "icons"
    icons.mkdir(parents=True)
    program = bundle / NAME
    program.write_text('#!/bin/sh\necho "stand-in $*"\n')
    program.chmod(0o755)
    for source in (ROOT / "resources" / "icons").glob("*.png"):
        shutil.copy(source, icons)
    for name in ("install.sh", f"{NAME}.desktop", f"{NAME}-mime.xml"):
        shutil.copy(PACKAGING / "linux" / name, bundle / name)
    return bundle


def _run_installer(bundle: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_DATA_HOME", None)
    env.pop("BIN_DIR", None)
    return subprocess.run(
        ["sh", str(bundle / "install.sh"), *args], env=env, capture_output=True, text=True
    )


def test_install_script_registers_the_app_for_the_user_and_uninstalls_it(stand_in_bundle, tmp_path):
    home = tmp_path / "home"
    result = _run_installer(stand_in_bundle, home)
    assert result.returncode == 0, result.stderr
    data = home / ".local" / "share"
    app = data / NAME
    program = app / NAME
    assert os.access(program, os.X_OK)
    link = home / ".local" / "bin" / NAME
    assert link.is_symlink() and link.resolve() == program.resolve()
    entry = _desktop_entry(data / "applications" / f"{NAME}.desktop")
    assert entry["Exec"] == f'"{program}" %F'
    assert entry["TryExec"] == str(program)
    for size in ICON_SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png").is_file()
    assert (data / "mime" / "packages" / f"{NAME}.xml").is_file()
    opened = subprocess.run([str(link), "photo.jpg"], capture_output=True, text=True)
    assert opened.stdout == "stand-in photo.jpg\n"

    # Installing again from the installed copy keeps it working (an upgrade in place).
    again = _run_installer(app, home)
    assert again.returncode == 0, again.stderr
    assert os.access(program, os.X_OK)

    removed = _run_installer(app, home, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not app.exists() and not link.exists()
    assert not (data / "applications" / f"{NAME}.desktop").exists()
    assert not list((data / "icons").rglob(f"{NAME}.png"))


def test_install_script_refuses_a_folder_that_is_not_a_bundle(tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    shutil.copy(PACKAGING / "linux" / "install.sh", folder)
    result = _run_installer(folder, tmp_path / "home")
    assert result.returncode == 1
    assert "run me from the unpacked Restoration Editor folder" in result.stderr
    assert not (tmp_path / "home" / ".local" / "share" / NAME).exists()


def test_install_script_is_executable_in_the_repository():
    mode = (PACKAGING / "linux" / "install.sh").stat().st_mode
    assert mode & stat.S_IXUSR
