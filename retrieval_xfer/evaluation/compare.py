"""``rx compare A.json B.json``: each score's delta (B - A) between two results of one task on the same data, with
its paired bootstrap interval (the same resampled units score both results) and whether it holds (the interval
excludes 0); for every metric whose per-example outcomes both results kept, per group and for the mean over the
groups both have."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import DEFAULT_RESAMPLES, Units, paired_delta_interval
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


def _read(path: Path) -> dict[str, Any]:
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


def _aligned(a: GroupUnits, b: GroupUnits, group: str) -> tuple[Units, Units]:
    """The two results' units of one group, row for row: by position, or by key (a unit one result lacks is a row
    of zeros for it). F1 units must agree on which pairs are gold."""
    if a.keys is None or b.keys is None:
        if len(a.units.rows) != len(b.units.rows):
            raise RxError(f"{group}: the two results have {len(a.units.rows)} and {len(b.units.rows)} units")
        return a.units, b.units
    keys = sorted(set(a.keys.tolist()) | set(b.keys.tolist()))
    rows = []
    for one in (a, b):
        where = {key: i for i, key in enumerate(one.keys.tolist())}
        table = np.zeros((len(keys), one.units.rows.shape[1]), dtype=one.units.rows.dtype)
        for row, key in enumerate(keys):
            if key in where:
                table[row] = one.units.rows[where[key]]
        rows.append(table)
    if a.units.statistic == "f1" and not np.array_equal(rows[0][:, 0] + rows[0][:, 2], rows[1][:, 0] + rows[1][:, 2]):
        raise RxError(f"{group}: the two results were scored against different gold pairs")
    return Units(a.units.statistic, rows[0]), Units(b.units.statistic, rows[1])


def compare_results(
    path_a: Path, path_b: Path, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, only: str | None = None
) -> tuple[list[Delta], list[str]]:
    """The deltas B - A of every metric both results kept outcomes for (``only``: that metric alone), per shared
    group and for the mean over them, and notes (groups only one result has). RxError in one line when the
    results are of different tasks, metrics or data, or have no outcomes to resample."""
    names = (str(path_a), str(path_b))
    a, b = _read(path_a), _read(path_b)
    groups = [group for group in a.get("scores", {}) if group in b.get("scores", {})]
    _check_same_data(a, b, groups, names)
    metrics = [
        m for m in (a.get("outcomes") or {}).get("metrics", {}) if m in (b.get("outcomes") or {}).get("metrics", {})
    ]
    if not metrics:
        lacking = names[0] if not a.get("outcomes") else names[1]
        raise RxError(f"{lacking}: no per-example outcomes to resample (written before rx kept them); evaluate again")
    deltas: list[Delta] = []
    for metric in metrics:
        units_a, units_b = read_units(Path(path_a), a, metric), read_units(Path(path_b), b, metric)
        assert units_a is not None and units_b is not None
        shared = [group for group in groups if group in units_a and group in units_b]
        pairs = [_aligned(units_a[group], units_b[group], group) for group in shared]
        for index, (group, (one, other)) in enumerate(zip(shared, pairs)):
            low, high = paired_delta_interval([one], [other], resamples, seed + index)
            deltas.append(Delta(metric, group, one.score(), other.score(), low, high))
        if len(shared) > 1:
            low, high = paired_delta_interval([p[0] for p in pairs], [p[1] for p in pairs], resamples, seed)
            mean_a = float(np.mean([p[0].score() for p in pairs]))
            mean_b = float(np.mean([p[1].score() for p in pairs]))
            deltas.append(Delta(metric, "mean", mean_a, mean_b, low, high))
    unshared = sorted(set(a["scores"]) ^ set(b["scores"]))
    notes = [f"left out, in one result only: {', '.join(unshared)}"] if unshared else []
    return deltas, notes


def compare_table(deltas: list[Delta], notes: list[str]) -> str:
    """One row per metric and group: A, B, B - A, its 95 % paired interval, and "holds" when it excludes 0."""
    rows = [
        [d.metric, d.group, d.a, d.b, d.b - d.a, f"[{d.low:+.2f}, {d.high:+.2f}]", "holds" if d.holds else "-"]
        for d in deltas
    ]
    table = format_table(["metric", "group", "A", "B", "B - A", "95% CI (paired)", "delta"], rows)
    return "\n".join([table, *notes])
