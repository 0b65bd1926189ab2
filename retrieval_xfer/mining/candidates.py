"""Candidate pairs from margin scores in both directions, under the four retrieval rules of LASER/XTREME."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval_xfer.mining.knn import Neighbours, knn_both_ways
from retrieval_xfer.mining.margin import margin_scores
from retrieval_xfer.mining.options import check_mining_names
from retrieval_xfer.vectors import ArrayVectors


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


def knn_means(sims: np.ndarray, ids: np.ndarray, k: int | None = None) -> np.ndarray:
    """Each row's mean similarity over its first ``k`` neighbours (all: None) that exist (id ≥ 0): the margin's
    neighbourhood."""
    sims, ids = sims[:, :k], ids[:, :k]
    valid = ids >= 0
    return np.where(valid, sims, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)


def candidates_from_neighbours(neighbours: Neighbours, margin: str = "ratio", retrieval: str = "max") -> Candidates:
    """Candidate pairs from the k nearest neighbours of both sides (their similarities are the cosines and their
    means the margin's denominators).

    fwd: each source with its best-scoring target among its k neighbours; bwd: each target with its best source;
    intersect: pairs that are best in both directions; max: the union of fwd and bwd taken greedily by score,
    keeping each source and each target at most once (the XTREME/LASER BUCC setting).
    """
    check_mining_names(margin, retrieval)
    x_sim, x_nn, y_sim, y_nn = neighbours.x_sims, neighbours.x_ids, neighbours.y_sims, neighbours.y_ids
    x_mean, y_mean = knn_means(x_sim, x_nn), knn_means(y_sim, y_nn)
    fwd_scores = np.where(x_nn >= 0, margin_scores(x_sim, x_nn, x_mean, y_mean, margin), -np.inf)
    bwd_scores = np.where(y_nn >= 0, margin_scores(y_sim, y_nn, y_mean, x_mean, margin), -np.inf)
    rows_x, rows_y = np.arange(len(x_nn)), np.arange(len(y_nn))
    fwd_best = x_nn[rows_x, fwd_scores.argmax(axis=1)]
    bwd_best = y_nn[rows_y, bwd_scores.argmax(axis=1)]
    fwd_score, bwd_score = fwd_scores.max(axis=1), bwd_scores.max(axis=1)
    fwd_ok, bwd_ok = fwd_best >= 0, bwd_best >= 0  # an approximate index may find no neighbour at all
    if retrieval == "fwd":
        return _sorted(rows_x[fwd_ok], fwd_best[fwd_ok], fwd_score[fwd_ok])
    if retrieval == "bwd":
        return _sorted(bwd_best[bwd_ok], rows_y[bwd_ok], bwd_score[bwd_ok])
    if retrieval == "intersect":
        mutual = fwd_ok & (bwd_best[fwd_best] == rows_x) & bwd_ok[fwd_best]
        return _sorted(rows_x[mutual], fwd_best[mutual], fwd_score[mutual])
    pool = _sorted(
        np.concatenate([rows_x[fwd_ok], bwd_best[bwd_ok]]),
        np.concatenate([fwd_best[fwd_ok], rows_y[bwd_ok]]),
        np.concatenate([fwd_score[fwd_ok], bwd_score[bwd_ok]]),
    )
    used_src, used_trg, keep = set(), set(), []
    for i, (s, t) in enumerate(zip(pool.src.tolist(), pool.trg.tolist())):
        if s not in used_src and t not in used_trg:
            used_src.add(s)
            used_trg.add(t)
            keep.append(i)
    keep_arr = np.asarray(keep, dtype=np.int64)
    return Candidates(pool.src[keep_arr], pool.trg[keep_arr], pool.score[keep_arr])


def mine_candidates(
    x: np.ndarray, y: np.ndarray, k: int = 4, margin: str = "ratio", retrieval: str = "max", show_progress: bool = False
) -> Candidates:
    """Mine candidate pairs between in-memory vectors x (sources) and y (targets): exact k-NN in both directions
    (``knn.knn_both_ways``), then ``candidates_from_neighbours``. ``show_progress`` shows a k-NN progress bar."""
    check_mining_names(margin, retrieval)  # before the k-NN
    neighbours = knn_both_ways(
        ArrayVectors(x), ArrayVectors(y), k, desc=f"{k}-NN both directions" if show_progress else None
    )
    return candidates_from_neighbours(neighbours, margin, retrieval)


def top_k_candidates(neighbours: Neighbours, k: int, top_k: int, margin: str = "ratio") -> Candidates:
    """Up to ``top_k`` candidate targets of each source row, its nearest ``top_k`` by cosine, each scored with the
    margin over ``k`` neighbours (``neighbours`` holds at least ``max(k, top_k)`` per row); grouped by source row
    in row order, best margin first within each (``rx mine --top-k``: for alignment tools and human review)."""
    check_mining_names(margin)
    x_mean, y_mean = (
        knn_means(neighbours.x_sims, neighbours.x_ids, k),
        knn_means(neighbours.y_sims, neighbours.y_ids, k),
    )
    ids, sims = neighbours.x_ids[:, :top_k], neighbours.x_sims[:, :top_k]
    scores = margin_scores(sims, np.maximum(ids, 0), x_mean, y_mean, margin)
    rows = np.repeat(np.arange(len(ids)), ids.shape[1]).reshape(ids.shape)
    valid = (ids >= 0).ravel()
    src, trg, score = rows.ravel()[valid], ids.ravel()[valid], scores.ravel()[valid]
    order = np.lexsort((-score, src))
    return Candidates(src[order], trg[order], score[order])
