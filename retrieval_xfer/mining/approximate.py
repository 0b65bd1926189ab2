"""Approximate k-NN in both directions with FAISS indexes (IVF, IVF-PQ, HNSW, or any factory string).

Each direction builds an index over one side (trained on a sample of that side, filled block by block) and
searches it with the other side block by block; one index is held at a time. The similarities returned are the index's
(exact for IVF-Flat and HNSW, approximate for PQ codes); the margin's k-NN means come from the same searches.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import faiss
import numpy as np
from tqdm.auto import tqdm

from retrieval_xfer.indexing.factory import IndexParams, fill_index, train_sample_rows, trained_index
from retrieval_xfer.mining.knn import Neighbours
from retrieval_xfer.vectors import VectorSet, sample_rows


def _blocks(vectors: VectorSet, rows: int):
    for start in range(0, len(vectors), rows):
        yield vectors.rows(start, min(start + rows, len(vectors)))


def _search(
    index: faiss.Index, queries: VectorSet, k: int, block_rows: int, desc: str | None
) -> tuple[np.ndarray, np.ndarray]:
    sims = np.empty((len(queries), k), np.float32)
    ids = np.empty((len(queries), k), np.int64)
    with tqdm(total=len(queries), desc=desc, unit="sent", disable=desc is None) as bar:
        for start in range(0, len(queries), block_rows):
            stop = min(start + block_rows, len(queries))
            sims[start:stop], ids[start:stop] = index.search(np.ascontiguousarray(queries.rows(start, stop)), k)
            bar.update(stop - start)
    return sims, ids


def knn_approximate(
    x: VectorSet,
    y: VectorSet,
    k: int,
    params: IndexParams,
    block_rows: int = 8192,
    desc: str | None = None,
    seed: int = 0,
) -> tuple[Neighbours, dict[str, Any]]:
    """k-NN of x among y and of y among x through ``params``'s index type.

    Each direction trains its index on a sample of the side it indexes (never of the other side: two languages
    sit in different regions of the space, and cells learnt from one language would leave the other's queries
    probing cells of their own language, empty of the side searched), fills it block by block and searches it
    with the other side; one index is held at a time. Returns the neighbours and, per direction, what ran (index,
    parameters, training sample, times). A neighbour an index could not fill is id -1 with similarity -inf; it
    never becomes a candidate.
    """
    info: dict[str, Any] = {"kind": params.kind}
    results = []
    for name, queries, database in (("x_to_y", x, y), ("y_to_x", y, x)):
        tic = time.perf_counter()
        resolved = params.resolved(len(database), database.dimension)
        sample = sample_rows(database, train_sample_rows(len(database), resolved), seed)
        empty, resolved = trained_index(params, len(database), database.dimension, sample if len(sample) else None)
        trained = time.perf_counter() - tic
        index = fill_index(empty, _blocks(database, block_rows))
        added = time.perf_counter() - tic - trained
        sims, ids = _search(index, queries, min(k, len(database)), block_rows, desc and f"{desc} {name}")
        sims[ids < 0] = -np.inf
        results.append((sims, ids))
        info[name] = {
            "index": resolved.factory_string(),
            "params": asdict(resolved),
            "train_rows": int(len(sample)),
            "train_seconds": round(trained, 3),
            "add_seconds": round(added, 3),
            "search_seconds": round(time.perf_counter() - tic - trained - added, 3),
            "missing_neighbours": int((ids < 0).sum()),
        }
        del index, empty
    (x_sims, x_ids), (y_sims, y_ids) = results
    return Neighbours(x_sims, x_ids, y_sims, y_ids), info
