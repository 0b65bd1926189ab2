"""Memory budgets (``--max-memory 4GB``) and the block size of a blockwise k-NN that fits in one."""

from __future__ import annotations

import math
import re

from retrieval_xfer.errors import RxError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1 << 10,
    "kb": 1 << 10,
    "m": 1 << 20,
    "mb": 1 << 20,
    "g": 1 << 30,
    "gb": 1 << 30,
    "t": 1 << 40,
    "tb": 1 << 40,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
}
MIN_BLOCK_ROWS = 64
MAX_BLOCK_ROWS = 8192  # larger blocks only cost memory: the product and its top-k run no faster
DEFAULT_MAX_MEMORY = "4GB"


def parse_size(text: str) -> int:
    """``"512MB"``, ``"4GB"``, ``"1.5g"``, ``"1048576"`` → bytes (powers of 1024); RxError otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        raise RxError(f"--max-memory {text!r}: expected a size such as 512MB or 4GB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_size(size: float) -> str:
    """Bytes as a short human size (``1.5 GB``)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def results_bytes(n_x: int, n_y: int, k: int) -> int:
    """What a k-NN in both directions keeps per sentence: k similarities (float32) and k ids (int64) each side."""
    return (n_x + n_y) * k * 12


def block_bytes(rows: int, dimension: int, k: int) -> int:
    """One step of the blockwise k-NN with square blocks: a query and a database block (float32), their
    similarity matrix and its copy for the second direction's top-k, and the merged top-k of both."""
    return 8 * rows * dimension + 8 * rows * rows + 4 * rows * k * 12


def plan_block_rows(budget: int, n_x: int, n_y: int, dimension: int, k: int) -> int:
    """The largest block (rows, from ``MIN_BLOCK_ROWS`` to ``MAX_BLOCK_ROWS``) whose step fits in ``budget`` beside
    the per-sentence results; RxError naming the minimum budget when even the smallest block does not fit."""
    room = budget - results_bytes(n_x, n_y, k)
    needed = max(1, min(MIN_BLOCK_ROWS, max(n_x, n_y)))
    if room < block_bytes(needed, dimension, k):
        minimum = results_bytes(n_x, n_y, k) + block_bytes(needed, dimension, k)
        raise RxError(
            f"--max-memory {format_size(budget)} is too small for this job: it needs at least "
            f"{format_size(minimum)} ({format_size(results_bytes(n_x, n_y, k))} of results for "
            f"{n_x} x {n_y} sentences plus one block of {needed} rows)"
        )
    # 8 r^2 + (8 d + 48 k) r <= room
    b = 8 * dimension + 48 * k
    rows = int((-b + math.sqrt(b * b + 32 * room)) / 16)
    return max(needed, min(rows, MAX_BLOCK_ROWS, max(n_x, n_y)))
