"""What this machine is, for choices and caches that depend on it: the CPU's model and flags (Linux
``/proc/cpuinfo``), the cores this process may use, and a fingerprint of the three (a cache of measured speeds
is valid only on a machine with the same fingerprint)."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo_field(names: tuple[str, ...], cpuinfo: Path) -> str | None:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(names):
            return line.partition(":")[2].strip()
    return None


@functools.lru_cache(maxsize=1)
def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The flags of this machine's first CPU (empty where ``/proc/cpuinfo`` cannot be read)."""
    return frozenset((_cpuinfo_field(("flags", "Features"), cpuinfo) or "").split())  # x86: flags, ARM: Features


@functools.lru_cache(maxsize=1)
def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's model name (``platform.processor()`` where ``/proc/cpuinfo`` cannot be read)."""
    return _cpuinfo_field(("model name",), cpuinfo) or platform.processor() or "unknown CPU"


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def machine_fingerprint() -> dict[str, str | int]:
    """The CPU model, a hash of its flags and the usable cores: what a speed measured here depends on."""
    flags = " ".join(sorted(cpu_flags()))
    return {
        "cpu": cpu_model(),
        "flags_sha256": hashlib.sha256(flags.encode()).hexdigest()[:16],
        "cores": usable_cores(),
    }
