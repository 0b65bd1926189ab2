"""Sets of unit vectors that mining reads block by block: in memory, one ``.npy`` file, or many shards. Every
block is checked to be finite on read (a NaN row is an error naming the file and the row, never a silent NaN).

A ``VectorSet`` has ``len()``, ``dimension`` and ``rows(start, stop)``, which returns float32 unit rows. Files are
memory-mapped, so a block is read when it is asked for and a corpus never has to fit in RAM. A zero row is refused
like a NaN one: it has no direction, and its cosine with everything would be 0 / 0. float16 files are
widened to float32 and every row is L2-normalised on read (export shards are unit vectors rounded to float16;
a foreign dump may not be normalised at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval_xfer.errors import RxError

SAMPLE_CHUNK = 1024  # rows read together when sampling
MIN_SAMPLE_CHUNKS = 64  # a sample draws from at least this many chunks (smaller ones on a small corpus)


class VectorSet(Protocol):
    """What mining needs of a corpus's vectors."""

    dimension: int

    def __len__(self) -> int: ...

    def rows(self, start: int, stop: int) -> np.ndarray: ...


MIN_NORM = 1e-12  # a row shorter than this is a zero vector
CENTERED_MIN_NORM = 1e-5  # a unit row this close to its side's mean is the mean, at float32/float16 precision


def check_rows(block: np.ndarray, where: str, first_row: int = 0) -> None:
    """RxError naming ``where`` and the first row (counted from 0) holding a NaN or an infinity, or that is a zero
    vector: one such row makes margins NaN, and a NaN compares false with any threshold."""
    finite = np.isfinite(block).all(axis=1)
    if not finite.all():
        row = first_row + int(np.argmin(finite))
        raise RxError(f"{where}: row {row} holds NaN or infinite values; vectors must be finite")
    nonzero = _norms(block) >= MIN_NORM
    if not nonzero.all():
        row = first_row + int(np.argmin(nonzero))
        raise RxError(f"{where}: row {row} is a zero vector (it has no direction, so no cosine); drop that row")


def _norms(block: np.ndarray) -> np.ndarray:
    """Each row's Euclidean norm, summed in float64 without a float64 copy of the block (einsum casts as it goes:
    a tenth of the time of ``np.linalg.norm`` on a float64 copy)."""
    return np.sqrt(np.einsum("ij,ij->i", block, block, dtype=np.float64))


def _unit_float32(block: np.ndarray) -> np.ndarray:
    block = np.asarray(block, dtype=np.float32)
    norms = _norms(block)[:, None]
    return (block / np.maximum(norms, MIN_NORM)).astype(np.float32)


class ArrayVectors:
    """An in-memory (n, d) array; rows are normalised once, here."""

    def __init__(self, vectors: np.ndarray, where: str = "vectors") -> None:
        if vectors.ndim != 2:
            raise ValueError("expected an (n, d) array")
        check_rows(vectors, where)
        self.vectors = _unit_float32(vectors)
        self.dimension = int(vectors.shape[1])

    def __len__(self) -> int:
        return len(self.vectors)

    def rows(self, start: int, stop: int) -> np.ndarray:
        return self.vectors[start:stop]


class NpyVectors:
    """One ``.npy`` file (float32 or float16, shape (n, d)), memory-mapped; RxError naming the file when it is
    not a readable 2-D float matrix (a truncated file included)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.matrix = np.load(self.path, mmap_mode="r")
        except FileNotFoundError:
            raise RxError(f"{self.path}: no such file") from None
        except (OSError, ValueError, EOFError) as err:
            raise RxError(f"{self.path}: corrupt or truncated .npy file ({err})") from None
        if self.matrix.ndim != 2 or self.matrix.dtype not in (np.float32, np.float16):
            raise RxError(
                f"{self.path}: expected a 2-D float32 or float16 matrix, found {self.matrix.dtype} "
                f"with shape {self.matrix.shape}"
            )
        self.dimension = int(self.matrix.shape[1])

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def rows(self, start: int, stop: int) -> np.ndarray:
        block = self.matrix[start:stop]
        check_rows(block, str(self.path), start)
        return _unit_float32(block)

    def __getstate__(self) -> dict:
        return {"path": self.path}  # a copy sent to another process reopens the file instead of carrying it

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])


class ShardedVectors:
    """Several vector sets read as one, in order (the shards of an export)."""

    def __init__(self, parts: Sequence[VectorSet]) -> None:
        if not parts:
            raise ValueError("at least one shard is needed")
        dims = {p.dimension for p in parts}
        if len(dims) != 1:
            raise RxError(f"shards of different dimensions: {sorted(dims)}")
        self.parts = list(parts)
        self.dimension = dims.pop()
        self.starts = np.cumsum([0] + [len(p) for p in parts])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def rows(self, start: int, stop: int) -> np.ndarray:
        pieces = []
        for i, part in enumerate(self.parts):
            lo, hi = max(start, self.starts[i]), min(stop, self.starts[i + 1])
            if lo < hi:
                pieces.append(part.rows(int(lo - self.starts[i]), int(hi - self.starts[i])))
        return np.concatenate(pieces) if pieces else np.zeros((0, self.dimension), np.float32)


class CenteredVectors:
    """Another vector set with ``mean`` subtracted from every row and the rows re-normalised (mining with each
    language's mean removed). A row equal to the mean (a side whose lines are all the same) has no direction left:
    it becomes the zero vector, whose cosine with every row is 0 (and its margins 0), never a NaN."""

    def __init__(self, vectors: VectorSet, mean: np.ndarray) -> None:
        self.vectors, self.mean, self.dimension = vectors, np.asarray(mean, dtype=np.float32), vectors.dimension

    def __len__(self) -> int:
        return len(self.vectors)

    def rows(self, start: int, stop: int) -> np.ndarray:
        return center_rows(self.vectors.rows(start, stop), self.mean)


def center_rows(block: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The rows of ``block`` minus ``mean``, re-normalised (float32); a row equal to the mean has no direction
    left and becomes the zero vector (its cosine with every row is 0). The one centering of rx: mining
    (``CenteredVectors``) and the evaluations' centered scores (``evaluation.alignment.center``) both use it."""
    centered = np.asarray(block, dtype=np.float32) - np.asarray(mean, dtype=np.float32)
    centered[np.linalg.norm(centered, axis=1) < CENTERED_MIN_NORM] = 0.0
    return _unit_float32(centered)


def mean_vector(vectors: VectorSet, block_rows: int = 65536) -> np.ndarray:
    """The mean of all rows, read block by block."""
    total = np.zeros(vectors.dimension, dtype=np.float64)
    for start in range(0, len(vectors), block_rows):
        total += vectors.rows(start, min(start + block_rows, len(vectors))).sum(axis=0, dtype=np.float64)
    return (total / max(len(vectors), 1)).astype(np.float32)


def sample_rows(vectors: VectorSet, count: int, seed: int = 0) -> np.ndarray:
    """``min(count, len(vectors))`` distinct rows of ``vectors``: whole chunks of rows on a fixed grid (up to
    ``SAMPLE_CHUNK`` rows, cheap to read from memory-mapped shards; at least ``MIN_SAMPLE_CHUNKS`` chunks over the
    corpus, so a small one is sampled finely too; chunks never overlap, so no row is drawn twice), taken in a random
    order until there are enough, then kept in corpus order."""
    n = len(vectors)
    if count <= 0:
        return np.zeros((0, vectors.dimension), np.float32)
    if count >= n:
        return vectors.rows(0, n)
    size = max(1, min(SAMPLE_CHUNK, n // MIN_SAMPLE_CHUNKS))  # small corpora: many small chunks, still random
    starts, total = [], 0
    for chunk in np.random.default_rng(seed).permutation(-(-n // size)):
        start = int(chunk) * size
        starts.append(start)
        total += min(start + size, n) - start
        if total >= count:
            break
    return np.concatenate([vectors.rows(s, min(s + size, n)) for s in sorted(starts)])[:count]
