"""Search an index folder with query sentences (``rx search``): the encoder defaults to the index's own."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.indexing.factory import IndexParams, apply_search_params
from retrieval_xfer.indexing.store import load_index
from retrieval_xfer.specs import EncoderSpec, check_compatible, require_known


@dataclass(frozen=True)
class Hit:
    """One result: ``rank`` (1 = best), inner-product ``score``, the row's ``id`` and its sentence (or None)."""

    rank: int
    score: float
    id: str
    sentence: str | None


def query_options(options: EncoderOptions, built: EncoderSpec, prompt: str | None) -> EncoderOptions:
    """The encoder to query an index with: what the user gave, else the index's own layer, pooling and prompt.

    ``prompt=None`` means "not given" (the index's prompt); ``""`` is an explicit empty prompt."""
    own = built.pooling.startswith("own:")
    layer = options.layer if options.layer is not None else (None if own else built.layer)
    skip = options.pool_skip_special or built.pooling == "mean-no-special"
    if prompt is None:
        prompt = built.prompt if options.prompt_name is None else ""
    return dataclasses.replace(options, layer=layer, pool_skip_special=skip, prompt=prompt).quantized_like(built)


def search_index(
    index_dir: Path,
    queries: Sequence[str],
    options: EncoderOptions,
    k: int = 5,
    prompt: str | None = None,
    nprobe: int | None = None,
    ef_search: int | None = None,
    verify: bool = True,
) -> list[list[Hit]]:
    """The ``k`` nearest sentences of ``index_dir`` for each query, best first. The index is loaded (and checked,
    its files against their SHA-256 with ``verify``) before the model; RxError when the query encoder does not
    match the one that built the index."""
    saved = load_index(index_dir, verify)
    built = saved.meta.spec
    require_known(built, str(index_dir))
    encoder = query_options(options, built, prompt).load()
    check_compatible(built, encoder.spec, str(index_dir))
    params = IndexParams(**saved.meta.index)
    params.nprobe = nprobe or params.nprobe
    params.ef_search = ef_search or params.ef_search
    apply_search_params(saved.index, params)
    scores, rows = saved.search(encoder.encode(list(queries), desc="queries"), k)
    return [
        [
            Hit(r + 1, float(s), saved.ids[i], saved.sentences[i] if saved.sentences else None)
            for r, (s, i) in enumerate(zip(query_scores, query_rows))
            if i >= 0
        ]
        for query_scores, query_rows in zip(scores, rows)
    ]


def hits_record(query: str, hits: list[Hit]) -> dict[str, Any]:
    """One JSON line of ``rx search --json``: the query and its hits."""
    return {"query": query, "hits": [dataclasses.asdict(h) for h in hits]}
