"""How much memory the machine has free (no torch: the editor asks before loading a file)."""

from __future__ import annotations

import os


def available_memory() -> int | None:
    """Bytes available to a new allocation as the OS reports it; None where it cannot tell
    (macOS and Windows have neither /proc/meminfo nor SC_AVPHYS_PAGES)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
