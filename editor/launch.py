"""The editor's command (`python -m editor`, `restoration-editor`): checks the system
libraries Qt needs before anything imports Qt, then starts the application."""

from __future__ import annotations

import sys

from editor.system_libs import install_line, missing_packages


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    missing = missing_packages(argv)
    if missing:
        print(install_line(missing), file=sys.stderr)  # one line, not Qt's abort
        return 2
    from editor.app import main as run_app  # imports Qt: only now that it can load

    return run_app(argv)
