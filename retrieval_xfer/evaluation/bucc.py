"""BUCC 2018: mine parallel sentences between comparable corpora and score F1 against gold id pairs.

The XTREME/LASER protocol: unify duplicate sentences, mine with a margin over k neighbours in both directions,
map mined sentences back to ids (a sentence that occurs under several ids is ambiguous and dropped, as in
XTREME), tune the score threshold on the gold of the sample split, and apply it to the other split.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.atomic import atomic_write_text
from retrieval_xfer.data.bucc import BuccSplit, find_local_split, read_hub_split, resolve_pairs
from retrieval_xfer.data.cards import TaskCard, load_card
from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder, layer_encoders, main_layer, per_layer_result
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import UNITS_KEY, BootstrapOptions, attach_outcomes, interval_text
from retrieval_xfer.evaluation.outcomes import UNIT_KEYS
from retrieval_xfer.evaluation.registry import EvalContext
from retrieval_xfer.evaluation.results import format_table, result_header
from retrieval_xfer.evaluation.retrieval_options import BuccOptions
from retrieval_xfer.mining.candidates import candidates_from_neighbours
from retrieval_xfer.mining.neighbours import check_approximate, check_center, find_neighbours
from retrieval_xfer.mining.options import MiningOptions
from retrieval_xfer.mining.sentences import unique_texts
from retrieval_xfer.mining.threshold import PRF, best_threshold, precision_recall_f1
from retrieval_xfer.vectors import ArrayVectors

Pair = tuple[str, str]


def _text_to_id(ids: list[str], sentences: list[str]) -> dict[str, str]:
    """Map each sentence to its id; sentences that occur under more than one id are left out (ambiguous)."""
    mapping: dict[str, str] = {}
    repeated: set[str] = set()
    for sid, text in zip(ids, sentences):
        key = text.strip()
        if key in mapping:
            repeated.add(key)
        else:
            mapping[key] = sid
    for key in repeated:
        del mapping[key]
    return mapping


@dataclass(frozen=True)
class EncodedSplit:
    """A split's unique sentences per side and their vectors: encoded once, mined as often as there are
    centering variants to score."""

    split: BuccSplit
    src_texts: list[str]
    trg_texts: list[str]
    x: np.ndarray
    y: np.ndarray
    src_id: dict[str, str]  # each unambiguous sentence's id (``_text_to_id``)
    trg_id: dict[str, str]


def encode_split(encoder: Encoder, split: BuccSplit, mining: MiningOptions) -> EncodedSplit:
    """The unique sentences of ``split`` and their vectors (an approximate index is checked trainable first)."""
    src_texts, trg_texts = unique_texts(split.src_sentences), unique_texts(split.trg_sentences)
    check_approximate(mining, (len(src_texts), len(trg_texts)), encoder.spec.dimension)
    x = encoder.encode(src_texts, desc=f"encoding source ({len(src_texts)} unique)")
    y = encoder.encode(trg_texts, desc=f"encoding target ({len(trg_texts)} unique)")
    src_id = _text_to_id(split.src_ids, split.src_sentences)
    trg_id = _text_to_id(split.trg_ids, split.trg_sentences)
    return EncodedSplit(split, src_texts, trg_texts, x, y, src_id, trg_id)


def score_split(encoded: EncodedSplit, mining: MiningOptions, show_progress: bool = False) -> dict[Pair, float]:
    """Mine an encoded split with ``mining`` (resolved) and return ``{(src_id, trg_id): margin score}`` for every
    candidate pair."""
    split = encoded.split
    found = find_neighbours(
        ArrayVectors(encoded.x, f"{split.origin}: source (encoder output)"),
        ArrayVectors(encoded.y, f"{split.origin}: target (encoder output)"),
        mining,
        desc=f"{mining.k}-NN" if show_progress else None,
    )
    cands = candidates_from_neighbours(found.neighbours, mining.margin, mining.retrieval)
    src_id, trg_id = encoded.src_id, encoded.trg_id
    scored: dict[Pair, float] = {}
    for s, t, score in zip(cands.src.tolist(), cands.trg.tolist(), cands.score.tolist()):
        src_text, trg_text = encoded.src_texts[s], encoded.trg_texts[t]
        if src_text in src_id and trg_text in trg_id:
            pair = (src_id[src_text], trg_id[trg_text])
            scored[pair] = max(score, scored.get(pair, score))
    return scored


def _prf_dict(prf: PRF) -> dict[str, Any]:
    return {
        "f1": prf.f1,
        "precision": prf.precision,
        "recall": prf.recall,
        "n_predicted": prf.n_predicted,
        "n_gold": prf.n_gold,
        "n_correct": prf.n_correct,
    }


def _write_pairs(path: Path, pairs: list[Pair]) -> None:
    atomic_write_text(path, "".join(f"{s}\t{t}\n" for s, t in sorted(pairs)))


def read_splits(
    pair: str, card: TaskCard, data_dir: Path | None, allow_missing_gold: bool = False
) -> tuple[BuccSplit, BuccSplit | None]:
    """The tuning (sample/dev) split of ``pair`` and the one the threshold is applied to (None when absent), from
    ``data_dir`` or the hub copy; RxError when there is no tuning split."""
    tune = (
        find_local_split(data_dir, pair, "tune", card, allow_missing_gold)
        if data_dir
        else read_hub_split(pair, "tune", card)
    )
    if tune is None:
        raise RxError(f"{data_dir}: no BUCC sample/dev split for {pair} (expected {pair}.sample.* or {pair}.dev.*)")
    apply = (
        find_local_split(data_dir, pair, "apply", card, allow_missing_gold)
        if data_dir
        else read_hub_split(pair, "apply", card)
    )
    return tune, apply


def evaluate_pair(
    encoder: Encoder,
    pair: str,
    tune: BuccSplit,
    apply: BuccSplit | None,
    mining: MiningOptions,
    predictions_dir: Path | None,
) -> dict[str, Any]:
    """Tune the threshold on the sample split ``tune`` of ``pair`` and score (or predict) ``apply``, mining each
    split's raw vectors with ``mining`` (resolved); with ``mining.center`` "language", a ``centered`` block too,
    mined from the same vectors (each split is encoded once)."""
    encoded_tune = encode_split(encoder, tune, mining)
    encoded_apply = encode_split(encoder, apply, mining) if apply is not None else None
    progress = encoder.show_progress
    raw = dataclasses.replace(mining, center="none")
    result = _score_pair(pair, encoded_tune, encoded_apply, raw, predictions_dir, progress)
    if mining.center == "language":  # its own block: each corpus's mean removed, threshold tuned again
        centered = _score_pair(pair, encoded_tune, encoded_apply, mining, None, progress)
        result["centered"] = {key: centered[key] for key in ("f1", "precision", "recall", "threshold")}
    return result


def _score_pair(
    pair: str,
    tune: EncodedSplit,
    apply: EncodedSplit | None,
    mining: MiningOptions,
    predictions_dir: Path | None,
    progress: bool,
) -> dict[str, Any]:
    tune_scores = score_split(tune, mining, progress)
    threshold = best_threshold(tune_scores, tune.split.gold)
    tuned = precision_recall_f1([p for p, s in tune_scores.items() if s >= threshold], tune.split.gold)
    result: dict[str, Any] = {
        "threshold": threshold,
        "tuned_on": tune.split.split,
        "source": tune.split.origin,
        "sample": _prf_dict(tuned),
        "gold_excluded": {
            tune.split.split: tune.split.gold_excluded,
            **({apply.split.split: apply.split.gold_excluded} if apply else {}),
        },
    }
    if apply is None:
        units = f1_units(tune_scores, threshold, tune.split.gold or set())
        return {
            **result,
            **_prf_dict(tuned),
            "evaluated_on": tune.split.split,
            "tuned_on_sample": True,
            UNITS_KEY: units,
        }
    apply_scores = score_split(apply, mining, progress)
    predicted = [p for p, s in apply_scores.items() if s >= threshold]
    if predictions_dir is not None:
        path = Path(predictions_dir) / f"{pair}.{apply.split.split}.predictions.tsv"
        _write_pairs(path, predicted)
        result["predictions"] = str(path)
    if apply.split.gold is None:
        none = {"f1": None, "precision": None, "recall": None, "n_predicted": len(predicted)}
        return {**result, **none, "evaluated_on": apply.split.split, "tuned_on_sample": False}
    return {
        **result,
        **_prf_dict(precision_recall_f1(predicted, apply.split.gold)),
        "evaluated_on": apply.split.split,
        "tuned_on_sample": False,
        UNITS_KEY: f1_units(apply_scores, threshold, apply.split.gold),
    }


def f1_units(scored: dict[Pair, float], threshold: float, gold: set[Pair]) -> tuple[Units, np.ndarray, np.ndarray]:
    """The units of F1 on one split: one row ``[tp, fp, fn]`` per pair that is predicted (score >= ``threshold``)
    or gold, best score first, each unit's score (NaN for a gold pair that is no candidate) and its
    ``src_id<TAB>trg_id`` (how ``rx compare`` lines up two results' units). Resampling the
    rows resamples F1 over the pairs with the threshold kept fixed (it was tuned on another split, or on this
    one: the interval then leaves out the tuning's own variance)."""
    predicted = {pair for pair, score in scored.items() if score >= threshold}
    pairs = sorted(predicted | gold, key=lambda pair: -scored.get(pair, -np.inf))
    rows = np.array(
        [
            [p in gold and p in predicted, p in predicted and p not in gold, p in gold and p not in predicted]
            for p in pairs
        ],
        dtype=np.int8,
    ).reshape(-1, 3)
    ids = np.array(["\t".join(pair) for pair in pairs], dtype=str)
    return Units("f1", rows), np.array([scored.get(pair, np.nan) for pair in pairs], dtype=np.float32), ids


def _averages(scores: dict[str, dict[str, Any]]) -> dict[str, Any]:
    f1s = [s["f1"] for s in scores.values() if s["f1"] is not None]
    return {"f1": sum(f1s) / len(f1s) if f1s else None, "n_pairs": len(f1s)}


def evaluate_bucc(
    encoder: Encoder | LayerSweepEncoder,
    pairs: list[str],
    data_dir: Path | None = None,
    mining: MiningOptions | None = None,
    predictions_dir: Path | None = None,
    allow_missing_gold: bool = False,
    splits: dict[str, tuple[BuccSplit, BuccSplit | None]] | None = None,
    bootstrap: BootstrapOptions = BootstrapOptions(),
) -> dict[str, Any]:
    """Evaluate ``encoder`` on BUCC ``pairs`` (e.g. ``["zh-en"]``) from ``data_dir`` or the hub copy, mining as
    ``mining`` says (unset k, margin and retrieval: the card's protocol, XTREME's k=4, ratio margin, max retrieval;
    by default the exact k-NN).

    Each pair's splits are read once (or taken from ``splits``, as ``read_splits`` returns them), whatever the
    number of layers and centering passes. Mining is ``rx mine``'s k-NN (``max_memory``, ``ray``, ``index``).
    Returns the result payload with ``scores`` keyed by pair (``f1``, ``precision``, ``recall``, ``threshold``,
    which split was scored and whether the threshold was tuned on it, and F1's ``ci95`` unless
    ``bootstrap.bootstrap`` is 0), ``averages`` and ``timings``; the scored split's F1 units and candidate scores go
    to the outcomes file.
    A ``LayerSweepEncoder`` adds ``layer_sweep`` (every layer tuned and scored on its own, one forward pass per
    corpus); the top-level scores and the predictions files are those of ``main_layer``.
    """
    started = time.perf_counter()
    card = load_card("bucc2018")
    mining = (mining or MiningOptions()).resolved(card.mining)
    check_center(mining.center)
    main = main_layer(encoder)
    by_layer: dict[int, dict[str, dict[str, Any]]] = {}
    for pair in pairs:
        tune, apply = (splits or {}).get(pair) or read_splits(pair, card, data_dir, allow_missing_gold)
        for layer, layer_encoder in layer_encoders(encoder):
            predictions = predictions_dir if layer == main else None
            by_layer.setdefault(layer, {})[pair] = evaluate_pair(layer_encoder, pair, tune, apply, mining, predictions)
    units = {
        layer: {pair: scored.pop(UNITS_KEY) for pair, scored in pairs_scores.items() if UNITS_KEY in scored}
        for layer, pairs_scores in by_layer.items()
    }
    scores, spec, sweep = per_layer_result(encoder, by_layer, "f1", _averages)
    payload = {
        **result_header(card.name, spec),
        "metric": "F1 (x100) over src_id<TAB>trg_id pairs",
        "protocol": "the XTREME paper's / LASER's: mean pooling over all tokens of one layer, k-NN margin mining, "
        "threshold tuned on the sample split; not XTREME's current script (CLS pooling, hidden_states[20] of a "
        "24-layer model)",
        "center": mining.center,
        "mining": {
            "k": mining.k,
            "margin": mining.margin,
            "retrieval": mining.retrieval,
            "unify_duplicates": True,
            "knn": mining.describe_knn(),
        },
        "data": str(data_dir) if data_dir else "hub (gold pairs only: not comparable to BUCC's full corpora)",
        "scores": scores,
        "averages": _averages(scores),
        **sweep,
        "timings": {"total_seconds": time.perf_counter() - started},
    }
    kept = units[main]
    extra = {f"scores/{pair}": pair_scores for pair, (_, pair_scores, _) in kept.items()}
    extra |= {f"{UNIT_KEYS}/{pair}": ids for pair, (_, _, ids) in kept.items()}
    attach_outcomes(payload, {"f1": {pair: one for pair, (one, _, _) in kept.items()}}, bootstrap, extra)
    payload["timings"]["total_seconds"] = time.perf_counter() - started
    return payload


def run_bucc(
    card: TaskCard, encoder: EncoderOptions, options: BuccOptions, context: EvalContext = EvalContext()
) -> dict[str, Any]:
    """The one entry point of BUCC (the registry's ``run``: ``rx eval bucc`` and ``rx experiment``): check the
    pairs and the data folder, read each pair's splits once, fill unset mining options from the card (XTREME's
    k=4, ratio, max), load the ``encoder`` (a layer sweep with ``options.layers``; ``--quantize int8`` without a
    calibration file samples the tuning corpora) and evaluate it, mining with ``rx mine``'s k-NN. Predictions go
    to ``options.predictions_dir`` (default: ``bucc-predictions/`` in ``context.results_dir``). Returns
    ``evaluate_bucc``'s payload."""
    mining = options.mining.resolved(card.mining)
    check_center(mining.center)
    pair_list = resolve_pairs(options.pairs, options.data_dir, card)
    splits = {pair: read_splits(pair, card, options.data_dir, options.allow_missing_gold) for pair in pair_list}
    corpus = (
        [text for tune, _ in splits.values() for text in tune.src_sentences + tune.trg_sentences]
        if encoder.needs_corpus()
        else None
    )
    return evaluate_bucc(
        encoder.load_for(options.layers, corpus),
        pair_list,
        options.data_dir,
        mining,
        predictions_dir=options.predictions_dir or context.results_dir / "bucc-predictions",
        allow_missing_gold=options.allow_missing_gold,
        splits=splits,
        bootstrap=options.confidence,
    )


def bucc_table(result: dict[str, Any]) -> str:
    """The per-pair table; a row scored on the split its threshold was tuned on says so."""
    rows = []
    centered = any("centered" in s for s in result["scores"].values())
    for pair, s in result["scores"].items():
        split = s["evaluated_on"] + (" (tuned on it)" if s["tuned_on_sample"] else "")
        rows.append(
            [
                pair,
                s["f1"],
                interval_text(s, "f1"),
                s["precision"],
                s["recall"],
                s["threshold"],
                *([s["centered"]["f1"]] if centered else []),
                split,
            ]
        )
    headers = ["pair", "F1", "95% CI", "precision", "recall", "threshold", *(["F1 centered"] if centered else [])]
    return format_table([*headers, "scored split"], rows)
