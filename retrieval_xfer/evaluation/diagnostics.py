"""``rx diagnose``: how aligned the languages of an encoder are, per layer and per language, on Tatoeba.

One forward pass per sentence list gives every requested layer (the layer sweep). Per layer and language:
retrieval accuracy raw and centered (each language's own mean subtracted: transductive, as in Libovický et al.
2020, since the means come from the sentences being retrieved), the centering gain, alignment (mean translation
cosine) and hubness of en→xx retrieval; per layer over all languages: the language-ID probe's accuracy and
per-language recall, and uniformity. See ``alignment.py`` for the measures.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.data.cards import TaskCard, load_card
from retrieval_xfer.data.tatoeba import read_tatoeba_hub, read_tatoeba_local, resolve_languages
from retrieval_xfer.encoding.layer_sweep import layer_encoders, main_layer
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.alignment import (
    MIN_PROBE_SENTENCES,
    alignment,
    center,
    hubness,
    language_id_accuracy,
    uniformity,
)
from retrieval_xfer.evaluation.results import format_table, result_header
from retrieval_xfer.evaluation.retrieval_options import TatoebaOptions
from retrieval_xfer.evaluation.tatoeba import tatoeba_accuracy

logger = logging.getLogger(__name__)

PROBE_SENTENCES = 200  # per language: language identity is easy to find; more would only cost time


def _layer_metrics(vectors: dict[str, tuple[np.ndarray, np.ndarray]], seed: int) -> dict[str, Any]:
    languages: dict[str, dict[str, float]] = {}
    for code, (source, english) in vectors.items():
        en2xx, xx2en = tatoeba_accuracy(source, english)
        c_en2xx, c_xx2en = tatoeba_accuracy(center(source), center(english))
        languages[code] = {
            "en2xx": en2xx,
            "xx2en": xx2en,
            "mean": (en2xx + xx2en) / 2,
            "en2xx_centered": c_en2xx,
            "xx2en_centered": c_xx2en,
            "mean_centered": (c_en2xx + c_xx2en) / 2,
            "centering_gain": (c_en2xx + c_xx2en) / 2 - (en2xx + xx2en) / 2,
            "alignment": alignment(source, english),
            "hubness": hubness(english, source, k=10),
        }
    rng = np.random.default_rng(seed)
    probe_sets = {"en": next(iter(vectors.values()))[1]}
    probe_sets.update({code: source for code, (source, _) in vectors.items()})
    probe_sets = {code: rows[rng.permutation(len(rows))[:PROBE_SENTENCES]] for code, rows in probe_sets.items()}
    lid, recall = language_id_accuracy(probe_sets, seed=seed)
    for code in languages:
        languages[code]["lid_recall"] = recall[code]
    keys = [k for k in next(iter(languages.values()))]
    averages = {k: float(np.mean([entry[k] for entry in languages.values()])) for k in keys}
    everything = np.concatenate([np.concatenate(pair) for pair in vectors.values()])
    return {
        "averages": {
            **averages,
            "lid_accuracy": lid,
            "lid_chance": 100.0 / len(probe_sets),
            "uniformity": uniformity(everything, seed=seed),
        },
        "languages": languages,
    }


def diagnose(
    encoder: Any,
    languages: list,
    card: TaskCard,
    data_dir: Path | None = None,
    limit: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Alignment diagnostics of ``encoder`` (an Encoder or a LayerSweepEncoder) on Tatoeba ``languages``.

    Languages with fewer than ``MIN_PROBE_SENTENCES`` pairs are skipped with a warning (listed in
    ``skipped_languages``); RxError when fewer than two languages remain (English plus one is the minimum)."""
    started = time.perf_counter()
    pairs = [
        read_tatoeba_local(data_dir, lang, card) if data_dir else read_tatoeba_hub(lang, card) for lang in languages
    ]
    skipped = {}
    kept = []
    for p in pairs:
        n = min(len(p.source), limit or len(p.source))
        if n < MIN_PROBE_SENTENCES:
            logger.warning(
                f"{p.language.code}: {n} sentence pairs, the language-ID probe needs at least "
                f"{MIN_PROBE_SENTENCES}: skipped"
            )
            skipped[p.language.code] = f"{n} pairs (< {MIN_PROBE_SENTENCES})"
        else:
            kept.append((p, n))
    if not kept:
        raise RxError(f"no language has the {MIN_PROBE_SENTENCES} sentence pairs the diagnostics need")
    by_layer: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for p, n in kept:
        for layer, layer_encoder in layer_encoders(encoder):
            by_layer.setdefault(layer, {})[p.language.code] = (
                layer_encoder.encode(p.source[:n], desc=f"diagnose {p.language.code}"),
                layer_encoder.encode(p.english[:n], desc=f"diagnose {p.language.code} (eng)"),
            )
    encoded = time.perf_counter() - started
    layers = {str(layer): _layer_metrics(vectors, seed) for layer, vectors in sorted(by_layer.items())}
    main = main_layer(encoder)
    spec = encoder.spec_for(main) if hasattr(encoder, "spec_for") else encoder.spec
    return {
        **result_header("diagnose", spec),
        "data": str(data_dir) if data_dir else "hub",
        "limit": limit,
        "languages": [p.language.code for p, _ in kept],
        "skipped_languages": skipped,
        "main_layer": main,
        "centering": "transductive: each language's mean over the sentences being retrieved",
        "layers": layers,
        "timings": {"total_seconds": time.perf_counter() - started, "encode_seconds": encoded},
    }


def run_diagnose(encoder: EncoderOptions, options: TatoebaOptions) -> dict[str, Any]:
    """The entry point of ``rx diagnose``: check the Tatoeba languages of ``options`` (two at least besides
    English), load the ``encoder`` (a layer sweep with ``options.layers``) and measure (``options.center`` is not
    read: the diagnosis always measures both)."""
    card = load_card("tatoeba")
    languages = resolve_languages(options.langs, card)
    if len(languages) < 2:
        raise RxError(
            "rx diagnose needs at least two languages besides English (--langs de,sw,...): the probe and "
            "the centering compare languages"
        )
    if options.data_dir is not None and not Path(options.data_dir).is_dir():
        raise RxError(f"{options.data_dir}: no such Tatoeba folder")
    return diagnose(encoder.load_for(options.layers), languages, card, options.data_dir, options.limit)


def diagnose_table(result: dict[str, Any]) -> str:
    """One row per layer: retrieval raw and centered, the centering gain, LID accuracy, alignment, uniformity,
    hubness (averages over the languages)."""
    rows = []
    for layer, entry in result["layers"].items():
        a = entry["averages"]
        rows.append(
            [
                int(layer),
                a["en2xx"],
                a["en2xx_centered"],
                a["centering_gain"],
                a["lid_accuracy"],
                a["alignment"],
                a["uniformity"],
                a["hubness"],
                "main" if int(layer) == result["main_layer"] else "",
            ]
        )
    chance = next(iter(result["layers"].values()))["averages"]["lid_chance"]
    return format_table(
        [
            "layer",
            "en->xx",
            "centered",
            "gain (mean)",
            f"LID (chance {chance:.1f})",
            "alignment",
            "uniformity",
            "hubness",
            "note",
        ],
        rows,
    )
