"""How well the intervals over seeds cover (issue 28): simulated evaluations of a system trained with S seeds whose
accuracies spread by N(0, tau) points around 70 %, on n queries whose difficulty every seed shares; the share of
95 % intervals (``bootstrap.seeds_interval``: queries, then seeds) that hold the expected accuracy over seeds and
queries (computed by Monte Carlo), and the share of paired intervals of two equal systems that exclude 0.

usage: python bench/seed_coverage.py [--simulations 1000] [--queries 300]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import machine

from retrieval_xfer.evaluation.bootstrap import Units, paired_seeds_delta_interval, seeds_interval

RESAMPLES = 500


def system(rng: np.random.Generator, difficulty: np.ndarray, seeds: int, spread: float) -> list[list[Units]]:
    """``seeds`` trainings of one system: each seed's accuracy moves by N(0, spread); queries keep their
    difficulty across seeds."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.simulations} simulations, {args.queries} queries, {RESAMPLES} resamples")
    print("| seeds | seed spread (points) | coverage | mean width | equal systems: delta holds |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(20261205)
    for spread in (0.0, 0.02, 0.05):
        draws = 4_000_000
        truth = 100 * np.mean(rng.random(draws) + np.hypot(0.15, spread) * rng.standard_normal(draws) < 0.70)
        for seeds in (3, 5, 10):
            covered, widths, false_holds = 0, [], 0
            for simulation in range(args.simulations):
                difficulty = rng.random(args.queries)
                one = system(rng, difficulty, seeds, spread)
                low, high = seeds_interval(one, RESAMPLES, simulation)
                covered += low <= truth <= high
                widths.append(high - low)
                low, high = paired_seeds_delta_interval(
                    one, system(rng, difficulty, seeds, spread), RESAMPLES, simulation
                )
                false_holds += low > 0 or high < 0
            print(
                f"| {seeds} | {100 * spread:.0f} | {100 * covered / args.simulations:.1f} % | "
                f"{np.mean(widths):.2f} | {100 * false_holds / args.simulations:.1f} % |"
            )


if __name__ == "__main__":
    main()
