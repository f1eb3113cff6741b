"""The frozen application's entry point (PyInstaller needs a script, not a module)."""

import sys

try:
    from editor.app import main
except ImportError as exc:
    # A bundle missing a library: one line naming it, not a traceback (the self-test and
    # tests/packaging catch this before a release).
    print(f"Restoration Editor cannot start, the installation is broken: {exc}", file=sys.stderr)
    sys.exit(1)

if __name__ == "__main__":
    sys.exit(main())
