"""Encode sentences and save them as an index folder, in one call."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.provenance import now_iso
from retrieval_xfer.indexing.factory import IndexParams, build_faiss_index
from retrieval_xfer.indexing.meta import IndexMeta
from retrieval_xfer.indexing.store import save_index
from retrieval_xfer.version import __version__


def build_index_folder(encoder: Encoder, ids: list[str], sentences: list[str], out: Path, params: IndexParams,
                       source: str = "", store_sentences: bool = True, overwrite: bool = False) -> IndexMeta:
    """Encode ``sentences``, build the FAISS index described by ``params`` and write ``out`` atomically."""
    tic = time.perf_counter()
    vectors = encoder.encode(sentences, desc="encoding corpus")
    index, resolved = build_faiss_index(vectors, params)
    meta = IndexMeta(
        encoder=encoder.spec.to_dict(), index=dataclasses.asdict(resolved), count=len(ids),
        build_seconds=time.perf_counter() - tic, created_at=now_iso(), rx_version=__version__, source=source,
        has_sentences=store_sentences,
    )
    save_index(out, index, ids, sentences if store_sentences else None, meta, overwrite=overwrite)
    return meta
