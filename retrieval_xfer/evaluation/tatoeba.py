"""Tatoeba: for each language, nearest-neighbour accuracy between translations, in both directions."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.data.tatoeba import TatoebaLanguage, read_tatoeba_hub, read_tatoeba_local, resolve_languages
from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder, layer_encoders, main_layer, per_layer_result
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.alignment import center as center_rows
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import BootstrapOptions, attach_outcomes, interval_text
from retrieval_xfer.evaluation.outcomes import OUTCOMES_KEY
from retrieval_xfer.evaluation.registry import EvalContext
from retrieval_xfer.evaluation.results import format_table, result_header
from retrieval_xfer.evaluation.retrieval_options import TatoebaOptions
from retrieval_xfer.mining.knn import knn_arrays_both_ways
from retrieval_xfer.mining.neighbours import check_center


def tatoeba_retrieval(source: np.ndarray, english: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 1-NN (by cosine) of each sentence among the other side's, between aligned unit vectors (row i of one
    translates row i of the other): ``(en2xx, xx2en)`` retrieved row ids, en2xx for the English queries."""
    both = knn_arrays_both_ways(english, source, 1)  # one product: rows give en -> xx, columns xx -> en
    return both.x_ids[:, 0], both.y_ids[:, 0]


def tatoeba_accuracy(source: np.ndarray, english: np.ndarray) -> tuple[float, float]:
    """Accuracy ×100 of 1-NN retrieval between aligned unit vectors: ``(en2xx, xx2en)``. en2xx queries with English
    against the indexed other language (XTREME's number); xx2en queries with the other language against indexed
    English (MTEB's direction; MTEB's headline score is ``mteb_f1`` of it)."""
    en2xx, xx2en = tatoeba_retrieval(source, english)
    return _accuracy(en2xx), _accuracy(xx2en)


def _accuracy(retrieved: np.ndarray) -> float:
    """x100 the share of queries whose retrieved id is their own row."""
    return 100.0 * float(np.mean(retrieved == np.arange(len(retrieved))))


def mteb_f1(retrieved: np.ndarray) -> float:
    """MTEB's Tatoeba score ×100 (its BitextMining evaluator: scikit-learn's support-weighted F1 of the retrieved
    ids against the gold ids 0..n-1). Each gold id is one class of support 1, so the weighted F1 is the mean over
    queries of 2·hit / (times that id was retrieved + 1): below the accuracy whenever some sentence is retrieved
    for several queries."""
    n = len(retrieved)
    if n == 0:
        return 0.0
    retrieved_times = np.bincount(retrieved, minlength=n)
    hits = retrieved == np.arange(n)
    return 100.0 * float(np.mean(np.where(hits, 2.0 / (retrieved_times[np.arange(n)] + 1), 0.0)))


def _sentences_sha256(source: list[str], english: list[str]) -> str:
    digest = hashlib.sha256()
    for text in (*source, "\0", *english):
        digest.update(text.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _averages(scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    averages = {
        **{key: float(np.mean([s[key] for s in scores.values()])) for key in ("en2xx", "xx2en", "mean", "mteb_f1")},
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
    bootstrap: BootstrapOptions = BootstrapOptions(),
) -> dict[str, Any]:
    """Evaluate ``encoder`` on Tatoeba for ``languages``, reading ``data_dir`` (LASER layout) or the hub.

    Returns the result payload: header fields, ``scores`` keyed by the user's language codes (each with
    ``en2xx``, ``xx2en``, ``mean``, ``mteb_f1``, ``n``, the sentences' ``sha256``, and a ``ci95`` per direction
    unless ``bootstrap.bootstrap`` is 0), ``averages`` over the languages, and ``timings`` in seconds; the
    per-query outcomes (correct or not, and the retrieved ids) go to the outcomes file. A ``LayerSweepEncoder``
    adds ``layer_sweep`` (scores and averages of every layer, one forward pass per language); the top-level scores
    and the outcomes are then those of ``main_layer``.
    """
    started = time.perf_counter()
    datasets = [
        read_tatoeba_local(data_dir, lang, card) if data_dir else read_tatoeba_hub(lang, card) for lang in languages
    ]
    if limit is not None:
        datasets = [dataclasses.replace(d, source=d.source[:limit], english=d.english[:limit]) for d in datasets]
    by_layer: dict[int, dict[str, dict[str, Any]]] = {}
    retrieved: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    encode_seconds = 0.0
    for pairs in datasets:
        code = pairs.language.code
        for layer, layer_encoder in layer_encoders(encoder):
            tic = time.perf_counter()
            source = layer_encoder.encode(pairs.source, desc=f"tatoeba {code}")
            english = layer_encoder.encode(pairs.english, desc=f"tatoeba {code} (eng)")
            encode_seconds += time.perf_counter() - tic
            en2xx_ids, xx2en_ids = tatoeba_retrieval(source, english)
            retrieved.setdefault(layer, {})[code] = (en2xx_ids, xx2en_ids)
            en2xx, xx2en = _accuracy(en2xx_ids), _accuracy(xx2en_ids)
            by_layer.setdefault(layer, {})[code] = {
                "en2xx": en2xx,
                "xx2en": xx2en,
                "mean": (en2xx + xx2en) / 2,
                "mteb_f1": mteb_f1(xx2en_ids),
                "n": len(pairs.source),
                "iso639_3": pairs.language.iso3,
                "source": pairs.origin,
                "sha256": _sentences_sha256(pairs.source, pairs.english),
            }
            if center == "language":  # its own block, never mixed into the raw scores
                c_en2xx, c_xx2en = tatoeba_accuracy(center_rows(source), center_rows(english))
                by_layer[layer][code]["centered"] = {
                    "en2xx": c_en2xx,
                    "xx2en": c_xx2en,
                    "mean": (c_en2xx + c_xx2en) / 2,
                }
    scores, spec, sweep = per_layer_result(encoder, by_layer, "en2xx", _averages)
    payload = {
        **result_header(card.name, spec),
        "metric": "accuracy (x100), 1-NN by cosine; mteb_f1: MTEB's weighted F1 of the xx->en retrieval",
        "protocol": "the XTREME paper's (Hu et al. 2020): mean-pooled vectors of one layer, 1-NN by cosine; en2xx is "
        "XTREME's number, mteb_f1 MTEB's headline score (weighted F1 of xx2en)",
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
    main = retrieved[main_layer(encoder)]
    units = {
        direction: {
            code: Units("accuracy", (ids[side] == np.arange(len(ids[side])))[:, None].astype(np.int8))
            for code, ids in main.items()
        }
        for side, direction in enumerate(("en2xx", "xx2en"))
    }
    extra = {
        f"ids/{direction}/{code}": ids[side].astype(np.int32)
        for code, ids in main.items()
        for side, direction in enumerate(("en2xx", "xx2en"))
    }
    attach_outcomes(payload, units, bootstrap, extra)
    payload["timings"]["total_seconds"] = time.perf_counter() - started
    return payload


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
    return evaluate_tatoeba(
        encoder.load_for(options.layers, corpus), languages, card, data_dir, limit, options.center, options.confidence
    )


def tatoeba_table(result: dict[str, Any]) -> str:
    """The per-language table with the average row: each direction's accuracy with its 95 % interval ("—" for a
    result without outcomes), and MTEB's weighted F1 beside the accuracy of its direction. The header says which
    direction is XTREME's and MTEB's. Centered scores (``--center language``) get their own columns."""
    centered = "centered" in result["averages"]
    extra = lambda s: [s["centered"]["en2xx"], s["centered"]["xx2en"]] if centered else []  # noqa: E731

    def row(name: str, s: dict[str, Any], n: int) -> list[Any]:
        return [
            name,
            s["en2xx"],
            interval_text(s, "en2xx"),
            s["xx2en"],
            interval_text(s, "xx2en"),
            s.get("mteb_f1"),
            s["mean"],
            *extra(s),
            n,
        ]

    rows = [row(code, s, s["n"]) for code, s in result["scores"].items()]
    rows.append(row("average", result["averages"], sum(s["n"] for s in result["scores"].values())))
    table = format_table(
        [
            "lang",
            "en->xx (XTREME)",
            "95% CI",
            "xx->en acc.",
            "95% CI",
            "xx->en F1 (MTEB)",
            "mean",
            *(["en->xx centered", "xx->en centered"] if centered else []),
            "n",
        ],
        rows,
    )
    if "outcomes" not in result and OUTCOMES_KEY not in result:
        table += "\n(no per-query outcomes in this result file: intervals shown as —)"
    return table
