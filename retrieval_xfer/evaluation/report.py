"""The XTREME report: result files of many runs → the task table, per-language tables, deltas against a baseline
run, the low-resource view (gain by CC-100 resource level) and layer sweeps; written as Markdown, CSV and PNG.

Which result files belong to which run (and seed), and which one counts: ``report_results``. A run trained with
several seeds shows the mean over them, with intervals and paired deltas that draw the seeds too (``seeds``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.compare import Delta, compare_results
from retrieval_xfer.evaluation.language_resources import group_names, language_resources, resource_group
from retrieval_xfer.evaluation.report_results import (
    AVERAGE,
    TaskResult,
    language_code,
    report_tasks,
    seed_spread,
    shown_results,
)
from retrieval_xfer.evaluation.results import format_table
from retrieval_xfer.provenance import now_iso

MIN_TREND_POINTS = 5  # fewest (task, language) points a gain-vs-data-size line is fitted through


@dataclass
class Report:
    """Everything the report shows. ``scores[run][task]`` is the headline (average over the run's languages);
    ``languages[task][lang][run]`` the per-language score; ``sweeps[run][task]`` layer → average."""

    runs: list[str]
    baseline: str | None
    tasks: list[str]
    scores: dict[str, dict[str, float | None]]
    languages: dict[str, dict[str, dict[str, float]]]
    sweeps: dict[str, dict[str, dict[int, float]]]
    ignored: list[Path]
    alignment: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[tuple[str, str], TaskResult] = field(default_factory=dict)  # (run, task) -> the result shown
    paired: dict[tuple[str, str], Delta] = field(default_factory=dict)  # (run, task) -> paired delta vs baseline
    notes: list[str] = field(default_factory=list)

    def delta(self, run: str, task: str) -> float | None:
        """Mean over the languages both runs have of (run − baseline), or None."""
        common = [
            lang for lang, by_run in self.languages.get(task, {}).items() if run in by_run and self.baseline in by_run
        ]
        if not common or self.baseline is None:
            return None
        return sum(
            self.languages[task][lang][run] - self.languages[task][lang][self.baseline] for lang in common
        ) / len(common)

    def gains(self, run: str) -> list[tuple[str, str, float]]:
        """``(task, lang, run − baseline)`` for every language both have."""
        return [
            (task, lang, by_run[run] - by_run[self.baseline])
            for task in self.tasks
            for lang, by_run in self.languages.get(task, {}).items()
            if run in by_run and self.baseline in by_run
        ]

    def gain_trend(self, run: str) -> tuple[float | None, str]:
        """The least-squares slope of gain against log10 of the language's CC-100 size (points per 10x data) and
        a sentence saying it, or ``(None, why there is none)`` with fewer than ``MIN_TREND_POINTS`` points of
        known size (a line through two or three points says nothing)."""
        points = [
            (math.log10(language_resources()["sizes"][lang]), gain)
            for _, lang, gain in self.gains(run)
            if language_resources()["sizes"].get(lang) is not None
        ]
        sizes = {x for x, _ in points}
        if len(points) < MIN_TREND_POINTS or len(sizes) < 2:
            return None, (
                f"no trend for {run}: {len(points)} (task, language) point(s) with a known CC-100 size, "
                f"at least {MIN_TREND_POINTS} over two sizes are needed"
            )
        mx, my = sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
        slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
        return slope, f"trend for {run}: {slope:+.2f} points per 10x pre-training data ({len(points)} points)"

    def group_gains(self, run: str) -> dict[str, tuple[float | None, int]]:
        """Mean gain and count of (task, language) points per resource group."""
        per_group: dict[str, list[float]] = {g: [] for g in group_names()}
        for _, lang, gain in self.gains(run):
            per_group[resource_group(lang)].append(gain)
        return {g: (sum(v) / len(v) if v else None, len(v)) for g, v in per_group.items()}


def _average(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def build_report(
    results: list[TaskResult], baseline: str | None = None, diagnostics: dict[str, dict[str, Any]] | None = None
) -> Report:
    """Assemble a ``Report`` (with ``rx diagnose`` results by run, from ``collect_diagnostics``); RxError when
    ``baseline`` names no run."""
    newest, ignored = shown_results(results)
    runs = sorted({r.run for r in results}, key=lambda run: (run != baseline, run))
    if baseline is not None and baseline not in runs:
        raise RxError(f"--baseline {baseline!r} is not among the runs ({', '.join(runs)})")
    tasks = [t for t in report_tasks() if any(r.task == t for r in newest.values())]
    scores = {
        run: {task: newest[(run, task)].average if (run, task) in newest else None for task in tasks} for run in runs
    }
    languages: dict[str, dict[str, dict[str, float]]] = {}
    sweeps: dict[str, dict[str, dict[int, float]]] = {}
    for (run, task), result in newest.items():
        for lang, value in result.languages.items():
            languages.setdefault(task, {}).setdefault(lang, {})[run] = value
        if result.sweep:
            sweeps.setdefault(run, {})[task] = result.sweep
    report = Report(runs, baseline, tasks, scores, languages, sweeps, ignored, dict(diagnostics or {}), newest)
    if baseline is not None:
        _pair_with_baseline(report)
    if any(not r.intervals for r in newest.values()):
        report.notes.append(
            "results without per-example outcomes (written before rx kept them, or by an evaluator that keeps none "
            "yet): their intervals are shown as —"
        )
    return report


def _pair_with_baseline(report: Report) -> None:
    """Each run's delta against the baseline per task, with its paired bootstrap interval over the languages both
    results have (``compare.compare_results`` on the task's report key), where both kept outcomes."""
    for (run, task), result in report.results.items():
        base = report.results.get((str(report.baseline), task))
        if run == report.baseline or base is None:
            continue
        try:
            deltas, _ = compare_results(base.paths, result.paths, only=load_card(task).report_key)
        except RxError as err:
            report.notes.append(f"{task}, {run} against {report.baseline}: no paired interval, shown as — ({err})")
            continue
        report.paired[(run, task)] = next((d for d in deltas if d.group == "mean"), deltas[0])


def _metric_label(task: str) -> str:
    card = load_card(task)
    key = card.report_key
    return {"en2xx": "acc en→xx", "accuracy": "acc", "f1": "F1"}.get(key, key)


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _interval(bounds: tuple[float, float] | None) -> str:
    return f" [{bounds[0]:.1f}, {bounds[1]:.1f}]" if bounds else " —"


def _paired(report: Report, run: str, task: str) -> str:
    """A delta cell's paired interval and whether the delta holds (its interval excludes 0)."""
    delta = report.paired.get((run, task))
    if delta is None:
        return " —"
    return f" [{delta.low:+.2f}, {delta.high:+.2f}]" + (" holds" if delta.holds else "")


def _markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def xtreme_rows(report: Report) -> list[list[Any]]:
    """Rows of the XTREME table: run, one score per task, and the average over the tasks the run has."""
    return [
        [run, *[report.scores[run][t] for t in report.tasks], _average([report.scores[run][t] for t in report.tasks])]
        for run in report.runs
    ]


def delta_rows(report: Report) -> list[list[Any]]:
    """Rows of the delta table: run, (run − baseline) per task on common languages, and their mean."""
    rows = []
    for run in report.runs:
        if run == report.baseline:
            continue
        deltas = [report.delta(run, t) for t in report.tasks]
        rows.append([run, *deltas, _average(deltas)])
    return rows


def xtreme_table(report: Report) -> str:
    """The XTREME table as plain text (for the terminal)."""
    headers = ["run", *[f"{t} ({_metric_label(t)})" for t in report.tasks], "avg"]
    return format_table(headers, xtreme_rows(report))


def markdown(report: Report, pictures: list[str]) -> str:
    """The whole report as Markdown."""
    table = language_resources()
    headers = ["run", *[f"{t} ({_metric_label(t)})" for t in report.tasks], "avg"]
    parts = [
        f"# XTREME report\n\nGenerated {now_iso()} by `rx report`. Each score is the mean over the languages "
        "that run was evaluated on; `avg` is the mean over the tasks the run has.\n",
        "## XTREME table\n",
        "Each score with its 95 % interval (percentile bootstrap over the task's queries or pairs, resampled within "
        "each language; — where the result kept no per-example outcomes). Comparability: Tatoeba is XTREME's "
        "en→xx accuracy (MTEB's headline is the weighted F1 of xx→en, in the result files as `mteb_f1`); BUCC and "
        "Tatoeba follow the XTREME paper's protocol (mean pooling), not XTREME's current BUCC script (CLS pooling); "
        "README, 'How sure is a delta?'.\n",
        _markdown_table(
            headers,
            [
                [
                    row[0],
                    *[
                        _fmt(value)
                        + (
                            _interval(report.results[(row[0], task)].intervals.get(AVERAGE))
                            if (row[0], task) in report.results
                            else ""
                        )
                        for task, value in zip(report.tasks, row[1:-1])
                    ],
                    _fmt(row[-1]),
                ]
                for row in xtreme_rows(report)
            ],
        ),
    ]
    parts += seeds_section(report)
    if report.baseline:
        parts += [
            f"\n## Change against the baseline `{report.baseline}`\n",
            "Mean over the languages both runs were evaluated on of (run − baseline), in points, with its paired "
            "95 % interval (the same resampled queries or pairs score both runs; `rx compare` gives it per "
            "language); **holds** marks a delta whose interval excludes 0.\n",
            _markdown_table(
                headers,
                [
                    [
                        r[0],
                        *[_fmt(v, True) + _paired(report, r[0], t) for t, v in zip(report.tasks, r[1:-1])],
                        _fmt(r[-1], True),
                    ]
                    for r in delta_rows(report)
                ],
            ),
        ]
        group_headers = ["run", *[f"{g}" for g in group_names()]]
        group_rows = []
        for run in report.runs:
            if run != report.baseline:
                gains = report.group_gains(run)
                group_rows.append([run, *[f"{_fmt(m, True)} (n={n})" for m, n in gains.values()]])
        bounds = list(table["groups"].items())
        thresholds = ", ".join(
            f"{name} ≥ {low:g}"
            if i == 0
            else (f"{name} {low:g}–{bounds[i - 1][1]:g}" if low > 0 else f"{name} < {bounds[i - 1][1]:g}")
            for i, (name, low) in enumerate(bounds)
        )
        thresholds += f" {table['unit']}"
        parts += [
            "\n## Low-resource view\n",
            f"Mean gain over (task, language) points by the language's pre-training data: {thresholds}; "
            f"{table['unseen_group']} = not in CC-100. Source: {table['source']} "
            "(`retrieval_xfer/resources/language_resources.yaml`).\n",
            _markdown_table(group_headers, group_rows),
            "\n" + "\n".join(f"- {report.gain_trend(run)[1]}" for run in report.runs if run != report.baseline) + "\n",
        ]
    if report.alignment:
        parts += alignment_section(report)
    parts += [f"\n![{Path(p).stem}]({p})" for p in pictures]
    if report.sweeps:
        parts.append("\n## Layer sweeps\n")
        rows = []
        for run, tasks in report.sweeps.items():
            for task, by_layer in tasks.items():
                best = max(by_layer, key=lambda layer: by_layer[layer] if by_layer[layer] is not None else -math.inf)
                rows.append(
                    [
                        run,
                        task,
                        str(best),
                        _fmt(by_layer[best]),
                        ", ".join(f"{k}: {_fmt(v)}" for k, v in sorted(by_layer.items())),
                    ]
                )
        parts.append(_markdown_table(["run", "task", "best layer", "score", "by layer"], rows))
    parts.append("\n## Per language\n")
    for task in report.tasks:
        columns = [run for run in report.runs if any(run in v for v in report.languages[task].values())]
        rows = []
        for lang in sorted(report.languages[task]):
            by_run = report.languages[task][lang]
            size = table["sizes"].get(lang)
            cells = [lang, resource_group(lang), "–" if size is None else f"{size:g}"]
            for run in columns:
                value = by_run.get(run)
                base = by_run.get(report.baseline) if report.baseline else None
                cell = _fmt(value)
                shown = report.results.get((run, task))
                if value is not None and shown is not None:
                    cell += _interval(shown.intervals.get(lang))
                if value is not None and base is not None and run != report.baseline:
                    cell += f" ({value - base:+.2f})"
                cells.append(cell)
            rows.append(cells)
        parts += [
            f"\n### {task} ({_metric_label(task)})\n",
            _markdown_table(["lang", "group", table["unit"], *columns], rows),
        ]
    parts += [f"\n{note}" for note in report.notes]
    if report.ignored:
        parts.append(
            "\nOlder results replaced by a newer one of the same run and task: "
            + ", ".join(f"`{p}`" for p in report.ignored)
        )
    return "\n".join(parts) + "\n"


def seeds_section(report: Report) -> list[str]:
    """The table of runs trained with several seeds: each seed's score, their mean and standard deviation (none
    when no run has seeds)."""
    rows = [
        [
            run,
            task,
            ", ".join(str(r.seed) for r in result.seeds),
            ", ".join(_fmt(r.average) for r in result.seeds),
            _fmt(result.average),
            _fmt(seed_spread(result)),
        ]
        for (run, task), result in sorted(report.results.items())
        if result.seeds
    ]
    if not rows:
        return []
    return [
        "\n## Seeds\n",
        "Runs trained with several seeds: their scores above are the mean over the seeds, and their intervals draw "
        "both the evaluation's units and the seeds (each resample draws every language's units once, then as many "
        "seeds as there are, with replacement; a delta's interval draws each run's seeds on its own). With three "
        "seeds that second level is coarse: README, 'How sure is a delta?'.\n",
        _markdown_table(["run", "task", "seeds", "score per seed", "mean", "sd"], rows),
    ]


def resolve_baseline(paths: list[Path], baseline: str | None) -> tuple[list[Path], str | None]:
    """``rx report``'s ``--baseline``: a run name, or a run folder (its name is the run's; the folder is added
    to the searched ``paths`` when none of them holds it). Returns ``(paths to search, baseline run name)``."""
    search = list(paths)
    if baseline is None or not Path(baseline).is_dir():
        return search, baseline
    folder = Path(baseline).resolve()
    if not any(folder.is_relative_to(Path(p).resolve()) for p in paths):
        search.append(Path(baseline))
    return search, folder.name


def alignment_rows(report: Report) -> list[list[Any]]:
    """Per run with ``rx diagnose`` results, at its main layer: retrieval raw and centered, the centering gain,
    LID accuracy, alignment, uniformity, hubness; and the layer where the languages are most aligned."""
    rows = []
    for run, payload in sorted(report.alignment.items()):
        main = payload["layers"][str(payload["main_layer"])]["averages"]
        best = max(payload["layers"], key=lambda layer: payload["layers"][layer]["averages"]["alignment"])
        rows.append(
            [
                run,
                payload["main_layer"],
                main["en2xx"],
                main["en2xx_centered"],
                main["centering_gain"],
                main["lid_accuracy"],
                main["lid_chance"],
                main["alignment"],
                main["uniformity"],
                main["hubness"],
                int(best),
            ]
        )
    return rows


def alignment_section(report: Report) -> list[str]:
    """The "how aligned is each model" section: the table, and the centering gain by resource group."""
    headers = [
        "run",
        "layer",
        "en→xx",
        "centered",
        "gain",
        "LID",
        "LID chance",
        "alignment",
        "uniformity",
        "hubness",
        "most aligned layer",
    ]
    table = [
        [
            str(r[0]),
            str(r[1]),
            *[_fmt(v) for v in r[2:4]],
            _fmt(r[4], True),
            *[_fmt(v) for v in r[5:7]],
            f"{r[7]:.3f}",
            f"{r[8]:.3f}",
            f"{r[9]:.2f}",
            str(r[10]),
        ]
        for r in alignment_rows(report)
    ]
    groups = []
    for run, payload in sorted(report.alignment.items()):
        per_group: dict[str, list[float]] = {g: [] for g in group_names()}
        for lang, entry in payload["layers"][str(payload["main_layer"])]["languages"].items():
            per_group[resource_group(language_code(lang, load_card("tatoeba")))].append(entry["centering_gain"])
        groups.append([run, *[f"{_fmt(sum(v) / len(v), True)} (n={len(v)})" if v else "–" for v in per_group.values()]])
    return [
        "\n## How aligned is each model\n",
        "From `rx diagnose` (Tatoeba), at each run's main layer: en→xx accuracy raw and with each language's "
        "mean removed (transductive centering; the gain is the mean of both directions), the accuracy of a "
        "linear language-ID probe (lower = more language-neutral), alignment (mean translation cosine), "
        "uniformity (lower = more spread) and hubness (skew of the 10-occurrence counts).\n",
        _markdown_table(headers, table),
        "\nCentering gain by resource group (points):\n",
        _markdown_table(["run", *group_names()], groups),
    ]
