"""Zero-shot evaluation of a run on an XTREME task, language by language, with the evaluator its card names.

The evaluators live one per task family: ``classification.py`` (XNLI, PAWS-X), ``tagging.py`` (UD-POS, PAN-X),
``qa.py`` (XQuAD, MLQA, TyDiQA-GoldP). A card's ``evaluator`` field picks one; adding a task adds a card.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from retrieval_xfer.data.cards import TaskCard, load_card
from retrieval_xfer.data.eval_data import (
    LanguageData,
    find_language_files,
    find_release_languages,
    language_of_file,
    read_language_file,
    read_language_hub,
)
from retrieval_xfer.errors import HubUnreachableError, RxError, SplitMissingError
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import UNITS_KEY, BootstrapOptions, attach_outcomes, interval_text
from retrieval_xfer.evaluation.registry import EvalContext, evaluator_for
from retrieval_xfer.evaluation.results import format_table, provenance_header
from retrieval_xfer.evaluation.zero_shot_options import ZeroShotOptions
from retrieval_xfer.hub import hub_reachable
from retrieval_xfer.modeling.task_model import TaskModel, load_task_model

logger = logging.getLogger(__name__)


def locate_data(
    card: TaskCard, langs: str, split: str, data_dir: Path | None = None, data_files: tuple[str, ...] = ()
) -> dict[str, LanguageData | None]:
    """``language → local file`` (None: read it from the hub) for ``langs``: ``all`` (every language with data;
    the card's list for the hub), ``xtreme`` (the card's list) or a comma list. A ``data_dir`` holding no files
    of the card's patterns may be a release folder the card can read (UD-POS: ``ud-treebanks-v2.5/``).

    ``data_files`` are ``PATH`` (language from the file name) or ``LANG=PATH``. RxError for an unknown language,
    a language without data, or a file whose language cannot be told.
    """
    found: dict[str, LanguageData] = {}
    if data_dir is not None:
        found.update(find_language_files(card, data_dir, split) or find_release_languages(card, data_dir, split))
        if not found:
            patterns = ", ".join(card.sources["local"]["files"])
            if card.sources["local"].get("release_reader"):
                patterns += ", or a release folder's */<iso>_*.conllu"
            raise RxError(f"{data_dir}: no {card.name} files for split {split!r} (looked for {patterns})")
    for value in data_files:
        lang, sep, path = value.partition("=")
        if not sep:
            path, lang = value, language_of_file(card, Path(value)) or ""
            if not lang:
                raise RxError(f"{value}: cannot tell the language from the file name; pass it as LANG={value}")
        if not Path(path).is_file():
            raise RxError(f"{path}: no such file")
        found[lang] = Path(path)
    local = data_dir is not None or bool(data_files)
    if langs == "all":
        chosen = sorted(found) if local else list(card.languages)
    elif langs == "xtreme":
        chosen = list(card.languages)
    else:
        chosen = [code.strip() for code in langs.split(",") if code.strip()]
    if not chosen:
        raise RxError("--langs: no language given")
    for lang in chosen:
        if local and lang not in found:
            where = data_dir or ", ".join(data_files)
            raise RxError(
                f"{where}: no {card.name} data for language {lang!r} (found: {', '.join(sorted(found)) or 'none'})"
            )
        if not local and lang not in card.languages:
            raise RxError(f"unknown {card.name} language {lang!r}; the card's languages: {', '.join(card.languages)}")
    if not local and not hub_reachable():
        raise HubUnreachableError(
            f"{card.name}: the Hugging Face Hub cannot be reached; pass --data-dir or --data-file "
            f"with local files ({', '.join(card.sources['local']['files'])})"
        )
    return {lang: found.get(lang) for lang in chosen}


def evaluate_zero_shot(
    model: TaskModel,
    card: TaskCard,
    data: dict[str, LanguageData | None],
    split: str = "dev",
    limit: int | None = None,
    batch_size: int = 32,
    show_progress: bool = True,
    bootstrap: BootstrapOptions = BootstrapOptions(),
) -> dict[str, Any]:
    """Score ``model`` on every language of ``data`` (from ``locate_data``).

    Returns the result payload: provenance, the head used, ``scores`` per language (the card's metric with its
    ``ci95`` unless ``bootstrap.bootstrap`` is 0, ``n``, the examples' ``sha256``, rows dropped and why, the data
    source), ``averages`` over the languages, and timings; each example's outcome goes to the outcomes file.
    """
    evaluator = evaluator_for(card).load("scorer")  # the family's per-language scoring (registry)
    started = time.perf_counter()
    scores: dict[str, dict[str, Any]] = {}
    units: dict[str, dict[str, Units]] = {}
    missing: dict[str, str] = {}
    for lang, path in data.items():
        try:
            task_data = read_language_file(card, path, limit) if path else read_language_hub(card, lang, split, limit)
        except SplitMissingError as err:  # e.g. UD-POS Kazakh has no dev split on the hub: skip that language
            logger.warning(f"{card.name} {lang}: skipped, {err}")
            missing[lang] = str(err)
            continue
        scored = evaluator(model, card, task_data.examples, lang, batch_size=batch_size, show_progress=show_progress)
        for metric, one in scored.pop(UNITS_KEY, {}).items():
            units.setdefault(metric, {})[lang] = one
        examples = json.dumps(task_data.examples, sort_keys=True, default=str).encode()
        scores[lang] = {
            **scored,
            "sha256": hashlib.sha256(examples).hexdigest(),
            "skipped": dict(task_data.skipped),
            "source": task_data.source,
        }
        caveat = (card.comparability or {}).get(lang)
        if caveat and not path:
            scores[lang]["comparable_with_xtreme"] = False
            scores[lang]["caveat"] = caveat
    if not scores:
        raise RxError(f"{card.name}: no language has a {split!r} split ({'; '.join(missing.values())})")
    keys = [k for k, v in next(iter(scores.values())).items() if isinstance(v, float)]
    payload = {
        **provenance_header(card.name, str(model.run)),
        "base_model": model.run_info.get("base_model"),
        "head": model.head_task,
        "precision": model.precision,
        "split": split,
        "metric": card.metric,
        "report_key": card.report_key,
        "normalization": card.normalization,
        "limit": limit,
        "languages_without_split": missing,
        "scores": scores,
        "averages": {**{k: sum(s[k] for s in scores.values()) / len(scores) for k in keys}, "n_languages": len(scores)},
        "timings": {"total_seconds": time.perf_counter() - started},
    }
    attach_outcomes(payload, units, bootstrap)
    payload["timings"]["total_seconds"] = time.perf_counter() - started
    return payload


def evaluate_run(
    run: Path, task: str, options: ZeroShotOptions | None = None, show_progress: bool = True
) -> dict[str, Any]:
    """``rx eval <task>`` as a function: find the data, load the run with its head, score every language."""
    options = options or ZeroShotOptions()
    card = load_card(task)
    if options.max_length:
        card = card.replace(max_length=options.max_length)
    data = locate_data(card, options.langs, options.split, options.data_dir, tuple(options.data_files))
    model = load_task_model(Path(run), card, options.head, options.device, options.precision)
    return evaluate_zero_shot(
        model, card, data, options.split, options.limit, options.batch_size, show_progress, options.confidence
    )


def run_zero_shot(card: TaskCard, run: Path, options: ZeroShotOptions, context: EvalContext) -> dict[str, Any]:
    """``rx eval <zero-shot task>`` and the experiment's evaluation step (the registry's ``run`` of the
    classification, tagging and QA families): ``evaluate_run`` with the card's task, logging what was scored."""
    result = evaluate_run(run, card.name, options, show_progress=not context.quiet)
    logger.info(f"model: {run} | head {result['head']} | {len(result['scores'])} language(s), split {options.split}")
    return result


def zero_shot_table(result: dict[str, Any]) -> str:
    """Per-language table (every float score, the 95 % interval of the reported one, n, dropped rows) with the
    average row."""
    keys = [k for k, v in result["averages"].items() if isinstance(v, float)]
    main = result.get("report_key", keys[0] if keys else "")

    def row(name: str, s: dict[str, Any], n: int, dropped: int) -> list[Any]:
        return [name, *[s[k] for k in keys], interval_text(s, main), n, dropped]

    rows = [row(lang, s, s["n"], sum(s["skipped"].values())) for lang, s in result["scores"].items()]
    total_n = sum(s["n"] for s in result["scores"].values())
    dropped = sum(sum(s["skipped"].values()) for s in result["scores"].values())
    rows.append(row("average", result["averages"], total_n, dropped))
    return format_table(["lang", *keys, f"95% CI ({main})", "n", "dropped"], rows)
