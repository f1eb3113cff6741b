"""Starting the editor: `python -m editor [IMAGE]`."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from editor.main_window import APP_NAME, MainWindow

USAGE = """usage: python -m editor [IMAGE]

Open the photo-restoration editor, with IMAGE loaded if one is given.
Qt's own options (for example -platform offscreen) are accepted too."""


def create_window(image: Path | str | None = None) -> MainWindow:
    """Show a main window; `image` is opened once the event loop runs, so that an error
    message about it appears over the window rather than before it."""
    window = MainWindow()
    window.show()
    if image is not None:
        QTimer.singleShot(0, window, lambda: window.open_path(Path(image)))
    return window


def _parse(args: list[str]) -> tuple[Path | None, str | None]:
    """(image, error) from the arguments Qt left alone."""
    options = [arg for arg in args if arg.startswith("-") and arg != "-"]
    if options:
        return None, f"unknown option: {options[0]}"
    if len(args) > 1:
        return None, "give at most one image"
    return (Path(args[0]) if args else None), None


def main(argv: list[str] | None = None) -> int:
    """Run the editor until its window is closed; returns the process exit status."""
    argv = list(sys.argv if argv is None else argv)
    if any(arg in ("-h", "--help") for arg in argv[1:]):
        print(USAGE)
        return 0
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    # A new QApplication strips the options it understands; an existing one (tests) has
    # its own arguments, so ours are taken as given.
    args = app.arguments()[1:] if existing is None else argv[1:]
    image, error = _parse(args)
    if error is not None:
        print(f"{error}\n\n{USAGE}", file=sys.stderr)
        return 2
    app.setApplicationName(APP_NAME)
    window = create_window(image)
    status = app.exec()
    del window
    return status
