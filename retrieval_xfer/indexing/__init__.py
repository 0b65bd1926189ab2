"""FAISS indexes over sentence vectors, saved as folders with the ids, the sentences and ``meta.json``."""

from retrieval_xfer.indexing.factory import INDEX_TYPES, IndexParams, build_faiss_index
from retrieval_xfer.indexing.meta import IndexMeta, check_compatible
from retrieval_xfer.indexing.store import SavedIndex, load_index, save_index

__all__ = [
    "INDEX_TYPES", "IndexMeta", "IndexParams", "SavedIndex", "build_faiss_index", "check_compatible",
    "load_index", "save_index",
]
