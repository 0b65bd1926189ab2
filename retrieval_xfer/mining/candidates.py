"""Candidate pairs from margin scores in both directions, under the four retrieval rules of LASER/XTREME."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.knn import knn
from retrieval_xfer.mining.margin import margin_scores
from retrieval_xfer.mining.options import RETRIEVALS



@dataclass
class Candidates:
    """Mined pairs: ``src[i]`` (row of x) ↔ ``trg[i]`` (row of y) with margin ``score[i]``, best first."""

    src: np.ndarray
    trg: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)


def _sorted(src: np.ndarray, trg: np.ndarray, score: np.ndarray) -> Candidates:
    order = np.argsort(-score, kind="stable")
    return Candidates(src[order], trg[order], score[order])


def mine_candidates(x: np.ndarray, y: np.ndarray, k: int = 4, margin: str = "ratio",
                    retrieval: str = "max", show_progress: bool = False) -> Candidates:
    """Mine candidate pairs between unit vectors x (sources) and y (targets).

    fwd: each source with its best-scoring target among its k neighbours; bwd: each target with its best source;
    intersect: pairs that are best in both directions; max: the union of fwd and bwd taken greedily by score,
    keeping each source and each target at most once (the XTREME/LASER BUCC setting).
    ``show_progress`` shows a bar for each k-NN direction.
    """
    if retrieval not in RETRIEVALS:
        raise RxError(f"unknown retrieval {retrieval!r}; choose one of {', '.join(RETRIEVALS)}")
    x_sim, x_nn = knn(x, y, k, desc=f"{k}-NN source->target" if show_progress else None)
    y_sim, y_nn = knn(y, x, k, desc=f"{k}-NN target->source" if show_progress else None)
    x_mean, y_mean = x_sim.mean(axis=1), y_sim.mean(axis=1)
    fwd_scores = margin_scores(x, y, x_nn, x_mean, y_mean, margin)
    bwd_scores = margin_scores(y, x, y_nn, y_mean, x_mean, margin)
    rows_x, rows_y = np.arange(len(x)), np.arange(len(y))
    fwd_best = x_nn[rows_x, fwd_scores.argmax(axis=1)]
    bwd_best = y_nn[rows_y, bwd_scores.argmax(axis=1)]
    fwd_score, bwd_score = fwd_scores.max(axis=1), bwd_scores.max(axis=1)
    if retrieval == "fwd":
        return _sorted(rows_x, fwd_best, fwd_score)
    if retrieval == "bwd":
        return _sorted(bwd_best, rows_y, bwd_score)
    if retrieval == "intersect":
        mutual = bwd_best[fwd_best] == rows_x
        return _sorted(rows_x[mutual], fwd_best[mutual], fwd_score[mutual])
    pool = _sorted(np.concatenate([rows_x, bwd_best]), np.concatenate([fwd_best, rows_y]),
                   np.concatenate([fwd_score, bwd_score]))
    used_src, used_trg, keep = set(), set(), []
    for i, (s, t) in enumerate(zip(pool.src.tolist(), pool.trg.tolist())):
        if s not in used_src and t not in used_trg:
            used_src.add(s)
            used_trg.add(t)
            keep.append(i)
    keep_arr = np.asarray(keep, dtype=np.int64)
    return Candidates(pool.src[keep_arr], pool.trg[keep_arr], pool.score[keep_arr])
