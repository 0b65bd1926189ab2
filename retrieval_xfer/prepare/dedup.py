"""Exact and near-duplicate detection out of core: memory stays flat however many lines there are.

Each candidate line contributes two 64-bit hashes (of its text, and of its ``duplicate_key``) with its number;
they are spilled to bucket files by key hash, and each bucket is de-duplicated on its own. The first occurrence
of a key is kept; a later line is an ``exact duplicate`` when the same text came before, else a
``near duplicate``. What stays in memory is two bits per line (a few MB for 10 M lines) and one bucket."""

from __future__ import annotations

from pathlib import Path

import numpy as np

BUCKETS = 256
_RECORD = np.dtype([("key", "<u8"), ("text", "<u8"), ("line", "<u8")])


class DuplicateFinder:
    """Collects ``(key hash, text hash)`` per candidate line (``add``), then ``find`` marks the duplicates."""

    def __init__(self, folder: Path, chunk: int = 65_536) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self._chunk = chunk
        self._keys: list[int] = []
        self._texts: list[int] = []

    def add(self, key: str, text: str) -> None:
        """Record the next candidate line (numbered from 0 in the order added)."""
        self._keys.append(hash(key) & 0xFFFFFFFFFFFFFFFF)
        self._texts.append(hash(text) & 0xFFFFFFFFFFFFFFFF)
        if len(self._keys) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        if not self._keys:
            return
        records = np.empty(len(self._keys), dtype=_RECORD)
        records["key"] = np.array(self._keys, dtype=np.uint64)
        records["text"] = np.array(self._texts, dtype=np.uint64)
        records["line"] = np.arange(self.count, self.count + len(records), dtype=np.uint64)
        self.count += len(records)
        self._keys.clear()
        self._texts.clear()
        bucket = records["key"] % BUCKETS
        order = np.argsort(bucket, kind="stable")
        records, bucket = records[order], bucket[order]
        starts = np.searchsorted(bucket, np.arange(BUCKETS + 1))
        for b in range(BUCKETS):
            if starts[b] < starts[b + 1]:
                with open(self.folder / f"{b:03d}.bin", "ab") as f:
                    records[starts[b] : starts[b + 1]].tofile(f)

    def find(self) -> tuple[np.ndarray, np.ndarray]:
        """Two packed bit arrays over the lines added (``np.unpackbits`` or ``is_set`` reads them): exact
        duplicates and near duplicates."""
        self._spill()
        exact = np.zeros((self.count + 7) // 8, dtype=np.uint8)
        near = np.zeros_like(exact)
        for path in sorted(self.folder.glob("*.bin")):
            records = np.fromfile(path, dtype=_RECORD)
            path.unlink()
            by_text = records[np.lexsort((records["line"], records["text"]))]  # same text: first one first
            repeated = by_text["line"][1:][by_text["text"][1:] == by_text["text"][:-1]]
            by_key = records[np.lexsort((records["line"], records["key"]))]
            later = by_key["line"][1:][by_key["key"][1:] == by_key["key"][:-1]]
            _set(exact, repeated)
            _set(near, np.setdiff1d(later, repeated, assume_unique=True))
        return exact, near


def _set(bits: np.ndarray, lines: np.ndarray) -> None:
    lines = lines.astype(np.int64)
    np.bitwise_or.at(bits, lines >> 3, (128 >> (lines & 7)).astype(np.uint8))


def is_set(bits: np.ndarray, line: int) -> bool:
    """Whether ``line``'s bit is set in a packed bit array of ``DuplicateFinder.find``."""
    return bool(bits[line >> 3] & (128 >> (line & 7)))
