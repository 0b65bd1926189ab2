"""One run trained with several seeds, read as one result: where each seed's results live, and the intervals of
the mean over seeds, which hold both the evaluation sample's variance and the seeds'.

Layout: ``results/<exp>/<run>/seed-<n>/<task>.json`` is seed ``n`` of run ``<run>`` (``rx experiment`` with
``seeds:`` writes it). A run's score is the mean over its seeds; its interval comes from a two-level bootstrap
(``bootstrap.seeds_interval``): each resample draws every language's units once (all seeds were scored on the
same units) and then as many seeds as there are, with replacement. With three seeds the seed level has only ten
distinct draws: the interval is honest about the sample and rough about the seeds (README, "How sure is a delta?").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import DEFAULT_RESAMPLES, seeds_interval
from retrieval_xfer.evaluation.compare import read_result_file, units_by_result

SEED_FOLDER = "seed-{}"
_SEED_PATTERN = re.compile(r"seed-(\d+)")
MEAN = "mean"  # the key of the interval of the mean over groups


def seed_folder(seed: int) -> str:
    """The folder name of seed ``seed``'s runs and results."""
    return SEED_FOLDER.format(seed)


def folder_seed(name: str) -> int | None:
    """The seed a folder named ``name`` holds, or None when it is not a seed folder."""
    match = _SEED_PATTERN.fullmatch(name)
    return int(match.group(1)) if match else None


def run_results(path: Path, task: str | None) -> list[Path]:
    """The result files ``path`` stands for: itself (a file), or in a run folder ``<task>.json``, else each seed's
    ``seed-<n>/<task>.json`` in seed order; RxError naming the folder when there is none (or no ``task``)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise RxError(f"{path}: no such result file or run folder")
    if task is None:
        raise RxError(f"{path}: a run folder; give --task to say which result in it to compare")
    if (path / f"{task}.json").is_file():
        return [path / f"{task}.json"]
    seeds = sorted(
        (folder_seed(folder.name), folder / f"{task}.json")
        for folder in path.iterdir()
        if folder_seed(folder.name) is not None and (folder / f"{task}.json").is_file()
    )
    if not seeds:
        raise RxError(f"{path}: no {task}.json in it nor in its seed-<n> folders")
    return [file for _, file in seeds]


def seeds_intervals(
    paths: Sequence[Path], metric: str, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """The 95 % interval of the mean over seeds (one result file each, of one task on the same data) per group
    both kept outcomes for, and of the mean over those groups (``MEAN``); empty when a result kept none."""
    payloads = [read_result_file(Path(path)) for path in paths]
    if any(metric not in (payload.get("outcomes") or {}).get("metrics", {}) for payload in payloads):
        return {}
    shared, per_seed = units_by_result(paths, payloads, metric, list(payloads[0].get("scores", {})))
    found = {
        group: seeds_interval([[units[index]] for units in per_seed], resamples, seed + index)
        for index, group in enumerate(shared)
    }
    if shared:
        found[MEAN] = seeds_interval(per_seed, resamples, seed)
    return found
