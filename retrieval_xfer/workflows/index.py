"""Encode a corpus and save it as an index folder (``rx build-index``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, read_corpus
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.factory import IndexParams, build_faiss_index
from retrieval_xfer.indexing.meta import IndexMeta
from retrieval_xfer.indexing.store import save_index
from retrieval_xfer.provenance import now_iso
from retrieval_xfer.version import __version__


def build_index_folder(options: EncoderOptions, input_path: Path, out: Path, params: IndexParams,
                       fmt: CorpusFormat = "lines", blank: BlankPolicy = "error", store_sentences: bool = True,
                       overwrite: bool = False, echo: Callable[[str], None] | None = None) -> IndexMeta:
    """Read ``input_path``, encode it with ``options``, build the FAISS index ``params`` describes and write
    ``out`` atomically. Everything that can be checked without the model (the output folder, the corpus) is
    checked before the model loads. Returns the index's metadata."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise RxError(f"{out}: already exists (pass --overwrite to replace it)")
    ids, sentences = read_corpus(input_path, fmt, blank)
    encoder = options.load(echo)
    tic = time.perf_counter()
    vectors = encoder.encode(sentences, desc="encoding corpus")
    index, resolved = build_faiss_index(vectors, params)
    meta = IndexMeta(
        encoder=encoder.spec.to_dict(), index=dataclasses.asdict(resolved), count=len(ids),
        build_seconds=time.perf_counter() - tic, created_at=now_iso(), rx_version=__version__, source=str(input_path),
        has_sentences=store_sentences,
    )
    save_index(out, index, ids, sentences if store_sentences else None, meta, overwrite=overwrite)
    return meta
