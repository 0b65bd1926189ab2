"""Build a trained, filled FAISS inner-product index from unit-length vectors: one of four named types, ``auto``
(chosen from the corpus size), or any ``faiss.index_factory`` string."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import faiss
import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.options import IndexOptions

INDEX_TYPES = ("flat", "ivf", "hnsw", "ivfpq")
INDEX_CHOICES = (*INDEX_TYPES, "auto")
_MAX_TRAIN = 256 * 1024  # training sample cap (rows); k-means gains little beyond this
TRAIN_PER_CELL = 40  # k-means sample per IVF cell (faiss warns below 39)

# `--index-type auto`: exact up to AUTO_FLAT_MAX sentences; above, IVF with the power of two nearest 8·√n cells
# (the middle of faiss's 4·√n to 16·√n guideline: fewer cells than stopes' table, whose 16,384 at 1M suit a GPU,
# because on a CPU k-means costs ~cells² while the scan is memory-bound; fewer than 8·√n lost recall on clustered data:
# recall@4 0.87 with 1,024 cells at 100k against 0.996 with 2,048; bench/RESULTS.md 2026-12-05), uncompressed up to
# AUTO_IVF_FLAT_MAX sentences, where the vectors still fit in a few GB, and stopes' (facebookresearch/stopes)
# OPQ64 + PQ64 compression beyond.
AUTO_FLAT_MAX = 50_000
AUTO_IVF_FLAT_MAX = 2_000_000


def auto_cells(count: int) -> int:
    """IVF cells ``--index-type auto`` uses for ``count`` vectors: the power of two nearest 8·√count, at most
    count / 39 (faiss's minimum of training points per cell)."""
    nearest = 2 ** round(math.log2(8 * math.sqrt(max(count, 1))))
    return max(1, min(nearest, 2 ** int(math.log2(max(count // 39, 1)))))


def auto_index(count: int, dimension: int | None) -> IndexParams:
    """The index ``--index-type auto`` builds for ``count`` vectors (see the rule above)."""
    if count <= AUTO_FLAT_MAX:
        return IndexParams(kind="flat")
    cells = auto_cells(count)
    if count <= AUTO_IVF_FLAT_MAX:
        return IndexParams(kind="ivf", nlist=cells)
    if dimension is not None and dimension % 64:
        return IndexParams(
            kind="factory", factory=f"IVF{cells},PQ{dimension // 8 if dimension % 8 == 0 else dimension}", nlist=cells
        )
    return IndexParams(kind="factory", factory=f"OPQ64,IVF{cells},PQ64", nlist=cells)


@dataclass
class IndexParams:
    """Index type and its knobs. ``None`` means "choose from the corpus size" (see ``resolved``).

    flat: exact inner product. ivf: ``nlist`` cells, ``nprobe`` visited at search. hnsw: ``hnsw_m`` links per
    node, ``ef_search`` at search. ivfpq: ivf plus product quantisation with ``pq_m`` sub-vectors of ``pq_bits``.
    auto: chosen from the corpus size by ``auto_index``. factory: ``factory``, any ``faiss.index_factory`` string
    (``nprobe``/``ef_search`` apply when it has an IVF or HNSW part).
    """

    kind: str = "flat"
    factory: str | None = None
    nlist: int | None = None
    nprobe: int = 16
    hnsw_m: int = 32
    ef_search: int = 128
    pq_m: int | None = None
    pq_bits: int = 8

    @classmethod
    def from_options(cls, options: IndexOptions) -> IndexParams:
        """From the options as the user gives them (a factory string wins over the type)."""
        return cls(
            kind="factory" if options.index_factory else options.index_type,
            factory=options.index_factory,
            nlist=options.nlist,
            nprobe=options.nprobe,
            hnsw_m=options.hnsw_m,
            ef_search=options.ef_search,
            pq_m=options.pq_m,
            pq_bits=options.pq_bits,
        )

    def resolved(self, count: int, dimension: int | None) -> IndexParams:
        """Fill the automatic values: nlist ≈ 4·√n (at most n/39, faiss's points-per-cell floor), pq_m = d/8
        (left unset when ``dimension`` is None); ``auto`` becomes the type ``auto_index`` picks (keeping this
        object's search knobs)."""
        if self.kind == "auto":
            chosen = auto_index(count, dimension)
            chosen.nprobe, chosen.ef_search = self.nprobe, self.ef_search
            return chosen.resolved(count, dimension)
        if self.kind == "factory":
            if not self.factory:
                raise RxError("--index-factory needs a faiss.index_factory string, e.g. 'OPQ64,IVF4096,PQ64'")
            return IndexParams(**asdict(self))
        if self.kind not in INDEX_TYPES:
            raise RxError(f"--index-type {self.kind!r}: choose one of {', '.join(INDEX_CHOICES)}")
        params = IndexParams(**asdict(self))
        if params.nlist is None:
            params.nlist = max(1, min(4 * int(math.sqrt(count)), count // 39))
        if params.pq_m is None and dimension is not None:
            params.pq_m = next(
                m
                for m in (dimension // 8, dimension // 4, dimension // 2, dimension, 1)
                if m >= 1 and dimension % m == 0
            )
        params.nprobe = min(params.nprobe, params.nlist)
        return params

    def describe(self) -> str:
        """The index and only the knobs that apply to its type, e.g. ``ivf IVF16,Flat (nlist 16, nprobe 16)``."""
        knobs = {
            "flat": (),
            "ivf": ("nlist", "nprobe"),
            "ivfpq": ("nlist", "nprobe", "pq_m", "pq_bits"),
            "hnsw": ("hnsw_m", "ef_search"),
            "factory": ("nprobe", "ef_search"),
        }.get(self.kind, ())
        values = ", ".join(f"{name} {getattr(self, name)}" for name in knobs if getattr(self, name) is not None)
        return f"{self.kind} {self.factory_string()}" + (f" ({values})" if values else "")

    def factory_string(self) -> str:
        """The ``faiss.index_factory`` description of this (resolved) index."""
        if self.kind == "factory":
            return str(self.factory)
        return {
            "flat": "Flat",
            "ivf": f"IVF{self.nlist},Flat",
            "hnsw": f"HNSW{self.hnsw_m},Flat",
            "ivfpq": f"IVF{self.nlist},PQ{self.pq_m}x{self.pq_bits}",
        }[self.kind]


def apply_search_params(index: faiss.Index, params: IndexParams) -> None:
    """Set the search-time knob of ``index`` (nprobe for IVF types, efSearch for HNSW), also inside a factory
    string's index (a pre-transform such as OPQ wraps it)."""
    try:
        ivf = faiss.extract_index_ivf(index)
    except RuntimeError:
        ivf = None
    if ivf is not None:
        ivf.nprobe = min(params.nprobe, ivf.nlist)
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexPreTransform) else index
    if hasattr(inner, "hnsw"):
        inner.hnsw.efSearch = params.ef_search


def check_trainable(params: IndexParams, count: int, dimension: int | None) -> None:
    """RxError, before any work, when ``count`` vectors of ``dimension`` cannot train an index of ``params``
    (resolved); the message names the minimum. With ``dimension`` None (not known before the model loads), only
    the count is checked."""
    if params.kind in ("ivf", "ivfpq", "factory") and params.nlist and count < params.nlist:
        raise RxError(
            f"{params.factory_string()} index needs at least {params.nlist} sentences, got {count} "
            f"(give --nlist {max(1, count // 39)} or fewer, or use --index-type flat)"
        )
    if params.kind == "factory" and dimension is not None:
        new_index(params, dimension)  # a description faiss cannot parse fails here, before the k-NN
    if params.kind == "ivfpq":
        if dimension is not None and params.pq_m and dimension % params.pq_m:
            raise RxError(f"--pq-m {params.pq_m} must divide the embedding dimension {dimension}")
        if count < 2**params.pq_bits:
            raise RxError(
                f"ivfpq with {params.pq_bits}-bit codes needs at least {2**params.pq_bits} sentences, "
                f"got {count}; use --index-type flat or ivf"
            )


def build_faiss_index(vectors: np.ndarray, params: IndexParams, seed: int = 0) -> tuple[faiss.Index, IndexParams]:
    """Train (if the type needs it) and fill an inner-product index with ``vectors`` (float32, unit rows).

    Returns the index and the resolved parameters. Training uses at most 262,144 rows, sampled with ``seed``.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dimension = vectors.shape
    if count == 0:
        raise RxError("cannot build an index from zero sentences")
    sample = vectors
    if count > _MAX_TRAIN:
        sample = vectors[np.random.default_rng(seed).choice(count, _MAX_TRAIN, replace=False)]
    index, params = trained_index(params, count, dimension, sample)
    index.add(vectors)
    return index, params


def train_sample_rows(count: int, params: IndexParams) -> int:
    """How many vectors to train ``params`` (resolved) on: ``TRAIN_PER_CELL`` per IVF cell, at most 262,144."""
    if params.kind == "flat" or (params.kind == "hnsw"):
        return 0
    cells = params.nlist or 1
    return min(
        count, _MAX_TRAIN, max(TRAIN_PER_CELL * cells, 2**params.pq_bits if params.kind == "ivfpq" else 0, 10_000)
    )


def new_index(params: IndexParams, dimension: int) -> faiss.Index:
    """An empty inner-product index of ``params`` (resolved); RxError in one line when faiss cannot build that
    description for ``dimension`` (a typo in ``--index-factory``, a PQ that does not divide the dimension)."""
    try:
        return faiss.index_factory(dimension, params.factory_string(), faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as err:
        reason = str(err).rsplit("Error: ", 1)[-1].strip().splitlines()[0]
        raise RxError(
            f"index {params.factory_string()!r} (dimension {dimension}): faiss cannot build it ({reason})"
        ) from None


def trained_index(
    params: IndexParams, count: int, dimension: int, train_sample: np.ndarray | None
) -> tuple[faiss.Index, IndexParams]:
    """An empty index of ``params`` (resolved for ``count`` vectors), trained on ``train_sample`` when its type
    needs training; ``faiss.clone_index`` copies it for another database without training again."""
    params = params.resolved(count, dimension)
    check_trainable(params, count, dimension)
    index = new_index(params, dimension)
    if not index.is_trained:
        if train_sample is None or len(train_sample) == 0:
            raise RxError(f"a {params.factory_string()} index needs training vectors")
        _training_settings(index)
        index.train(np.ascontiguousarray(train_sample, dtype=np.float32))
    apply_search_params(index, params)
    return index, params


def _training_settings(index: faiss.Index) -> None:
    """Our training samples are sized on purpose (``train_sample_rows``): lower faiss's points-per-cell floor so
    it does not print its 'please provide at least 39*K points' warning past --quiet. And no polysemous training
    of PQ codes (faiss's default for IVF-PQ: tens of seconds per index, for a Hamming pre-filter rx never uses)."""
    try:
        ivf = faiss.downcast_index(faiss.extract_index_ivf(index))
    except RuntimeError:
        return
    ivf.cp.min_points_per_centroid = 1
    if isinstance(ivf, faiss.IndexIVFPQ):
        ivf.do_polysemous_training = False


def fill_index(index: faiss.Index, blocks: Iterable[np.ndarray]) -> faiss.Index:
    """Add ``blocks`` (float32 unit rows) to a trained ``index``, one block at a time; returns it."""
    for block in blocks:
        index.add(np.ascontiguousarray(block, dtype=np.float32))
    return index


def build_faiss_index_from_blocks(
    blocks: Iterable[np.ndarray], count: int, dimension: int, params: IndexParams, train_sample: np.ndarray | None
) -> tuple[faiss.Index, IndexParams]:
    """An index of ``params`` trained on ``train_sample`` (when the type needs training) and filled block by block
    from ``blocks`` (float32 unit rows, ``count`` in all), so the corpus never has to be in memory at once."""
    index, params = trained_index(params, count, dimension, train_sample)
    return fill_index(index, blocks), params
