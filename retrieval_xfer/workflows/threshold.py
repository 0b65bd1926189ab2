"""Choosing a mining threshold on a small gold set (``rx tune-threshold``): a pairs file written by ``rx mine`` and
gold ``src_id<TAB>trg_id`` pairs in, the F1-vs-threshold curve and the best threshold (BUCC's rule) out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.data.text_files import iter_lines, read_gold_pairs
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.threshold import PRF, Pair, best_threshold, precision_recall_f1, threshold_curve


@dataclass
class ThresholdReport:
    """The best threshold on the gold, what it gives, and the curve (threshold, precision/recall/F1)."""

    best: float
    at_best: PRF
    curve: list[tuple[float, PRF]]
    gold_pairs: int
    gold_missing: int


def _read_pairs(path: Path) -> dict[Pair, float]:
    scored: dict[Pair, float] = {}
    for number, line in iter_lines(path):
        fields = line.split("\t")
        try:
            score = float(fields[0])
        except (ValueError, IndexError):
            raise RxError(
                f"{path}:{number}: expected score<TAB>src_id<TAB>trg_id (a file written by rx mine)"
            ) from None
        if len(fields) < 3:
            raise RxError(f"{path}:{number}: expected score<TAB>src_id<TAB>trg_id (a file written by rx mine)")
        if not math.isfinite(score):
            raise RxError(f"{path}:{number}: score {fields[0]} is not a finite number")
        for src in fields[1].split(","):  # a duplicated sentence lists all its ids
            for trg in fields[2].split(","):
                scored[(src, trg)] = max(score, scored.get((src, trg), score))
    if not scored:
        raise RxError(f"{path}: no pairs")
    return scored


def tune_threshold(pairs_file: Path, gold_file: Path, points: int = 20) -> ThresholdReport:
    """The threshold that maximises F1 of ``pairs_file`` against ``gold_file`` (midpoint rule of BUCC/LASER) and
    the curve. Gold pairs that are not among the mined candidates can never be found: they are counted."""
    scored, gold = _read_pairs(Path(pairs_file)), read_gold_pairs(Path(gold_file))
    best = best_threshold(scored, gold)
    at_best = precision_recall_f1([p for p, s in scored.items() if s >= best], gold)
    return ThresholdReport(best, at_best, threshold_curve(scored, gold, points), len(gold), len(gold - set(scored)))
