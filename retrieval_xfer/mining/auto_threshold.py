"""``rx mine --threshold auto``: choose the margin threshold for this encoder and language pair without gold.

A known parallel sample (``--sample-src``/``--sample-trg``, line i translating line i) is hidden among the
corpus's own sentences and mined with the job's k, margin and retrieval: a third of the sample with both sides,
a third with only its sources, a third with only its targets, taking the place of as many corpus rows (a margin
depends on how crowded the neighbourhood is, so the set is kept as crowded as the corpus; above
``max_distractors`` rows per side, a random part of the corpus stands for it). The sample then shows, at every
threshold t, how often a sentence whose translation is there is paired rightly (``tp``) or at all (``any``), and
how often a sentence without one still gets a pair (``fp``). The corpus's own candidates give the share of its
sentences paired at t, from which the share ``pi`` of sentences that have a translation is estimated (least
squares of ``paired(t) = pi * any(t) + (1 - pi) * fp(t)``). The expected precision at t is
``pi * tp / (pi * any + (1 - pi) * fp)``, judged where at least a tenth of the sample's pairs are above t and
made non-increasing as t falls (a running minimum from there, so a lucky dip in a small sample is not chosen);
the threshold is the lowest t where it still reaches the target. The
expected recall is ``tp`` there. With the ``f1`` objective the threshold is instead the one whose expected F1
(from that precision and recall) is highest: what a BUCC-style F1-optimal threshold is, estimated without gold,
at a precision that is then whatever the data gives.

How close the expectation comes on real text: bench/real_mining.py and README ("How good is the mining on real
text").
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.candidates import Candidates, candidates_from_neighbours
from retrieval_xfer.mining.neighbours import find_neighbours
from retrieval_xfer.mining.options import AUTO_OBJECTIVES, MINE_OBJECTIVE, AutoThresholdOptions, MiningOptions
from retrieval_xfer.vectors import ArrayVectors, VectorSet, sample_rows

MIN_SAMPLE = 50


@dataclass(frozen=True)
class ThresholdEstimate:
    """The chosen ``threshold`` and what it is expected to give: precision and recall on the sample, with the
    sample and distractor sizes it was measured on."""

    threshold: float
    objective: str
    target_precision: float
    expected_precision: float
    expected_recall: float
    share_with_translation: float
    sample_pairs: int
    distractors: tuple[int, int]
    method: str = "parallel sample hidden in the corpus (thirds: both sides, source only, target only)"

    def to_dict(self) -> dict:
        return asdict(self)


def _best_per_row(src: np.ndarray, trg: np.ndarray, score: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each source row's best candidate score (-inf: none) and target (-1: none)."""
    best, target = np.full(rows, -np.inf), np.full(rows, -1)
    order = np.lexsort((-score, src))
    first = np.r_[True, src[order][1:] != src[order][:-1]] if len(order) else np.zeros(0, bool)
    chosen = order[first]
    best[src[chosen]], target[src[chosen]] = score[chosen], trg[chosen]
    return best, target


def _share_at_least(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    ordered = np.sort(values)
    return (len(ordered) - np.searchsorted(ordered, grid, side="left")) / max(1, len(ordered))


def check_sample_size(pairs: int, corpus_rows: tuple[int, int], where: str = "the parallel sample") -> None:
    """RxError, before any encoding, for a sample too small to estimate from (fewer than ``MIN_SAMPLE`` pairs) or
    too large for the corpus: the sample puts two thirds of its pairs on each side in place of corpus rows, so
    a side of the corpus must have more rows than that, or the sample would be judged among none of them."""
    if pairs < MIN_SAMPLE:
        raise RxError(f"{where} has {pairs} pairs; --threshold auto needs at least {MIN_SAMPLE}")
    smallest = min(corpus_rows)
    if 2 * (pairs // 3) >= smallest:
        raise RxError(
            f"{where} has {pairs} pairs, too many for a corpus side of {smallest} sentences: two thirds of the "
            f"sample take the place of corpus rows, so give at most {3 * ((smallest - 1) // 2) + 2} pairs"
        )


def estimate_threshold(
    sample_x: np.ndarray,
    sample_y: np.ndarray,
    corpus_x: VectorSet,
    corpus_y: VectorSet,
    corpus_candidates: Candidates,
    settings: MiningOptions,
    auto: AutoThresholdOptions | None = None,
) -> ThresholdEstimate:
    """The threshold at which mining ``corpus_x`` against ``corpus_y`` (whose candidates are
    ``corpus_candidates``) is expected to reach ``auto.target_precision``, from the parallel sample ``(sample_x[i],
    sample_y[i])`` mined among at most ``auto.max_distractors`` corpus rows per side with ``settings`` (resolved:
    k, margin, retrieval, centering, device; the sample's k-NN is always exact and in this process); with
    ``auto.objective`` ``"f1"``, the threshold of the best expected F1 instead. See the module."""
    auto = auto or AutoThresholdOptions()
    objective = auto.objective or MINE_OBJECTIVE
    target_precision, max_distractors = auto.target_precision, auto.max_distractors
    n = len(sample_x)
    if len(sample_y) != n:
        raise RxError(f"the parallel sample has {n} source and {len(sample_y)} target lines: they must pair up")
    check_sample_size(n, (len(corpus_x), len(corpus_y)))
    if objective not in AUTO_OBJECTIVES:
        raise RxError(f"--objective {objective!r}: choose one of {', '.join(AUTO_OBJECTIVES)}")
    if not 0 < target_precision <= 1:
        raise RxError(f"--target-precision {target_precision}: choose a value in (0, 1]")
    # thirds of the sample: [0, third) with both sides present, [third, 2 third) with only the source, the last
    # third with only the target, so both sides get unpaired sentences, as a corpus has
    third = n // 3
    # as many rows per side as the corpus has (the sample takes the place of some of its rows): a margin depends
    # on how crowded the neighbourhood is, so the sample must be judged in a set as crowded as the corpus
    distract_x = sample_rows(corpus_x, max(0, min(max_distractors, len(corpus_x)) - 2 * third), seed=1)
    distract_y = sample_rows(corpus_y, max(0, min(max_distractors, len(corpus_y)) - 2 * third), seed=2)
    x = ArrayVectors(
        np.concatenate([sample_x[: 2 * third], distract_x]).astype(np.float32), "the sample and the corpus"
    )
    y_rows = [sample_y[:third], sample_y[2 * third : 3 * third], distract_y]
    y = ArrayVectors(np.concatenate(y_rows).astype(np.float32), "the sample and the corpus")
    found = find_neighbours(x, y, dataclasses.replace(settings, index=IndexOptions(), ray=None))
    mined = candidates_from_neighbours(found.neighbours, settings.margin, settings.retrieval)
    best, target = _best_per_row(mined.src, mined.trg, mined.score, len(x))
    with_pair, right, without_pair = best[:third], target[:third] == np.arange(third), best[third : 2 * third]
    grid = np.unique(best[: 2 * third][np.isfinite(best[: 2 * third])])[
        ::-1
    ]  # every score a sample row reached, high to low
    if not len(grid):
        raise RxError("--threshold auto: no sample sentence was paired at all; check the sample's languages")
    any_pair = _share_at_least(with_pair, grid)
    right_pair = _share_at_least(np.where(right, with_pair, -np.inf), grid)
    false_pair = _share_at_least(without_pair, grid)
    corpus_best, _ = _best_per_row(corpus_candidates.src, corpus_candidates.trg, corpus_candidates.score, len(corpus_x))
    paired = _share_at_least(corpus_best, grid)
    gap = np.where((any_pair > 0.05) & (any_pair < 0.95), any_pair - false_pair, 0.0)  # the informative range
    pi = float(np.clip(((paired - false_pair) * gap).sum() / max(float((gap * gap).sum()), 1e-12), 1e-3, 1.0))
    model = pi * any_pair + (1 - pi) * false_pair
    precision = np.where(model > 0, pi * right_pair / np.maximum(model, 1e-12), 0.0)
    # judged only where at least a tenth of the sample's pairs (and 10) are above t: higher up, one wrong pair
    # among a handful moves the estimate by several points and would stop the search at the very top
    enough = any_pair * third >= max(min(10, third), 0.1 * third)
    steady = np.minimum.accumulate(np.where(enough, precision, np.inf))
    if objective == "f1":
        judged = np.where(enough, steady, 0.0)  # steady is inf where not judged
        f1 = np.where(enough, 2 * judged * right_pair / np.maximum(judged + right_pair, 1e-12), -1.0)
        last = int(f1.argmax())
        if f1[last] <= 0:
            raise RxError("--threshold auto: the sample gives no usable F1; check the sample's languages")
    else:
        reaching = np.flatnonzero(enough & (steady >= target_precision))
        if not len(reaching):
            raise RxError(
                f"--threshold auto: no threshold reaches precision {target_precision} on the sample "
                f"(best {precision[enough].max(initial=0):.3f}); lower --target-precision or check the sample"
            )
        last = int(reaching[-1])
    return ThresholdEstimate(
        threshold=float(grid[last]),
        objective=objective,
        target_precision=target_precision,
        expected_precision=float(steady[last]),
        expected_recall=float(right_pair[last]),
        share_with_translation=pi,
        sample_pairs=n,
        distractors=(len(distract_x), len(distract_y)),
    )
