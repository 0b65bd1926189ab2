"""Shared by the benchmarks: where the real encoder and data are, and a machine description."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# RX_SHARED: a copy of ../shared (its data/ folder), for a machine where the checkout travels without it.
SHARED = Path(os.environ["RX_SHARED"]) if os.environ.get("RX_SHARED") else REPO.parent / "shared"
FETCH = SHARED / "tools/offline-encoder/fetch-multilingual-e5-small.sh"
# where ../shared/tools/real-bitext builds its pairs (its README): PAIR/pairs.tsv, "source<TAB>English" per line
REAL_BITEXT = Path.home() / ".cache/retrieval_xfer/real-bitext"


def require_real_bitext(bitext: Path) -> None:
    """Exit with one line when the real bitext has not been built under ``bitext``."""
    if not (bitext / "de-en" / "pairs.tsv").is_file():
        raise SystemExit(f"{bitext}: no real bitext; build it with ../shared/tools/real-bitext (see its README)")


def real_bitext_rows(bitext: Path, pair: str) -> list[list[str]]:
    """The ``[source, English]`` rows of one pair of the real bitext, in file order."""
    return [line.split("\t") for line in (bitext / pair / "pairs.tsv").read_text(encoding="utf-8").splitlines()]


def real_encoder() -> str:
    """RX_MODEL, else the offline multilingual-e5-small (materialised on first use)."""
    if os.environ.get("RX_MODEL"):
        return os.environ["RX_MODEL"]
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(FETCH)], capture_output=True, text=True, check=True, env=env).stdout.strip()


def machine() -> str:
    """CPU model, core count and torch version, for the results file."""
    import torch

    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__} ({torch.get_num_threads()} threads)"


def timed_rx(*args: str) -> float:
    """Run ``rx ARGS`` as its own process (this Python); its wall seconds. Exits with rx's last output on failure."""
    import time

    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"rx {args[0]} failed:\n{done.stdout[-1000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - tic
