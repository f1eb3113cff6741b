"""Starting the editor: `python -m editor [FILES...]` (or the `restoration-editor` command).

The window is shown before anything heavy happens; then, once the event loop runs, the
engine is loaded in the background, recovery copies left by a crash are offered, and the
files are opened: the first in this window, each other one in a window of its own (one
photo per window).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from editor.main_window import MainWindow
from editor.resources import APP_NAME, app_version, icon_paths
from editor.settings import APPLICATION, ORGANIZATION
from engine import api

USAGE = """usage: python -m editor [FILES...]
       python -m editor --self-test | --version

Open the photo-restoration editor with each FILE (a photo, or an .ora document saved by the
editor); one window per file. Qt's own options (for example -platform offscreen) are
accepted too.

  --self-test  check the installation without opening a window: every shipped model is
               loaded (checksum included) and run on a bundled photo; prints one line and
               exits 0, or 1 naming what is wrong
  --version    print the version and exit"""


def start(window: MainWindow, files: list[Path]) -> None:
    """What happens once the window shows: load the engine, offer recovery, open files."""
    window.start_engine_loading()
    restored = window.recovery.offer()
    # A restored document is not replaced by the files given: they get windows of their own.
    window.open_paths(files, here=not restored)


def create_window(files: list[Path] | None = None) -> MainWindow:
    window = MainWindow()
    window.show()
    # Deferred: dialogs (recovery, a file that cannot be read) appear over a shown window.
    QTimer.singleShot(0, window, lambda: start(window, list(files or [])))
    return window


def _parse(args: list[str]) -> tuple[list[Path], str | None]:
    """(files, error) from the arguments Qt left alone."""
    options = [arg for arg in args if arg.startswith("-") and arg != "-"]
    if options:
        return [], f"unknown option: {options[0]}"
    return [Path(arg) for arg in args], None


def self_test() -> int:
    """`--self-test`: the engine's installation check, reported on one line; no window."""
    report = api.self_test()
    print(report.line(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def _app_icon() -> QIcon:
    icon = QIcon()
    for path in icon_paths():
        icon.addFile(str(path))
    return icon


def main(argv: list[str] | None = None) -> int:
    """Run the editor until its windows are closed; returns the process exit status."""
    argv = list(sys.argv if argv is None else argv)
    # Answered before any QApplication exists: they need no display (CI, a headless check).
    if any(arg in ("-h", "--help") for arg in argv[1:]):
        print(USAGE)
        return 0
    if "--version" in argv[1:]:
        print(f"{APP_NAME} {app_version()}")
        return 0
    if "--self-test" in argv[1:]:
        return self_test()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    # A new QApplication strips the options it understands; an existing one (tests) has
    # its own arguments, so ours are taken as given.
    args = app.arguments()[1:] if existing is None else argv[1:]
    files, error = _parse(args)
    if error is not None:
        print(f"{error}\n\n{USAGE}", file=sys.stderr)
        return 2
    # Before any QSettings or QStandardPaths use: they are named after these.
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(app_version())
    app.setWindowIcon(_app_icon())
    # Matches the installed .desktop file's name, so Wayland/X11 docks show its icon.
    app.setDesktopFileName("restoration-editor")
    window = create_window(files)
    status = app.exec()
    del window
    return status
