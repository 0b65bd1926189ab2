"""How an evaluator attaches confidence intervals and keeps its per-example outcomes: ``BootstrapOptions``
(``--bootstrap N``, ``--bootstrap-seed``), declared once for every evaluator that has units, and
``attach_outcomes``, which adds each score's 95 % interval to a result payload and hands the units to
``write_results``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retrieval_xfer.evaluation.bootstrap import DEFAULT_RESAMPLES, Units, interval, mean_interval
from retrieval_xfer.evaluation.outcomes import OUTCOMES_KEY, unit_arrays
from retrieval_xfer.field_checks import check_fields

UNITS_KEY = "_units"  # a per-language score's units ({metric: Units}), moved from the scores to the outcomes file


@dataclass(frozen=True)
class BootstrapOptions:
    """How many bootstrap resamples give each score's 95 % interval, and their seed."""

    bootstrap: int = field(
        default=DEFAULT_RESAMPLES,
        metadata={
            "help": "Resamples of each score's 95 % confidence interval (percentile bootstrap over the evaluation's "
            "units: queries, gold-or-predicted pairs; a mean over languages resamples within each); 0: no "
            "intervals. Per-example outcomes are kept beside the result either way (rx compare uses them).",
            "min": 0,
        },
    )
    bootstrap_seed: int = field(default=0, metadata={"help": "Seed of the bootstrap resamples.", "min": 0})

    def __post_init__(self) -> None:
        check_fields(self)


def attach_outcomes(
    payload: dict[str, Any],
    units: dict[str, dict[str, Units]],
    options: BootstrapOptions,
    extra: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """``payload`` with, for each metric of ``units`` (metric -> group -> units), a ``ci95`` [low, high] in each
    group's scores and in the averages (resampled within each group), the bootstrap's settings and seconds, and
    the units (plus ``extra`` arrays) handed to ``write_results`` for the outcomes file. ``options.bootstrap`` 0:
    the outcomes only."""
    tic = time.perf_counter()
    scores, averages = payload["scores"], payload["averages"]
    if options.bootstrap:
        for metric, groups in units.items():
            for index, (group, one) in enumerate(groups.items()):
                low, high = interval(one, options.bootstrap, options.bootstrap_seed, index)
                scores[group].setdefault("ci95", {})[metric] = [low, high]
            if groups:
                low, high = mean_interval(list(groups.values()), options.bootstrap, options.bootstrap_seed)
                averages.setdefault("ci95", {})[metric] = [low, high]
    arrays = {name: rows for metric, groups in units.items() for name, rows in unit_arrays(metric, groups).items()}
    if not arrays:  # an evaluator (a plug-in's) that scores no units: no outcomes file, no intervals
        return payload
    payload[OUTCOMES_KEY] = {
        "arrays": {**arrays, **(extra or {})},
        "metrics": {metric: next(iter(groups.values())).statistic for metric, groups in units.items() if groups},
    }
    payload["bootstrap"] = {
        "resamples": options.bootstrap,
        "seed": options.bootstrap_seed,
        "method": "percentile bootstrap over units, 95 %; a mean over groups resamples within each group",
        "seconds": round(time.perf_counter() - tic, 3),
    }
    return payload


def interval_text(scores: dict[str, Any], metric: str) -> str:
    """``[low, high]`` of ``metric`` in a scores block, or "—" without one (no outcomes, or --bootstrap 0)."""
    bounds = scores.get("ci95", {}).get(metric)
    return f"[{bounds[0]:.1f}, {bounds[1]:.1f}]" if bounds else "—"
