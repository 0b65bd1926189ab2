"""Exact k-nearest neighbours by inner product (cosine on unit vectors) with a FAISS flat index."""

from __future__ import annotations

import faiss
import numpy as np
from tqdm.auto import tqdm

_QUERY_CHUNK = 8192


def knn(queries: np.ndarray, database: np.ndarray, k: int, desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``min(k, len(database))`` largest inner products and their database rows.

    Inputs: float32 arrays (nq, d) and (nd, d). Outputs: similarities (nq, k) descending, indices (nq, k).
    Queries are searched in chunks; ``desc`` shows a progress bar with that label.
    """
    database = np.ascontiguousarray(database, dtype=np.float32)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    index = faiss.IndexFlatIP(database.shape[1])
    index.add(database)
    k = min(k, database.shape[0])
    sims = np.empty((len(queries), k), dtype=np.float32)
    rows = np.empty((len(queries), k), dtype=np.int64)
    with tqdm(total=len(queries), desc=desc, unit="sent", disable=desc is None) as bar:
        for start in range(0, len(queries), _QUERY_CHUNK):
            stop = start + _QUERY_CHUNK
            sims[start:stop], rows[start:stop] = index.search(queries[start:stop], k)
            bar.update(len(queries[start:stop]))
    return sims, rows
