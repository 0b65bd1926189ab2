"""Build a trained, filled FAISS inner-product index of one of four types from unit-length vectors."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import faiss
import numpy as np

from retrieval_xfer.errors import RxError

INDEX_TYPES = ("flat", "ivf", "hnsw", "ivfpq")
_MAX_TRAIN = 256 * 1024  # training sample cap (rows); k-means gains little beyond this


@dataclass
class IndexParams:
    """Index type and its knobs. ``None`` means "choose from the corpus size" (see ``resolved``).

    flat: exact inner product. ivf: ``nlist`` cells, ``nprobe`` visited at search. hnsw: ``hnsw_m`` links per
    node, ``ef_search`` at search. ivfpq: ivf plus product quantisation with ``pq_m`` sub-vectors of ``pq_bits``.
    """

    kind: str = "flat"
    nlist: int | None = None
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    pq_m: int | None = None
    pq_bits: int = 8

    def resolved(self, count: int, dimension: int) -> IndexParams:
        """Fill the automatic values: nlist ≈ 4·√n (at most n/39, faiss's points-per-cell floor), pq_m = d/8."""
        if self.kind not in INDEX_TYPES:
            raise RxError(f"--index-type {self.kind!r}: choose one of {', '.join(INDEX_TYPES)}")
        params = IndexParams(**asdict(self))
        if params.nlist is None:
            params.nlist = max(1, min(4 * int(math.sqrt(count)), count // 39))
        if params.pq_m is None:
            params.pq_m = next(m for m in (dimension // 8, dimension // 4, dimension // 2, dimension, 1)
                               if m >= 1 and dimension % m == 0)
        params.nprobe = min(params.nprobe, params.nlist)
        return params

    def factory_string(self) -> str:
        """The ``faiss.index_factory`` description of this (resolved) index."""
        return {
            "flat": "Flat",
            "ivf": f"IVF{self.nlist},Flat",
            "hnsw": f"HNSW{self.hnsw_m},Flat",
            "ivfpq": f"IVF{self.nlist},PQ{self.pq_m}x{self.pq_bits}",
        }[self.kind]


def apply_search_params(index: faiss.Index, params: IndexParams) -> None:
    """Set the search-time knob of ``index`` (nprobe for IVF types, efSearch for HNSW)."""
    if params.kind in ("ivf", "ivfpq"):
        faiss.extract_index_ivf(index).nprobe = params.nprobe
    elif params.kind == "hnsw":
        index.hnsw.efSearch = params.ef_search


def _check_trainable(params: IndexParams, count: int, dimension: int) -> None:
    if params.kind in ("ivf", "ivfpq") and count < params.nlist:
        raise RxError(f"{params.kind} index with nlist={params.nlist} needs at least {params.nlist} sentences, got {count}")
    if params.kind == "ivfpq":
        if dimension % params.pq_m:
            raise RxError(f"--pq-m {params.pq_m} must divide the embedding dimension {dimension}")
        if count < 2 ** params.pq_bits:
            raise RxError(f"ivfpq with {params.pq_bits}-bit codes needs at least {2 ** params.pq_bits} sentences, "
                          f"got {count}; use --index-type flat or ivf")


def build_faiss_index(vectors: np.ndarray, params: IndexParams, seed: int = 0) -> tuple[faiss.Index, IndexParams]:
    """Train (if the type needs it) and fill an inner-product index with ``vectors`` (float32, unit rows).

    Returns the index and the resolved parameters. Training uses at most 262,144 rows, sampled with ``seed``.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dimension = vectors.shape
    if count == 0:
        raise RxError("cannot build an index from zero sentences")
    params = params.resolved(count, dimension)
    _check_trainable(params, count, dimension)
    index = faiss.index_factory(dimension, params.factory_string(), faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        sample = vectors
        if count > _MAX_TRAIN:
            sample = vectors[np.random.default_rng(seed).choice(count, _MAX_TRAIN, replace=False)]
        index.train(sample)
    index.add(vectors)
    apply_search_params(index, params)
    return index, params
