"""Tatoeba: for each language, nearest-neighbour accuracy between translations, in both directions."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.data.tatoeba import TatoebaLanguage, read_tatoeba_hub, read_tatoeba_local, resolve_languages
from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder, layer_encoders, per_layer_result
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.alignment import center as center_rows
from retrieval_xfer.evaluation.registry import EvalContext
from retrieval_xfer.evaluation.results import format_table, result_header
from retrieval_xfer.evaluation.retrieval_options import TatoebaOptions
from retrieval_xfer.mining.knn import knn_arrays_both_ways
from retrieval_xfer.mining.neighbours import check_center


def tatoeba_accuracy(source: np.ndarray, english: np.ndarray) -> tuple[float, float]:
    """Accuracy ×100 of 1-NN retrieval between aligned unit vectors (row i of one translates row i of the other).

    Returns ``(en2xx, xx2en)``: en2xx queries with English against the indexed other language (XTREME's
    number); xx2en queries with the other language against indexed English (MTEB's number).
    """
    truth = np.arange(len(source))
    both = knn_arrays_both_ways(english, source, 1)  # one product: rows give en -> xx, columns xx -> en
    return 100.0 * float(np.mean(both.x_ids[:, 0] == truth)), 100.0 * float(np.mean(both.y_ids[:, 0] == truth))


def _averages(scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    averages = {
        **{key: float(np.mean([s[key] for s in scores.values()])) for key in ("en2xx", "xx2en", "mean")},
        "n_languages": len(scores),
    }
    if all("centered" in s for s in scores.values()):
        averages["centered"] = {
            key: float(np.mean([s["centered"][key] for s in scores.values()])) for key in ("en2xx", "xx2en", "mean")
        }
    return averages


def evaluate_tatoeba(
    encoder: Encoder | LayerSweepEncoder,
    languages: list[TatoebaLanguage],
    card: TaskCard,
    data_dir: Path | None = None,
    limit: int | None = None,
    center: str = "none",
) -> dict[str, Any]:
    """Evaluate ``encoder`` on Tatoeba for ``languages``, reading ``data_dir`` (LASER layout) or the hub.

    Returns the result payload: header fields, ``scores`` keyed by the user's language codes (each with
    ``en2xx``, ``xx2en``, ``mean``, ``n``), ``averages`` over the languages, and ``timings`` in seconds.
    A ``LayerSweepEncoder`` adds ``layer_sweep`` (scores and averages of every layer, one forward pass per
    language); the top-level scores are then those of ``main_layer``.
    """
    started = time.perf_counter()
    datasets = [
        read_tatoeba_local(data_dir, lang, card) if data_dir else read_tatoeba_hub(lang, card) for lang in languages
    ]
    if limit is not None:
        datasets = [dataclasses.replace(d, source=d.source[:limit], english=d.english[:limit]) for d in datasets]
    by_layer: dict[int, dict[str, dict[str, Any]]] = {}
    encode_seconds = 0.0
    for pairs in datasets:
        code = pairs.language.code
        for layer, layer_encoder in layer_encoders(encoder):
            tic = time.perf_counter()
            source = layer_encoder.encode(pairs.source, desc=f"tatoeba {code}")
            english = layer_encoder.encode(pairs.english, desc=f"tatoeba {code} (eng)")
            encode_seconds += time.perf_counter() - tic
            en2xx, xx2en = tatoeba_accuracy(source, english)
            by_layer.setdefault(layer, {})[code] = {
                "en2xx": en2xx,
                "xx2en": xx2en,
                "mean": (en2xx + xx2en) / 2,
                "n": len(pairs.source),
                "iso639_3": pairs.language.iso3,
                "source": pairs.origin,
            }
            if center == "language":  # its own block, never mixed into the raw scores
                c_en2xx, c_xx2en = tatoeba_accuracy(center_rows(source), center_rows(english))
                by_layer[layer][code]["centered"] = {
                    "en2xx": c_en2xx,
                    "xx2en": c_xx2en,
                    "mean": (c_en2xx + c_xx2en) / 2,
                }
    scores, spec, sweep = per_layer_result(encoder, by_layer, "en2xx", _averages)
    return {
        **result_header(card.name, spec),
        "metric": "accuracy (x100), 1-NN by cosine",
        "directions": card.directions,
        "xtreme_direction": card.xtreme_direction,
        "data": str(data_dir) if data_dir else "hub",
        "limit": limit,
        "center": center
        if center == "none"
        else "language (transductive: each language's mean over the sentences "
        "being retrieved, as Libovický et al. 2020)",
        "scores": scores,
        "averages": _averages(scores),
        **sweep,
        "timings": {"total_seconds": time.perf_counter() - started, "encode_seconds": encode_seconds},
    }


def run_tatoeba(
    card: TaskCard, encoder: EncoderOptions, options: TatoebaOptions, context: EvalContext = EvalContext()
) -> dict[str, Any]:
    """The one entry point of Tatoeba (the registry's ``run``: ``rx eval tatoeba`` and ``rx experiment``): check
    the languages and the data folder, load the ``encoder`` (a layer sweep with ``options.layers``) and evaluate
    it on ``options.langs`` (``xtreme``, ``demo``, ``all`` or codes) from ``options.data_dir`` (LASER files, else
    the hub), the first ``options.limit`` pairs per language. Returns ``evaluate_tatoeba``'s payload."""
    languages = resolve_languages(options.langs, card)
    data_dir, limit = options.data_dir, options.limit
    if data_dir is not None and not Path(data_dir).is_dir():
        raise RxError(f"{data_dir}: no such Tatoeba folder")
    check_center(options.center)
    corpus = None
    if encoder.needs_corpus():  # int8 calibrates on a sample of the (unlabelled) sentences to be encoded
        datasets = [
            read_tatoeba_local(data_dir, lang, card) if data_dir else read_tatoeba_hub(lang, card) for lang in languages
        ]
        corpus = [s for d in datasets for s in d.source[:limit] + d.english[:limit]]
    return evaluate_tatoeba(encoder.load_for(options.layers, corpus), languages, card, data_dir, limit, options.center)


def tatoeba_table(result: dict[str, Any]) -> str:
    """The per-language table with the average row; the header says which direction is XTREME's and MTEB's.
    Centered scores (``--center language``) get their own columns."""
    centered = "centered" in result["averages"]
    extra = lambda s: [s["centered"]["en2xx"], s["centered"]["xx2en"]] if centered else []  # noqa: E731
    rows = [[code, s["en2xx"], s["xx2en"], s["mean"], *extra(s), s["n"]] for code, s in result["scores"].items()]
    avg = result["averages"]
    rows.append(
        [
            "average",
            avg["en2xx"],
            avg["xx2en"],
            avg["mean"],
            *extra(avg),
            sum(s["n"] for s in result["scores"].values()),
        ]
    )
    return format_table(
        [
            "lang",
            "en->xx (XTREME)",
            "xx->en (MTEB)",
            "mean",
            *(["en->xx centered", "xx->en centered"] if centered else []),
            "n",
        ],
        rows,
    )
