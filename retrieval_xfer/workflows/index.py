"""``rx build-index``: an index folder from a text corpus (encoded here), an ``rx export`` folder or a ``.npy``
matrix (added block by block, so a large index never needs the whole corpus in memory)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, read_corpus
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.reader import is_export, open_export
from retrieval_xfer.indexing.factory import (
    IndexParams,
    build_faiss_index_from_blocks,
    check_trainable,
    train_sample_rows,
)
from retrieval_xfer.indexing.meta import IndexMeta
from retrieval_xfer.indexing.store import check_replaceable, save_index
from retrieval_xfer.output_lock import hold_output_lock
from retrieval_xfer.outputs import check_not_an_input
from retrieval_xfer.provenance import now_iso
from retrieval_xfer.specs import UNKNOWN_WEIGHTS, EncoderSpec
from retrieval_xfer.vectors import ArrayVectors, NpyVectors, VectorSet, sample_rows
from retrieval_xfer.version import __version__

_ADD_ROWS = 65536


def _blocks(vectors: VectorSet) -> Iterator:
    for start in range(0, len(vectors), _ADD_ROWS):
        yield vectors.rows(start, min(start + _ADD_ROWS, len(vectors)))


def _unknown_spec(path: Path, dimension: int) -> EncoderSpec:
    """What an index of a bare ``.npy`` matrix records: no encoder is known, so no query encoder will match."""
    return EncoderSpec(
        model=f"npy:{path}",
        weights_sha256=f"{UNKNOWN_WEIGHTS} (vectors from a .npy file)",
        layer=-1,
        num_layers=-1,
        pooling="unknown",
        prompt="",
        max_length=0,
        dimension=dimension,
    )


def build_index_folder(
    options: EncoderOptions | None,
    input_path: Path,
    out: Path,
    params: IndexParams,
    fmt: CorpusFormat = "lines",
    blank: BlankPolicy = "error",
    store_sentences: bool = True,
    overwrite: bool = False,
    verify: bool = True,
) -> IndexMeta:
    """Build ``out`` from ``input_path`` (text, export folder or ``.npy``) with the index ``params`` describes and
    write it atomically, holding ``out``'s lock (``verify``: an export's shards are checked against their recorded
    SHA-256). Everything that can be checked without the model (the output folder, the corpus, whether the index
    type can be trained on that many sentences) is checked before the model loads."""
    out, input_path = Path(out), Path(input_path)
    check_not_an_input([out], [input_path])
    check_replaceable(out, overwrite)  # before any encoding
    with hold_output_lock(out):
        return _build_locked(options, input_path, out, params, fmt, blank, store_sentences, overwrite, verify)


def _build_locked(
    options: EncoderOptions | None,
    input_path: Path,
    out: Path,
    params: IndexParams,
    fmt: CorpusFormat,
    blank: BlankPolicy,
    store_sentences: bool,
    overwrite: bool,
    verify: bool,
) -> IndexMeta:
    tic = time.perf_counter()
    sentences: list[str] | None
    if is_export(input_path):
        corpus = open_export(input_path, verify)
        vectors, ids, spec = corpus.vectors, corpus.ids, corpus.spec
        source = corpus.input_file()
        sentences = (
            read_corpus(source, corpus.manifest.get("format", "lines"), corpus.manifest.get("blank", "error"))[1]
            if source is not None
            else None
        )
    elif input_path.suffix == ".npy":
        vectors = NpyVectors(input_path)
        ids, sentences, spec = [str(i) for i in range(len(vectors))], None, _unknown_spec(input_path, vectors.dimension)
    else:
        if options is None:
            raise RxError(f"{input_path}: a text corpus needs --model to encode it")
        ids, sentences = read_corpus(input_path, fmt, blank)
        check_trainable(params.resolved(len(ids), None), len(ids), None)
        encoder = options.load(corpus=sentences)
        vectors = ArrayVectors(encoder.encode(sentences, desc="encoding corpus"), f"{input_path} (encoder output)")
        spec = encoder.spec
    resolved = params.resolved(len(vectors), vectors.dimension)
    check_trainable(resolved, len(vectors), vectors.dimension)
    sample = sample_rows(vectors, train_sample_rows(len(vectors), resolved))
    index, resolved = build_faiss_index_from_blocks(
        _blocks(vectors), len(vectors), vectors.dimension, params, sample if len(sample) else None
    )
    meta = IndexMeta(
        encoder=spec.to_dict(),
        index=dataclasses.asdict(resolved),
        count=len(ids),
        build_seconds=time.perf_counter() - tic,
        created_at=now_iso(),
        rx_version=__version__,
        source=str(input_path),
        has_sentences=store_sentences and sentences is not None,
    )
    save_index(out, index, ids, sentences if meta.has_sentences else None, meta, overwrite=overwrite)
    return meta
