"""``rx compare A.json B.json``: each score's delta (B - A) between two results of one task on the same data, with
its paired bootstrap interval (the same resampled units score both results) and whether it holds (the interval
excludes 0); for every metric whose per-example outcomes both results kept, per group and for the mean over the
groups both have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import DEFAULT_RESAMPLES, Units, paired_seeds_delta_interval
from retrieval_xfer.evaluation.outcomes import GroupUnits, read_units
from retrieval_xfer.evaluation.results import format_table
from retrieval_xfer.json_file import read_json_object

_SAME_DATA = ("sha256", "n", "evaluated_on")  # a group's fields that say which data it was scored on


@dataclass(frozen=True)
class Delta:
    """One metric's delta (B - A) on one group (or ``mean``), its 95 % paired interval, and whether it holds."""

    metric: str
    group: str
    a: float
    b: float
    low: float
    high: float

    @property
    def holds(self) -> bool:
        """Whether the interval excludes 0."""
        return self.low > 0 or self.high < 0


def read_result_file(path: Path) -> dict[str, Any]:
    """A result file's JSON object; RxError naming the file when it is missing, unreadable or not a result."""
    return read_json_object(Path(path), "result file", missing=f"{path}: no such result file", required=("task",))


def _check_same_data(a: dict[str, Any], b: dict[str, Any], groups: list[str], names: tuple[str, str]) -> None:
    if a["task"] != b["task"]:
        raise RxError(f"{names[0]} is a {a['task']} result and {names[1]} a {b['task']} result: compare one task")
    if a.get("metric") != b.get("metric"):
        raise RxError(f"{names[0]} and {names[1]} score different metrics ({a.get('metric')!r}, {b.get('metric')!r})")
    if not groups:
        raise RxError(f"{names[0]} and {names[1]} share no language or pair")
    for group in groups:
        for key in _SAME_DATA:
            one, other = a["scores"][group].get(key), b["scores"][group].get(key)
            if one != other:
                raise RxError(f"{group}: the two results were scored on different data ({key} {one!r} vs {other!r})")


def aligned_units(groups: Sequence[GroupUnits], group: str) -> list[Units]:
    """Several results' units of one group, row for row: by position, or by key (a unit a result lacks is a row of
    zeros for it). F1 units must agree on which pairs are gold."""
    if any(one.keys is None for one in groups):
        counts = {len(one.units.rows) for one in groups}
        if len(counts) > 1:
            raise RxError(f"{group}: the results have {' and '.join(str(len(g.units.rows)) for g in groups)} units")
        return [one.units for one in groups]
    keys = sorted(set().union(*(one.keys.tolist() for one in groups)))
    rows = []
    for one in groups:
        where = {key: i for i, key in enumerate(one.keys.tolist())}
        table = np.zeros((len(keys), one.units.rows.shape[1]), dtype=one.units.rows.dtype)
        for row, key in enumerate(keys):
            if key in where:
                table[row] = one.units.rows[where[key]]
        rows.append(table)
    if groups[0].units.statistic == "f1" and any(
        not np.array_equal(rows[0][:, 0] + rows[0][:, 2], other[:, 0] + other[:, 2]) for other in rows[1:]
    ):
        raise RxError(f"{group}: the results were scored against different gold pairs")
    return [Units(one.units.statistic, table) for one, table in zip(groups, rows)]


def units_by_result(
    paths: Sequence[Path], payloads: Sequence[dict[str, Any]], metric: str, groups: Sequence[str]
) -> tuple[list[str], list[list[Units]]]:
    """The groups (of ``groups``, in order) every result kept ``metric``'s units for, and each result's units of
    those groups, aligned row for row across the results (``aligned_units``)."""
    read = [read_units(Path(path), payload, metric) or {} for path, payload in zip(paths, payloads)]
    shared = [group for group in groups if all(group in units for units in read)]
    aligned = [aligned_units([units[group] for units in read], group) for group in shared]  # [group][result]
    return shared, [[row[r] for row in aligned] for r in range(len(paths))]


def _as_list(paths: Path | Sequence[Path]) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def compare_results(
    path_a: Path | Sequence[Path],
    path_b: Path | Sequence[Path],
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    only: str | None = None,
) -> tuple[list[Delta], list[str]]:
    """The deltas B - A of every metric both results kept outcomes for (``only``: that metric alone), per shared
    group and for the mean over them, and notes (groups only one result has). A side given as several results
    is one system trained with several seeds: its score is the mean over them, and the interval draws the seeds
    too (``bootstrap.paired_seeds_delta_interval``). RxError in one line when the results are of different tasks,
    metrics or data, or have no outcomes to resample."""
    paths_a, paths_b = _as_list(path_a), _as_list(path_b)
    every = paths_a + paths_b
    payloads = [read_result_file(path) for path in every]
    groups = [g for g in payloads[0].get("scores", {}) if all(g in p.get("scores", {}) for p in payloads)]
    for path, payload in zip(every[1:], payloads[1:]):
        _check_same_data(payloads[0], payload, groups, (str(every[0]), str(path)))
    metrics = [m for m in (payloads[0].get("outcomes") or {}).get("metrics", {}) if only in (None, m)]
    metrics = [m for m in metrics if all(m in (p.get("outcomes") or {}).get("metrics", {}) for p in payloads)]
    if not metrics:
        lacking = next((path for path, p in zip(every, payloads) if not p.get("outcomes")), every[0])
        raise RxError(f"{lacking}: no per-example outcomes to resample (written before rx kept them); evaluate again")
    deltas: list[Delta] = []
    for metric in metrics:
        shared, by_result = units_by_result(every, payloads, metric, groups)
        side_a, side_b = by_result[: len(paths_a)], by_result[len(paths_a) :]
        for index, group in enumerate(shared):
            low, high = paired_seeds_delta_interval(
                [[s[index]] for s in side_a], [[s[index]] for s in side_b], resamples, seed + index
            )
            deltas.append(Delta(metric, group, _mean(side_a, [index]), _mean(side_b, [index]), low, high))
        if len(shared) > 1:
            low, high = paired_seeds_delta_interval(side_a, side_b, resamples, seed)
            every_group = list(range(len(shared)))
            deltas.append(Delta(metric, "mean", _mean(side_a, every_group), _mean(side_b, every_group), low, high))
    unshared = sorted(set().union(*(p["scores"] for p in payloads)) - set(groups))
    notes = [f"left out, not in every result: {', '.join(unshared)}"] if unshared else []
    return deltas, notes


def _mean(side: list[list[Units]], groups: list[int]) -> float:
    """The mean over seeds of the mean over ``groups`` of the scores."""
    return float(np.mean([np.mean([seed_units[g].score() for g in groups]) for seed_units in side]))


def compare_table(deltas: list[Delta], notes: list[str]) -> str:
    """One row per metric and group: A, B, B - A, its 95 % paired interval, and "holds" when it excludes 0."""
    rows = [
        [d.metric, d.group, d.a, d.b, d.b - d.a, f"[{d.low:+.2f}, {d.high:+.2f}]", "holds" if d.holds else "-"]
        for d in deltas
    ]
    table = format_table(["metric", "group", "A", "B", "B - A", "95% CI (paired)", "delta"], rows)
    return "\n".join([table, *notes])
