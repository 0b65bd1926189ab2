"""Peak resident memory of this process, per phase of a job (Linux ``/proc``; elsewhere the lifetime peak)."""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def peak_rss_bytes() -> int:
    """The highest resident set size since the last ``reset_peak_rss`` (or since the process started)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak_rss() -> None:
    """Start measuring a new peak (Linux: writing 5 to ``/proc/self/clear_refs``); a no-op elsewhere."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class Phases:
    """Seconds and peak memory of the named phases of a job: ``with phases("k-NN"): ...`` measures one, and
    ``phases.record`` holds ``{name: {"seconds", "peak_rss_bytes"}}`` in the order they ran (a sidecar's
    ``phases``)."""

    def __init__(self) -> None:
        self.record: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        reset_peak_rss()
        tic = time.perf_counter()
        yield
        self.record[name] = {"seconds": round(time.perf_counter() - tic, 3), "peak_rss_bytes": peak_rss_bytes()}

    def peak(self) -> int:
        """The highest peak of any phase."""
        return max((phase["peak_rss_bytes"] for phase in self.record.values()), default=peak_rss_bytes())
