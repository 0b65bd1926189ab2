"""The result files ``rx report`` reads, as ``TaskResult``s: which run (and seed) each belongs to, and the one
result per run and task the report shows (the newest; a run's seeds folded into their mean, ``evaluation.seeds``).

Runs are named by folder: ``results/<run>/*.json`` belongs to run ``<run>``; a file directly in a given folder
belongs to the run named after its model. ``results/<run>/seed-<n>/*.json`` is seed ``n`` of run ``<run>``. When
a run has several results for one task (and seed), the newest counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.data.cards import TaskCard, load_card
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.registry import evaluated_cards, evaluator_for
from retrieval_xfer.evaluation.seeds import MEAN, folder_seed, seeds_intervals

DIAGNOSE_TASK = "diagnose"  # rx diagnose results: read by collect_diagnostics, shown in their own section
AVERAGE = "average"  # TaskResult.intervals key of the interval of the average over languages


@dataclass
class TaskResult:
    """One result file: its run, task, headline score, and score per language (the card's ``report_key``)."""

    path: Path
    run: str
    task: str
    created_at: str
    average: float | None
    languages: dict[str, float]
    sweep: dict[int, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)  # 95 % CI per language (and "average")
    seed: int | None = None  # the training seed of a result under a seed-<n> folder
    seeds: list[TaskResult] = field(default_factory=list)  # a run's results over seeds, when this is their mean

    @property
    def paths(self) -> list[Path]:
        """The result files this result stands for: one, or one per seed."""
        return [r.path for r in self.seeds] or [self.path]


def report_tasks() -> list[str]:
    """The tasks ``rx report`` knows, in table order: every card with an evaluator, by its ``report_order`` (XTREME's
    table order for XTREME's nine), then by name."""
    cards = evaluated_cards()
    return [c.name for c in sorted(cards, key=lambda c: (c.report_order is None, c.report_order or 0, c.name))]


def language_code(key: str, card: TaskCard) -> str:
    """The ISO code the report files a result's score key under (the card's evaluator says how)."""
    return evaluator_for(card).language_code(card, key)


def read_result(path: Path, run: str | None, seed: int | None = None) -> TaskResult:
    """Read a result file written by ``rx eval`` (``run`` None: named after its model); RxError naming the file
    when it is corrupt or not a result."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RxError(f"{path}: not a readable result file ({err.__class__.__name__})") from None
    if not isinstance(payload, dict) or "task" not in payload or "scores" not in payload:
        raise RxError(f"{path}: not an rx result file (no 'task' and 'scores')")
    task = payload["task"]
    run = run or Path(str(payload.get("model") or Path(path).stem).rstrip("/")).name
    known = report_tasks()
    if task not in known:
        raise RxError(f"{path}: result of task {task!r}, which no task card evaluates ({', '.join(known)})")
    card = load_card(task)
    key = card.report_key
    languages, intervals = {}, {}
    for name, score in payload["scores"].items():
        if not isinstance(score, dict) or key not in score:
            raise RxError(f"{path}: language {name!r} has no {key!r} score; is it a {task} result?")
        if score[key] is not None:
            languages[language_code(name, card)] = float(score[key])
        if score.get("ci95", {}).get(key):
            intervals[language_code(name, card)] = tuple(score["ci95"][key])
    sweep = {
        int(layer): entry["averages"][key] for layer, entry in payload.get("layer_sweep", {}).get("layers", {}).items()
    }
    average = payload.get("averages", {}).get(key)
    if payload.get("averages", {}).get("ci95", {}).get(key):
        intervals[AVERAGE] = tuple(payload["averages"]["ci95"][key])
    created = payload.get("created_at", "")
    return TaskResult(Path(path), run, task, created, average, languages, sweep, intervals, seed)  # type: ignore[arg-type]


def _task_of(path: Path) -> str | None:
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # read_result names the problem
    return payload.get("task") if isinstance(payload, dict) else None


def _result_files(paths: list[Path]) -> list[tuple[Path, str | None, int | None]]:
    """Every ``*.json`` under ``paths`` with its run name (None: named after its model) and seed (see the module
    docstring)."""
    found = []
    for root in map(Path, paths):
        if root.is_file():
            seed = folder_seed(root.parent.name)
            found.append((root, root.parent.parent.name if seed is not None else root.parent.name, seed))
        elif root.is_dir():
            for path in sorted(root.rglob("*.json")):
                parts = path.relative_to(root).parts
                seed = folder_seed(parts[-2]) if len(parts) > 1 else None
                if seed is not None:
                    run = parts[-3] if len(parts) > 2 else root.resolve().name
                else:
                    run = parts[0] if len(parts) > 1 else None
                found.append((path, run, seed))
    return found


def collect_diagnostics(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """The newest ``rx diagnose`` result of each run under ``paths`` (named as ``collect_results`` names runs)."""
    found: dict[str, dict[str, Any]] = {}
    for path, run, _ in _result_files(paths):
        if _task_of(path) != DIAGNOSE_TASK:
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        name = run or Path(str(payload.get("model") or path.stem).rstrip("/")).name
        if name not in found or payload.get("created_at", "") > found[name].get("created_at", ""):
            found[name] = payload
    return found


def collect_results(paths: list[Path]) -> list[TaskResult]:
    """Every ``*.json`` result under ``paths`` (files or folders), named by run (see the module docstring);
    ``rx diagnose`` results are left to ``collect_diagnostics``."""
    for root in map(Path, paths):
        if not root.exists():
            raise RxError(f"{root}: no such file or folder")
    results = [
        read_result(path, run, seed) for path, run, seed in _result_files(paths) if _task_of(path) != DIAGNOSE_TASK
    ]
    if not results:
        raise RxError(f"no result files (*.json) under {', '.join(map(str, paths))}")
    return results


def shown_results(results: list[TaskResult]) -> tuple[dict[tuple[str, str], TaskResult], list[Path]]:
    """The result the report shows per (run, task): the newest of each seed, a run's seeds folded into their mean
    (seeds outrank a result of the same run without one); and the paths of the results left out."""
    by_seed: dict[tuple[str, str, int | None], TaskResult] = {}
    ignored = []
    for result in sorted(results, key=lambda r: r.created_at):
        key = (result.run, result.task, result.seed)
        if key in by_seed:
            ignored.append(by_seed[key].path)
        by_seed[key] = result
    grouped: dict[tuple[str, str], list[TaskResult]] = {}
    for (run, task, _), result in by_seed.items():
        grouped.setdefault((run, task), []).append(result)
    shown: dict[tuple[str, str], TaskResult] = {}
    for key, group in grouped.items():
        seeded = sorted((r for r in group if r.seed is not None), key=lambda r: r.seed)
        if seeded:  # seeds outrank a result of the same run without one
            ignored += [r.path for r in group if r.seed is None]
            shown[key] = _seeds_mean(seeded)
        else:
            shown[key] = group[0]
    return shown, ignored


def _seeds_mean(seeds: list[TaskResult]) -> TaskResult:
    """One run's results over its seeds as one: the mean over seeds of each score (per language, and per layer of
    a layer sweep), and intervals from every seed's outcomes that draw the seeds too (none where a seed lacks
    them; ``seeds.seeds_intervals``)."""
    if len(seeds) == 1:
        return seeds[0]
    first = seeds[0]
    common = [lang for lang in first.languages if all(lang in r.languages for r in seeds)]
    languages = {lang: float(np.mean([r.languages[lang] for r in seeds])) for lang in common}
    averages = [r.average for r in seeds]
    average = float(np.mean(averages)) if all(a is not None for a in averages) else None  # type: ignore[arg-type]
    card = load_card(first.task)
    intervals = {
        (AVERAGE if group == MEAN else language_code(group, card)): bounds
        for group, bounds in seeds_intervals([r.path for r in seeds], card.report_key).items()
    }
    layers = [layer for layer in first.sweep if all(layer in r.sweep for r in seeds)]
    sweep = {layer: float(np.mean([r.sweep[layer] for r in seeds])) for layer in layers}
    created = max(r.created_at for r in seeds)
    return TaskResult(first.path, first.run, first.task, created, average, languages, sweep, intervals, seeds=seeds)


def seed_spread(result: TaskResult) -> float | None:
    """The standard deviation over seeds of a mean over seeds' average (None for one result)."""
    averages = [r.average for r in result.seeds]
    if len(averages) < 2 or any(a is None for a in averages):
        return None
    return float(np.std(averages, ddof=1))
