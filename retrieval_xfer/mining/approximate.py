"""Approximate k-NN in both directions with FAISS indexes (IVF, IVF-PQ, HNSW, or any factory string).

Each direction builds an index over one side (trained on a sample of it, filled block by block) and searches it
with the other side block by block; one index is held at a time. The similarities returned are the index's
(exact for IVF-Flat and HNSW, approximate for PQ codes); the margin's k-NN means come from the same searches.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import faiss
import numpy as np
from tqdm.auto import tqdm

from retrieval_xfer.indexing.factory import IndexParams, build_faiss_index_from_blocks, train_sample_rows
from retrieval_xfer.mining.knn import Neighbours
from retrieval_xfer.vectors import VectorSet, sample_rows

def _blocks(vectors: VectorSet, rows: int):
    for start in range(0, len(vectors), rows):
        yield vectors.rows(start, min(start + rows, len(vectors)))


def _one_direction(queries: VectorSet, database: VectorSet, k: int, params: IndexParams, block_rows: int,
                   desc: str | None, seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    tic = time.perf_counter()
    resolved = params.resolved(len(database), database.dimension)
    sample = sample_rows(database, train_sample_rows(len(database), resolved), seed)
    index, resolved = build_faiss_index_from_blocks(_blocks(database, block_rows), len(database),
                                                    database.dimension, params, sample if len(sample) else None)
    built = time.perf_counter() - tic
    k = min(k, len(database))
    sims = np.empty((len(queries), k), np.float32)
    ids = np.empty((len(queries), k), np.int64)
    with tqdm(total=len(queries), desc=desc, unit="sent", disable=desc is None) as bar:
        for start in range(0, len(queries), block_rows):
            stop = min(start + block_rows, len(queries))
            sims[start:stop], ids[start:stop] = index.search(np.ascontiguousarray(queries.rows(start, stop)), k)
            bar.update(stop - start)
    info = {"index": resolved.factory_string(), "params": asdict(resolved), "train_rows": int(len(sample)),
            "build_seconds": built, "search_seconds": time.perf_counter() - tic - built}
    del index
    return sims, ids, info


def knn_approximate(x: VectorSet, y: VectorSet, k: int, params: IndexParams, block_rows: int = 8192,
                    desc: str | None = None, seed: int = 0) -> tuple[Neighbours, dict[str, Any]]:
    """k-NN of x among y and of y among x through ``params``'s index type. Returns the neighbours and, per
    direction, which index ran with which parameters, its training sample size and its times. A neighbour a
    sparse index could not fill is id -1 with similarity -inf; it never becomes a candidate."""
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    x_sims, x_ids, forward = _one_direction(x, y, k, params, block_rows, desc and f"{desc} x->y", seed)
    y_sims, y_ids, backward = _one_direction(y, x, k, params, block_rows, desc and f"{desc} y->x", seed)
    for sims, ids in ((x_sims, x_ids), (y_sims, y_ids)):
        sims[ids < 0] = -np.inf
    return Neighbours(x_sims, x_ids, y_sims, y_ids), {"x_to_y": forward, "y_to_x": backward}
