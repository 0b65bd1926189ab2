"""Percentile bootstrap confidence intervals over an evaluation's units (Efron & Tibshirani 1993; paired, as Koehn
2004 does for MT and Dror et al. 2018 recommend for NLP).

A score is a ratio of sums over units (queries, sentences, gold-or-predicted pairs): each unit has a row of counts
(``STATISTICS`` names the columns) and the score is a function of their column sums. A resample draws n units with
replacement, which is a multinomial weight per unit; the 2.5th and 97.5th percentiles of the resampled scores
bound the 95 % interval. A mean over groups (languages) resamples within each group independently. A paired
comparison applies the same weights to both systems' rows (the units must be the same), so the interval is that
of the delta itself. Weights come from ``numpy.random.default_rng((seed, group index))``: the same seed and data
give the same interval, and two results of the same data are resampled alike.

A system trained with several seeds adds a second level (Davison & Hinkley 1997's two-stage bootstrap): each
resample draws the units once for all seeds (they were scored on the same units), then as many seeds as there are
with replacement (their deviations widened by sqrt(S / (S - 1)), the small-sample correction of the bootstrap's
variance), and scores the mean over the drawn seeds; a paired delta draws each system's seeds on its own. With few
seeds the second level is coarse (three seeds: ten distinct draws), so the interval still under-covers a little
when the seeds' spread dominates the sample's (bench/seed_coverage.py measures it).
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


def _seed_means(systems: Sequence[Sequence[Sequence[Units]]], resamples: int, seed: int) -> list[np.ndarray]:
    """For each system (``systems[k][s][g]``: system k, training seed s, group g), a (seeds, resamples) array: each
    seed's mean over the groups under the same example draws. One draw per group serves every seed of every
    system: they were all scored on the group's same units."""
    groups = len(systems[0][0])
    if any(len(units) != groups for system in systems for units in system):
        raise RxError("paired results differ in their number of groups")
    means = [np.zeros((len(system), resamples)) for system in systems]
    for index in range(groups):
        flat = [units[index] for system in systems for units in system]
        if len({u.statistic for u in flat}) > 1:
            raise RxError(
                f"group {index}: the results score different statistics ({', '.join(u.statistic for u in flat)})"
            )
        scores = iter(resampled_scores(flat, resamples, seed, index))
        for table in means:
            for row in table:
                row += next(scores)
    return [table / groups for table in means]


def _over_seeds(means: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per resample, the mean of as many seeds as there are, drawn with replacement from the rows of ``means``
    (one row: no draw), each seed's deviation from their mean first widened by sqrt(S / (S - 1)): drawing S of S
    values with replacement gives their mean (S - 1) / S of its variance, a third too little at three seeds
    (bench/seed_coverage.py: coverage 90 % without, 93-94 % with, when the seeds' spread dominates)."""
    seeds, resamples = means.shape
    if seeds == 1:
        return means[0]
    centre = means.mean(axis=0)
    means = centre + (means - centre) * np.sqrt(seeds / (seeds - 1))
    picks = rng.integers(seeds, size=(resamples, seeds))
    return means[picks, np.arange(resamples)[:, None]].mean(axis=1)


SEED_STREAM = 2**32 - 1  # the group index of the generator that draws seeds (groups are numbered from 0)


def seeds_interval(
    seeds: Sequence[Sequence[Units]], resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """The 95 % interval of the mean over training seeds of the mean over groups (``seeds[s][g]``): each resample
    draws every group's units (once, for all seeds: they share the units), then as many seeds as there are with
    replacement, so the interval holds both the sample's variance and the seeds'."""
    if not seeds or not seeds[0]:
        raise RxError("no groups to average")
    means = _seed_means([seeds], resamples, seed)[0]
    return _bounds(_over_seeds(means, np.random.default_rng((seed, SEED_STREAM))))


def mean_interval(groups: Sequence[Units], resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """The 95 % interval of the mean of the groups' scores, each group resampled on its own."""
    return seeds_interval([groups], resamples, seed)


def paired_seeds_delta_interval(
    a: Sequence[Sequence[Units]], b: Sequence[Sequence[Units]], resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """The 95 % interval of mean(b) - mean(a), each a mean over its training seeds (``a[s][g]``) of the mean over
    paired groups: the same unit draws score every seed of both systems (paired), and each system's seeds are
    drawn with replacement on their own (a seed of one system has no partner in the other)."""
    if not a or not b or not a[0] or len(a[0]) != len(b[0]):
        raise RxError(
            f"paired results differ in their number of groups ({len(a[0]) if a else 0} and {len(b[0]) if b else 0})"
        )
    means_a, means_b = _seed_means([a, b], resamples, seed)
    rng = np.random.default_rng((seed, SEED_STREAM))
    return _bounds(_over_seeds(means_b, rng) - _over_seeds(means_a, rng))


def paired_delta_interval(
    a: Sequence[Units], b: Sequence[Units], resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """The 95 % interval of mean(b) - mean(a) over paired groups: each group's units are resampled once and the
    same draws score both systems (group i of ``a`` and of ``b`` must hold the same units, in the same order)."""
    return paired_seeds_delta_interval([a], [b], resamples, seed)
