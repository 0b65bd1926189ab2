"""Bootstrap intervals: calibrated by simulation (a metric with a known true value), paired intervals of equal
systems rarely exclude 0, and each statistic matches an independent computation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import (
    Units,
    interval,
    mean_interval,
    paired_delta_interval,
    paired_seeds_delta_interval,
    seeds_interval,
)

SIMULATIONS = 1000
RESAMPLES = 500  # per simulated evaluation (rx's default is 1,000; 500 keeps the percentiles' noise small here)


def test_intervals_cover_the_true_accuracy_95_percent_of_the_time():
    """1,000 simulated evaluations of a system whose true accuracy is 70 % on 300 queries each."""
    rng = np.random.default_rng(20261205)
    covered = 0
    for simulation in range(SIMULATIONS):
        correct = (rng.random(300) < 0.70).astype(np.int8)[:, None]
        low, high = interval(Units("accuracy", correct), resamples=RESAMPLES, seed=simulation)
        covered += low <= 70.0 <= high
    assert 0.93 <= covered / SIMULATIONS <= 0.97, covered


def test_intervals_of_a_mean_over_languages_cover_the_true_mean():
    """Three languages of different sizes and accuracies (true mean 60 %), resampled within each language."""
    rng = np.random.default_rng(7)
    truth = {100: 0.45, 200: 0.60, 400: 0.75}
    covered = 0
    for simulation in range(SIMULATIONS):
        groups = [Units("accuracy", (rng.random(n) < p).astype(np.int8)[:, None]) for n, p in truth.items()]
        low, high = mean_interval(groups, resamples=RESAMPLES, seed=simulation)
        covered += low <= 60.0 <= high
    assert 0.93 <= covered / SIMULATIONS <= 0.97, covered


def test_paired_intervals_of_equal_systems_rarely_exclude_zero():
    """Two systems with the same true accuracy (80 %) on a Tatoeba language's 1,000 queries, correlated per query
    as real systems are (both find the easy queries): the paired interval of their delta excludes 0 in at most
    6 % of simulations (measured: 5.3 %; 5.6 % at 500 queries, 6.0 % at 250: the percentile bootstrap is a little
    liberal on small sets)."""
    rng = np.random.default_rng(11)
    excluded = 0
    for simulation in range(SIMULATIONS):
        difficulty = rng.random(1000)
        a = (difficulty + 0.15 * rng.standard_normal(1000) < 0.8).astype(np.int8)[:, None]
        b = (difficulty + 0.15 * rng.standard_normal(1000) < 0.8).astype(np.int8)[:, None]
        low, high = paired_delta_interval([Units("accuracy", a)], [Units("accuracy", b)], RESAMPLES, simulation)
        excluded += low > 0 or high < 0
    assert excluded / SIMULATIONS <= 0.06, excluded


def test_paired_intervals_find_a_real_difference():
    rng = np.random.default_rng(3)
    difficulty = rng.random(1000)
    a = (difficulty < 0.70).astype(np.int8)[:, None]
    b = (difficulty < 0.75).astype(np.int8)[:, None]  # b solves every query a solves, and 5 % more
    low, high = paired_delta_interval([Units("accuracy", a)], [Units("accuracy", b)])
    assert 0 < low <= 5.0 <= high


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_f1_units_score_the_f1_of_the_sets(items):
    """Units (one per gold-or-predicted pair: in both, predicted only, gold only) score the F1 of the sets."""
    gold = {i for i, (is_gold, _) in enumerate(items) if is_gold}
    predicted = {i for i, (is_gold, is_predicted) in enumerate(items) if is_predicted or not is_gold}
    units = sorted(gold | predicted)
    rows = np.array([[i in gold and i in predicted, i in predicted - gold, i in gold - predicted] for i in units])
    tp = len(gold & predicted)
    expected = 100 * 2 * tp / (len(gold) + len(predicted)) if gold or predicted else 0.0
    assert Units("f1", rows.astype(np.int32)).score() == pytest.approx(expected)
    low, high = interval(Units("f1", rows.astype(np.int32)), resamples=200)
    assert 0.0 <= low <= high <= 100.0


def test_the_same_seed_gives_the_same_interval_and_bad_units_are_refused():
    rows = (np.arange(100) % 3 == 0).astype(np.int8)[:, None]
    assert interval(Units("accuracy", rows), seed=5) == interval(Units("accuracy", rows), seed=5)
    with pytest.raises(RxError, match="1 column"):
        Units("accuracy", np.zeros((10, 3)))
    with pytest.raises(RxError, match="unknown statistic"):
        Units("median", rows)
    with pytest.raises(RxError, match="differ in number"):
        paired_delta_interval([Units("accuracy", rows)], [Units("accuracy", rows[:50])])


def _seeded_system(rng: np.random.Generator, difficulty: np.ndarray, seeds: int, spread: float) -> list[list[Units]]:
    """``seeds`` trainings of one system on the same queries: each seed's accuracy moves by N(0, spread), and every
    query keeps its difficulty across seeds (the seeds' outcomes are correlated, as real ones are)."""
    return [
        [
            Units(
                "accuracy",
                (
                    difficulty + 0.15 * rng.standard_normal(len(difficulty)) < 0.70 + spread * rng.standard_normal()
                ).astype(np.int8)[:, None],
            )
        ]
        for _ in range(seeds)
    ]


def test_intervals_over_seeds_cover_the_mean_over_seeds_and_queries():
    """Five seeds whose accuracies spread by 2 points, 300 queries: the two-level interval (queries, then seeds)
    covers the expected accuracy over seeds and queries (computed by Monte Carlo, independently of rx) in 93-97 %
    of 1,000 simulated evaluations (bench/seed_coverage.py has three seeds and larger spreads)."""
    rng = np.random.default_rng(20261206)
    draws = 4_000_000
    truth = 100 * np.mean(rng.random(draws) + np.hypot(0.15, 0.02) * rng.standard_normal(draws) < 0.70)
    covered = 0
    for simulation in range(SIMULATIONS):
        seeds = _seeded_system(rng, rng.random(300), 5, 0.02)
        low, high = seeds_interval(seeds, RESAMPLES, simulation)
        covered += low <= truth <= high
    assert 0.93 <= covered / SIMULATIONS <= 0.97, covered


def test_the_seed_level_draws_the_exact_distribution_of_a_mean_over_seeds():
    """Per-unit scores constant within each seed (no sample variance): the interval is that of the mean of four
    seeds drawn with replacement, their deviations from their mean widened by sqrt(4 / 3), whose exact
    distribution enumerates the 4**4 equally likely draws."""
    values = [10.0, 30.0, 35.0, 90.0]
    seeds = [[Units("mean", np.full((50, 1), v / 100))] for v in values]
    widened = np.mean(values) + (np.array(values) - np.mean(values)) * np.sqrt(4 / 3)
    exact = np.sort([np.mean(draw) for draw in itertools.product(widened, repeat=4)])
    low, high = seeds_interval(seeds, resamples=20_000, seed=1)
    assert np.quantile(exact, 0.015) <= low <= np.quantile(exact, 0.035)
    assert np.quantile(exact, 0.965) <= high <= np.quantile(exact, 0.985)


def test_one_seed_is_the_plain_interval_and_equal_seeds_add_nothing():
    rng = np.random.default_rng(5)
    groups = [Units("accuracy", (rng.random(n) < 0.6).astype(np.int8)[:, None]) for n in (80, 120)]
    assert seeds_interval([groups], seed=3) == mean_interval(groups, seed=3)
    assert seeds_interval([groups, groups, groups], seed=3) == pytest.approx(mean_interval(groups, seed=3))
    low, high = paired_seeds_delta_interval([groups, groups], [groups, groups, groups])
    assert low == pytest.approx(0.0, abs=1e-9) and high == pytest.approx(0.0, abs=1e-9)


def test_paired_intervals_over_seeds_widen_with_the_seeds_spread():
    """Equal systems (same true accuracy) with three seeds each: the seeds' spread widens the delta's interval."""
    rng = np.random.default_rng(9)
    difficulty = rng.random(1000)
    steady = paired_seeds_delta_interval(
        _seeded_system(rng, difficulty, 3, 0.0), _seeded_system(rng, difficulty, 3, 0.0)
    )
    shaky = paired_seeds_delta_interval(
        _seeded_system(rng, difficulty, 3, 0.04), _seeded_system(rng, difficulty, 3, 0.04)
    )
    assert shaky[1] - shaky[0] > 1.5 * (steady[1] - steady[0])
