"""Run a module as ``python -m`` would and write *this process's own* peak memory to a file.

    python -m benchmarks.own_peak PEAK_FILE MODULE [ARG ...]

Why not ``ru_maxrss`` from ``os.wait4``: on Linux it carries the peak of the process the
child was forked from across ``exec``, so a 11 MB child of a 600 MB benchmark reported
617 MB (tests/editor/test_ora_bombs.py found it). ``VmHWM`` in ``/proc/self/status`` is
the peak of the current process image only. The module's exit status is passed on; the
peak (MB) is written even when the module fails.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path


def own_peak_mb() -> float:
    """This process image's peak resident memory in MB (VmHWM), NaN where unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return float("nan")


def _status(code: object) -> int:
    if code is None or isinstance(code, int):
        return code or 0
    print(code, file=sys.stderr)  # SystemExit("message"), as the interpreter would
    return 1


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: python -m benchmarks.own_peak PEAK_FILE MODULE [ARG ...]", file=sys.stderr)
        return 2
    peak_file, module, *rest = sys.argv[1:]
    sys.argv = [module, *rest]
    code: object = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_.code
    finally:
        Path(peak_file).write_text(f"{own_peak_mb():.1f}\n", encoding="ascii")
    return _status(code)


if __name__ == "__main__":
    sys.exit(main())
