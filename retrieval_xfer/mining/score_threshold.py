"""``rx score --threshold auto``: the margin threshold for a corpus of given pairs, from the corpus alone.

The given pairs are the sample. Each is tested against a null: the same corpus's sentences paired at random (the
source of pair i with the target of another pair) are what a misaligned pair scores, once their neighbourhoods are
taken without their nearest neighbour (``given_pairs.neighbourhood_means``): a misaligned pair's sentences have no
translation in the other side, so their neighbourhoods are poorer, their margins higher than a random pairing of
two translated sentences would have. Storey's estimate (Storey 2002, the q-value's) gives the share of noise
among the given pairs, ``pi0 = P(score <= l) / 0.9`` with ``l`` the null's 90th percentile (translations rarely
score as low as nine random pairings in ten; a higher percentile than Storey's usual median, so that noise which
scores a little above random pairs is still counted); then at each threshold t the expected share of noise among
the pairs kept is ``pi0 * P_null(score >= t) / P(score >= t)``, the expected precision one minus that (made
non-increasing as t falls), and the expected recall of the translations
``(P(score >= t) - pi0 * P_null(score >= t)) / (1 - pi0)``.
With the ``precision`` objective the threshold is the lowest t whose expected precision still reaches
``target_precision``; with ``f1`` the t of the best expected F1 (fewer noisy pairs kept, a few more good ones lost).

How this differs from ``rx mine --threshold auto`` (``auto_threshold``): mining has no given pairs, so it hides a
known-clean parallel sample among the corpus and measures how often a sentence is paired rightly; scoring has
the pairs and needs no sample, but its null is random pairing. Noise that scores above random pairs (a
translation of the neighbouring line in a document, a copy, a sentence with its numbers changed) is not counted
as noise by this estimate: ``rx score``'s checks (language, copies, numbers, length) are what catch those.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.options import AUTO_OBJECTIVES

NULL_PAIRS = 200_000  # random pairings scored for the null (at most)
NULL_PER_PAIR = 20  # and at most this many per given pair
JUDGED_SHARE = 0.1  # the precision is judged where at least this share of the pairs is kept
NOISE_QUANTILE = 0.9  # Storey's lambda: the null's quantile below which the noise share is counted
MIN_PAIRS = 50


@dataclass(frozen=True)
class GivenPairsThreshold:
    """The chosen ``threshold``, the precision it is expected to give, the estimated share of noise, and the
    sizes it was estimated from."""

    threshold: float
    objective: str
    target_precision: float
    expected_precision: float
    expected_recall: float
    noise_share: float
    kept_share: float
    pairs: int
    null_pairs: int
    method: str = "given pairs against random pairings of the same corpus (Storey's pi0, expected precision)"

    def to_dict(self) -> dict:
        return asdict(self)


def null_pairs(count: int, pairs: int = NULL_PAIRS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``min(pairs, NULL_PER_PAIR * count)`` random pairings of ``count`` given pairs, (i, j) with j != i: the
    source of pair i with the target of pair j."""
    if count < 2:
        raise RxError(f"--threshold auto needs at least {MIN_PAIRS} scored pairs, not {count}")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, count, size=min(pairs, NULL_PER_PAIR * count))
    second = (first + rng.integers(1, count, size=len(first))) % count
    return first, second


def estimate_given_threshold(
    scores: np.ndarray, null_scores: np.ndarray, objective: str = "precision", target_precision: float = 0.95
) -> GivenPairsThreshold:
    """The threshold of ``scores`` (the given pairs' margins) expected to keep pairs of which ``target_precision``
    are translations (``objective`` ``"f1"``: the best expected F1), against ``null_scores`` (random pairings'
    margins); see the module. RxError in one line when there are too few pairs, or when no threshold reaches the
    target (the pairs score like random ones)."""
    scores, null_scores = np.asarray(scores, dtype=np.float64), np.sort(np.asarray(null_scores, dtype=np.float64))
    if len(scores) < MIN_PAIRS:
        raise RxError(f"--threshold auto needs at least {MIN_PAIRS} scored pairs, not {len(scores)}")
    if objective not in AUTO_OBJECTIVES:
        raise RxError(f"--objective {objective!r}: choose one of {', '.join(AUTO_OBJECTIVES)}")
    if not 0 < target_precision <= 1:
        raise RxError(f"--target-precision {target_precision}: choose a value in (0, 1]")
    below = float(np.quantile(null_scores, NOISE_QUANTILE))
    noise = float(min(1.0, np.mean(scores <= below) / NOISE_QUANTILE))
    grid = np.sort(scores)[::-1]  # every given score, high to low: keeping the pairs at or above it
    kept = np.arange(1, len(grid) + 1) / len(grid)
    null_above = (len(null_scores) - np.searchsorted(null_scores, grid, side="left")) / len(null_scores)
    # judged only where at least a tenth of the pairs (and 10) are kept: above, a handful of pairs and the null's
    # top (random pairings that hit a real translation: a shifted or repeated line) decide the estimate
    judged = kept * len(grid) >= max(min(10, len(grid)), JUDGED_SHARE * len(grid))
    raw = 1.0 - np.minimum(1.0, noise * null_above / kept)
    precision = np.where(judged, np.minimum.accumulate(np.where(judged, raw, np.inf)), 0.0)
    recall = np.clip((kept - noise * null_above) / max(1.0 - noise, 1e-12), 0.0, 1.0)
    if objective == "f1":
        f1 = np.where(judged, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
        reaching = np.flatnonzero(f1 == f1.max()) if f1.max() > 0 else np.zeros(0, dtype=np.int64)
    else:
        reaching = np.flatnonzero(judged & (precision >= target_precision))
    if not len(reaching):
        goal = f"precision {target_precision}" if objective == "precision" else "an F1 above 0"
        raise RxError(
            f"--threshold auto: no threshold gives {goal}; the given pairs score like random "
            f"pairings of the same sentences (noise share estimated {noise:.2f}): are the files line-aligned "
            "translations of each other?"
        )
    last = int(reaching[-1])
    while last + 1 < len(grid) and grid[last + 1] == grid[last]:
        last += 1  # a tie keeps all its pairs
    return GivenPairsThreshold(
        threshold=float(grid[last]),
        objective=objective,
        target_precision=target_precision,
        expected_precision=float(precision[last]),
        expected_recall=float(recall[last]),
        noise_share=noise,
        kept_share=float(kept[last]),
        pairs=len(scores),
        null_pairs=len(null_scores),
    )
