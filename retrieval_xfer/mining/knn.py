"""Exact k-nearest neighbours by inner product (cosine on unit vectors), block by block with torch.

Blocks of queries are multiplied with blocks of the database (``torch.matmul``: the machine's BLAS, or a GPU)
and each query's top-k is merged across database blocks, the pattern of faiss's
``contrib.exhaustive_search.knn_ground_truth``. ``knn_both_ways`` takes both directions from the same products:
each similarity block gives the row-wise top-k (x → y) and the column-wise top-k (y → x), so mining needs one
pass over x × y instead of two. Memory is one block step plus the per-sentence results, whatever the corpus size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from retrieval_xfer.mining.checkpoint import KnnCheckpoint
from retrieval_xfer.vectors import ArrayVectors, VectorSet

_DEFAULT_BLOCK_ROWS = 4096


@dataclass
class Neighbours:
    """The k nearest neighbours in both directions, best first: ``x_sims``/``x_ids`` (n_x, k) are the rows of y
    nearest each row of x; ``y_sims``/``y_ids`` (n_y, k) the rows of x nearest each row of y."""

    x_sims: np.ndarray
    x_ids: np.ndarray
    y_sims: np.ndarray
    y_ids: np.ndarray


def default_device() -> str:
    """``cuda`` when a GPU is there, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def _merge(
    best_s: torch.Tensor, best_i: torch.Tensor, new_s: torch.Tensor, new_i: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The top ``k`` of the running best and a new candidate list, row by row (the earlier one wins a tie)."""
    s = torch.cat([best_s, new_s], dim=1)
    i = torch.cat([best_i, new_i], dim=1)
    top_s, pos = torch.topk(s, k, dim=1, sorted=True)
    return top_s, torch.gather(i, 1, pos)


def _empty(n: int, k: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.full((n, k), float("-inf"), dtype=torch.float32, device=device),
        torch.full((n, k), -1, dtype=torch.int64, device=device),
    )


def block_neighbours(
    x: VectorSet, y: VectorSet, xs: int, xe: int, k: int, block_rows: int, device: str
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """One unit of work: rows ``xs:xe`` of x against all of y, block by block. Returns the top-k of those x rows
    among y, and for every row of y its top-k among those x rows (x row numbers are global); both best first."""
    k_x, k_y = min(k, len(y)), min(k, xe - xs, len(x))
    xq = torch.from_numpy(np.ascontiguousarray(x.rows(xs, xe))).to(device)
    x_best = _empty(xe - xs, k_x, device)
    y_s = torch.empty((len(y), k_y), dtype=torch.float32)
    y_i = torch.empty((len(y), k_y), dtype=torch.int64)
    for ys in range(0, len(y), block_rows):
        ye = min(ys + block_rows, len(y))
        sims = xq @ torch.from_numpy(np.ascontiguousarray(y.rows(ys, ye))).to(device).T
        top_s, top_i = torch.topk(sims, min(k_x, ye - ys), dim=1, sorted=True)
        x_best = _merge(*x_best, top_s, top_i + ys, k_x)
        col_s, col_i = torch.topk(sims, k_y, dim=0, sorted=True)
        y_s[ys:ye], y_i[ys:ye] = col_s.T.cpu(), col_i.T.cpu() + xs
        del sims
    return (x_best[0].cpu().numpy(), x_best[1].cpu().numpy()), (y_s.numpy(), y_i.numpy())


BlockRunner = Callable[
    [list[tuple[int, int]]], Iterator[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]
]


def knn_both_ways(
    x: VectorSet,
    y: VectorSet,
    k: int,
    block_rows: int | None = None,
    checkpoint: KnnCheckpoint | None = None,
    device: str | None = None,
    desc: str | None = None,
    runner: BlockRunner | None = None,
) -> Neighbours:
    """Exact k-NN of every row of ``x`` among ``y`` and of every row of ``y`` among ``x``.

    ``block_rows`` bounds the rows of x and y multiplied at once (memory: see ``budget.block_bytes``).
    With ``checkpoint``, the results are saved after each block of x and an interrupted call resumes after the
    last saved block, with results identical to an uninterrupted call. ``desc`` shows a progress bar.
    ``runner`` computes ``block_neighbours`` for a list of x blocks and yields the results in order (default:
    here, one after the other; ``mining.ray_blocks`` runs them as Ray tasks). k is capped at the other side's size.
    """
    device = device or default_device()
    rows = block_rows or _DEFAULT_BLOCK_ROWS
    k_y = min(k, len(x))
    x_blocks = [(s, min(s + rows, len(x))) for s in range(0, len(x), rows)]
    x_parts: list[tuple[np.ndarray, np.ndarray]] = []
    y_best = _empty(len(y), k_y, "cpu")
    if checkpoint is not None:
        x_parts, saved_y = checkpoint.load(len(y), k_y)
        if saved_y is not None:
            y_best = (torch.from_numpy(saved_y[0]), torch.from_numpy(saved_y[1]))
    todo = x_blocks[len(x_parts) :]
    run = runner or (lambda blocks: (block_neighbours(x, y, xs, xe, k, rows, device) for xs, xe in blocks))
    done = sum(len(part[0]) for part in x_parts)
    with tqdm(total=len(x), initial=done, desc=desc, unit="sent", disable=desc is None) as bar:
        for (xs, xe), (x_part, (y_s, y_i)) in zip(todo, run(todo)):
            y_best = _merge(*y_best, torch.tensor(y_s), torch.tensor(y_i), k_y)
            x_parts.append(x_part)
            if checkpoint is not None:
                checkpoint.save(len(x_parts) - 1, x_part, (y_best[0].numpy(), y_best[1].numpy()))
            bar.update(xe - xs)
    k_x = min(k, len(y))
    x_sims = np.concatenate([p[0] for p in x_parts]) if x_parts else np.zeros((0, k_x), np.float32)
    x_ids = np.concatenate([p[1] for p in x_parts]) if x_parts else np.zeros((0, k_x), np.int64)
    return Neighbours(x_sims, x_ids, y_best[0].numpy(), y_best[1].numpy())


def knn(queries: np.ndarray, database: np.ndarray, k: int, desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``min(k, len(database))`` largest inner products and their database rows.

    Inputs: float32 arrays (nq, d) and (nd, d) (unit rows for cosine). Outputs: similarities (nq, k) descending,
    indices (nq, k). ``desc`` shows a progress bar with that label.
    """
    neighbours = knn_arrays_both_ways(queries, database, k, desc=desc)
    return neighbours.x_sims, neighbours.x_ids


def knn_arrays_both_ways(x: np.ndarray, y: np.ndarray, k: int, desc: str | None = None) -> Neighbours:
    """``knn_both_ways`` of two in-memory arrays taken as they are (inner products, not re-normalised): both
    directions from one product."""
    return knn_both_ways(_Raw(x), _Raw(y), k, desc=desc)


class _Raw(ArrayVectors):
    """An in-memory array taken as it is (``knn`` promises inner products, not cosines)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dimension = int(self.vectors.shape[1])
