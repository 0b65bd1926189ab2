"""Precision/recall/F1 over sets of id pairs, and the BUCC threshold search on gold alignments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

Pair = tuple[str, str]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1, each ×100, with the counts behind them."""

    precision: float
    recall: float
    f1: float
    n_predicted: int
    n_gold: int
    n_correct: int


def precision_recall_f1(predicted: Iterable[Pair], gold: set[Pair]) -> PRF:
    """Score a set of predicted ``(src_id, trg_id)`` pairs against gold pairs; all zero when nothing is correct."""
    predicted = set(predicted)
    correct = len(predicted & gold)
    if correct == 0:
        return PRF(0.0, 0.0, 0.0, len(predicted), len(gold), 0)
    p, r = correct / len(predicted), correct / len(gold)
    return PRF(100 * p, 100 * r, 100 * 2 * p * r / (p + r), len(predicted), len(gold), correct)


def best_threshold(scored: dict[Pair, float], gold: set[Pair]) -> float:
    """The score threshold that maximises F1 of ``{pair: score >= threshold}`` against ``gold``.

    As in LASER/XTREME: walk candidates from the highest score down; at the first best F1 the threshold is the
    midpoint between that candidate's score and the next one's (the candidate's own score when it is the last).
    Returns +inf when no candidate is correct (predict nothing).
    """
    ranked = sorted(scored.items(), key=lambda item: -item[1])
    best_f1, threshold, correct = 0.0, float("inf"), 0
    for i, (pair, score) in enumerate(ranked):
        correct += pair in gold
        if correct == 0:
            continue
        p, r = correct / (i + 1), correct / len(gold)
        f1 = 2 * p * r / (p + r)
        if f1 > best_f1:
            best_f1 = f1
            threshold = (score + ranked[i + 1][1]) / 2 if i + 1 < len(ranked) else score
    return threshold


def threshold_curve(scored: dict[Pair, float], gold: set[Pair], points: int = 20) -> list[tuple[float, PRF]]:
    """Precision, recall and F1 if only pairs scoring at least each threshold were kept: ``points`` thresholds
    spread over the scores of the candidates (quantiles), highest first."""
    scores = np.sort(np.fromiter(scored.values(), dtype=np.float64))[::-1]
    if not len(scores):
        return []
    picks = sorted(
        {float(scores[min(len(scores) - 1, int(q * (len(scores) - 1)))]) for q in np.linspace(0, 1, points)},
        reverse=True,
    )
    return [(t, precision_recall_f1([p for p, s in scored.items() if s >= t], gold)) for t in picks]
