"""Percentile bootstrap confidence intervals over an evaluation's units (Efron & Tibshirani 1993; paired, as Koehn
2004 does for MT and Dror et al. 2018 recommend for NLP).

A score is a ratio of sums over units (queries, sentences, gold-or-predicted pairs): each unit has a row of counts
(``STATISTICS`` names the columns) and the score is a function of their column sums. A resample draws n units with
replacement, which is a multinomial weight per unit; the 2.5th and 97.5th percentiles of the resampled scores
bound the 95 % interval. A mean over groups (languages) resamples within each group independently. A paired
comparison applies the same weights to both systems' rows (the units must be the same), so the interval is that
of the delta itself. Weights come from ``numpy.random.default_rng((seed, group index))``: the same seed and data
give the same interval, and two results of the same data are resampled alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval_xfer.errors import RxError

DEFAULT_RESAMPLES = 1000
LEVEL = 0.95


def _share(sums: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """x100 the first column's sum over the number of units: an accuracy (0/1 units) or a mean (units in [0, 1])."""
    return 100.0 * sums[..., 0] / np.maximum(n, 1)


def _f1(sums: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 100.0 * 2 * tp / np.maximum(denominator, 1), 0.0)


def _ratio(sums: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    return 100.0 * sums[..., 0] / np.maximum(sums[..., 1], 1)


# statistic name -> (columns of a unit's row, score of the column sums x100)
STATISTICS = {
    "accuracy": (("correct",), _share),
    "f1": (("tp", "fp", "fn"), _f1),
    "mean": (("value",), _share),  # a per-unit score in [0, 1] (QA's per-question F1), averaged
    "ratio": (("numerator", "denominator"), _ratio),  # e.g. UD-POS: correct words / words, units = sentences
}


@dataclass(frozen=True)
class Units:
    """One group's units for one metric: ``rows`` (n, columns) and the ``statistic`` that scores their sums."""

    statistic: str
    rows: np.ndarray

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise RxError(f"unknown statistic {self.statistic!r} (known: {', '.join(STATISTICS)})")
        columns = len(STATISTICS[self.statistic][0])
        if self.rows.ndim != 2 or self.rows.shape[1] != columns:
            raise RxError(f"{self.statistic} units need {columns} column(s), got shape {self.rows.shape}")

    def score(self) -> float:
        """The score of all units (what the evaluation reports)."""
        return float(STATISTICS[self.statistic][1](self.rows.sum(axis=0), len(self.rows)))

    def resampled_scores(self, weights: np.ndarray) -> np.ndarray:
        """The score under each row of ``weights`` (resamples x n multiplicities)."""
        sums = weights @ self.rows.astype(np.float64)
        return STATISTICS[self.statistic][1](sums, len(self.rows))


_CHUNK_CELLS = 1 << 22  # weights drawn at most this many (resample, unit) cells at a time: 16 MB


def resampled_scores(units: Sequence[Units], resamples: int, seed: int, group: int = 0) -> list[np.ndarray]:
    """Each of ``units``' scores under the same ``resamples`` draws of their n units with replacement
    (multinomial multiplicities from ``default_rng((seed, group))``, drawn in chunks so memory stays small)."""
    n = len(units[0].rows)
    if any(len(u.rows) != n for u in units):
        raise RxError(f"paired units differ in number ({', '.join(str(len(u.rows)) for u in units)})")
    rng = np.random.default_rng((seed, group))
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    parts: list[list[np.ndarray]] = [[] for _ in units]
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=size) if n else np.zeros((size, 0))
        for part, one in zip(parts, units):
            part.append(one.resampled_scores(weights.astype(np.float32)))
    return [np.concatenate(part) for part in parts]


def _bounds(samples: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(samples, [100 * (1 - LEVEL) / 2, 100 * (1 + LEVEL) / 2])
    return float(low), float(high)


def interval(units: Units, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, group: int = 0) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of ``units``' score."""
    return _bounds(resampled_scores([units], resamples, seed, group)[0])


def mean_interval(groups: Sequence[Units], resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """The 95 % interval of the mean of the groups' scores, each group resampled on its own."""
    if not groups:
        raise RxError("no groups to average")
    total = sum(resampled_scores([units], resamples, seed, index)[0] for index, units in enumerate(groups))
    return _bounds(total / len(groups))


def paired_delta_interval(
    a: Sequence[Units], b: Sequence[Units], resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """The 95 % interval of mean(b) - mean(a) over paired groups: each group's units are resampled once and the
    same draws score both systems (group i of ``a`` and of ``b`` must hold the same units, in the same order)."""
    if len(a) != len(b) or not a:
        raise RxError(f"paired results differ in their number of groups ({len(a)} and {len(b)})")
    total = np.zeros(resamples)
    for index, (units_a, units_b) in enumerate(zip(a, b)):
        if units_a.statistic != units_b.statistic:
            raise RxError(f"group {index}: one result scores {units_a.statistic}, the other {units_b.statistic}")
        scores_a, scores_b = resampled_scores([units_a, units_b], resamples, seed, index)
        total += scores_b - scores_a
    return _bounds(total / len(a))
