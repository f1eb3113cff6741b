"""How much memory the machine has free, and whether a piece of work fits in it (no torch:
the editor asks before loading a file, the reader before decoding one).

`available_memory` is the least of what the system has free (MemAvailable), what this
process's address-space limit (``ulimit -v``) still allows and what its control group's
memory limit leaves. `check_fits` refuses work that would need more, with one line that
gives the numbers: `NotEnoughMemory`, an `OutOfMemory`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from engine.errors import NotEnoughMemory

UNKNOWN_FREE_MEMORY = 16 << 30  # the budget where the system does not say what is free
_CGROUP_V2 = "/sys/fs/cgroup"
_CGROUP_V1 = "/sys/fs/cgroup/memory"


def _read_number(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _system_free() -> int | None:
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


def _address_space_left() -> int | None:
    """What `ulimit -v` (RLIMIT_AS) still allows this process to map; None without one."""
    try:
        import resource  # POSIX only
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    used = _status_kib("VmSize:")
    return None if used is None else max(0, soft - used)


def _file_cache(stat_path: str, key: str) -> int:
    """Page cache the control group holds (reclaimed before an allocation fails)."""
    try:
        with open(stat_path, encoding="ascii") as fh:
            for line in fh:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _cgroup_left() -> int | None:
    """What this process's control group's memory limit leaves; None without one."""
    for folder, limit_name, usage_name, cache_key in (
        (_CGROUP_V2, "memory.max", "memory.current", "file"),
        (_CGROUP_V1, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_cache"),
    ):
        limit = _read_number(f"{folder}/{limit_name}")
        usage = _read_number(f"{folder}/{usage_name}")
        if limit is None or usage is None or limit >= 1 << 60:  # v1 says "no limit" so
            continue
        cache = _file_cache(f"{folder}/memory.stat", cache_key)
        return max(0, limit - max(0, usage - cache))
    return None


def available_memory() -> int | None:
    """Bytes available to a new allocation: the least of what the OS reports free, what
    the address-space limit and the control group's limit leave; None where none of them
    can tell (macOS and Windows have neither /proc/meminfo nor SC_AVPHYS_PAGES)."""
    found = [x for x in (_system_free(), _address_space_left(), _cgroup_left()) if x is not None]
    return min(found) if found else None


def amount(size: float) -> str:
    """Bytes for a person: "2.1 GB", "16.8 MB", "1.0 KB", "16 bytes"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} bytes"


def check_fits(
    what: str, parts: Sequence[tuple[str, int]], advice: str, setting: str | None = None
) -> None:
    """Refuse (NotEnoughMemory) when the `parts` (name, bytes) of `what` need more memory
    than `available_memory()` says is free; `advice` says what needs less, `setting` names
    the option that does (see `NotEnoughMemory`)."""
    needed = sum(size for _name, size in parts)
    free = available_memory()
    budget = UNKNOWN_FREE_MEMORY if free is None else free
    if needed <= budget:
        return
    listed = ", ".join(f"{name} {amount(size)}" for name, size in parts if size)
    where = "free" if free is not None else "assumed free (the system does not say)"
    raise NotEnoughMemory(
        f"{what} needs about {amount(needed)} of memory ({listed}), more than the "
        f"{amount(budget)} {where}; {advice}",
        needed=needed,
        available=budget,
        setting=setting,
    )
