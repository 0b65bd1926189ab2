"""Exact k-nearest neighbours by inner product (cosine on unit vectors) with a FAISS flat index."""

from __future__ import annotations

import faiss
import numpy as np


def knn(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``min(k, len(database))`` largest inner products and their database rows.

    Inputs: float32 arrays (nq, d) and (nd, d). Outputs: similarities (nq, k) descending, indices (nq, k).
    """
    database = np.ascontiguousarray(database, dtype=np.float32)
    index = faiss.IndexFlatIP(database.shape[1])
    index.add(database)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, database.shape[0]))
