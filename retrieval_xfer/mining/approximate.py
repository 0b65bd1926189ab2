"""Approximate k-NN in both directions with FAISS indexes (IVF, IVF-PQ, HNSW, or any factory string).

The index type is trained once on a sample of both sides; each direction fills a copy of it with one side (block
by block) and searches it with the other side block by block; one filled index is held at a time. The similarities returned are the index's
(exact for IVF-Flat and HNSW, approximate for PQ codes); the margin's k-NN means come from the same searches.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import faiss
import numpy as np
from tqdm.auto import tqdm

from retrieval_xfer.indexing.factory import IndexParams, apply_search_params, fill_index, train_sample_rows, trained_index
from retrieval_xfer.mining.knn import Neighbours
from retrieval_xfer.vectors import VectorSet, sample_rows

def _blocks(vectors: VectorSet, rows: int):
    for start in range(0, len(vectors), rows):
        yield vectors.rows(start, min(start + rows, len(vectors)))


def _search(index: faiss.Index, queries: VectorSet, k: int, block_rows: int,
            desc: str | None) -> tuple[np.ndarray, np.ndarray]:
    sims = np.empty((len(queries), k), np.float32)
    ids = np.empty((len(queries), k), np.int64)
    with tqdm(total=len(queries), desc=desc, unit="sent", disable=desc is None) as bar:
        for start in range(0, len(queries), block_rows):
            stop = min(start + block_rows, len(queries))
            sims[start:stop], ids[start:stop] = index.search(np.ascontiguousarray(queries.rows(start, stop)), k)
            bar.update(stop - start)
    return sims, ids


def knn_approximate(x: VectorSet, y: VectorSet, k: int, params: IndexParams, block_rows: int = 8192,
                    desc: str | None = None, seed: int = 0) -> tuple[Neighbours, dict[str, Any]]:
    """k-NN of x among y and of y among x through ``params``'s index type.

    One index type serves both directions, sized by the smaller side and trained once on a sample drawn from
    both sides (they share one embedding space), so the costly training (k-means, OPQ, PQ) is not done twice;
    each side is then added to its own copy of the trained index, one copy held at a time. Returns the
    neighbours and what ran (index, parameters, training sample, times). A neighbour a sparse index could not
    fill is id -1 with similarity -inf; it never becomes a candidate.
    """
    tic = time.perf_counter()
    resolved = params.resolved(min(len(x), len(y)), x.dimension)
    rows = train_sample_rows(min(len(x), len(y)), resolved)
    sample = np.concatenate([sample_rows(x, rows // 2, seed), sample_rows(y, rows - rows // 2, seed + 1)])
    empty, resolved = trained_index(params, min(len(x), len(y)), x.dimension, sample if len(sample) else None)
    info: dict[str, Any] = {"kind": resolved.kind, "index": resolved.factory_string(), "params": asdict(resolved),
                            "train_rows": int(len(sample)), "train_seconds": round(time.perf_counter() - tic, 3)}
    results = []
    for name, queries, database in (("x_to_y", x, y), ("y_to_x", y, x)):
        tic = time.perf_counter()
        index = fill_index(faiss.clone_index(empty), _blocks(database, block_rows))
        apply_search_params(index, resolved)
        added = time.perf_counter() - tic
        sims, ids = _search(index, queries, min(k, len(database)), block_rows, desc and f"{desc} {name}")
        sims[ids < 0] = -np.inf
        results.append((sims, ids))
        info[name] = {"add_seconds": round(added, 3), "search_seconds": round(time.perf_counter() - tic - added, 3)}
        del index
    (x_sims, x_ids), (y_sims, y_ids) = results
    return Neighbours(x_sims, x_ids, y_sims, y_ids), info
