"""The options that choose and tune a FAISS index (rx build-index, rx mine, rx eval bucc, experiment files): one
dataclass, from which the click options and the experiment keys are made. No faiss is imported here."""

from __future__ import annotations

from dataclasses import dataclass, field

INDEX_TYPES = ("flat", "ivf", "ivfpq", "hnsw", "auto")


@dataclass(frozen=True)
class IndexOptions:
    """An index as the user names it; ``indexing.factory.IndexParams.from_options`` makes the parameters."""

    index_type: str = field(
        default="flat",
        metadata={
            "help": "flat = exact; ivf/ivfpq = clustered (faster, approximate); hnsw = graph; auto = by corpus size "
            "(README: choosing an index).",
            "choices": INDEX_TYPES,
        },
    )
    index_factory: str | None = field(
        default=None,
        metadata={
            "help": "Any faiss.index_factory string (e.g. 'OPQ64,IVF4096,PQ64'); overrides --index-type.",
            "metavar": "STRING",
        },
    )
    nlist: int | None = field(default=None, metadata={"help": "ivf/ivfpq cells. Default: ~4*sqrt(n).", "min": 1})
    nprobe: int = field(default=16, metadata={"help": "ivf/ivfpq cells searched.", "min": 1})
    hnsw_m: int = field(default=32, metadata={"help": "hnsw links per node.", "min": 2})
    ef_search: int = field(default=128, metadata={"help": "hnsw search breadth.", "min": 1})
    pq_m: int | None = field(default=None, metadata={"help": "ivfpq sub-vectors. Default: dimension/8.", "min": 1})
    pq_bits: int = field(default=8, metadata={"min": 1, "max": 16})
