"""Margins of pairs someone already aligned (``rx score``): row ``src_rows[i]`` of x with row ``trg_rows[i]`` of y.

A given pair is scored as LASER scored the WMT 2019 filtering task (Chaudhary et al. 2019): its cosine against
the mean cosine of each side's k nearest neighbours in the other side's corpus, the margin rx mines with
(``margin.margin_scores``), so a threshold carries over between ``rx mine`` and ``rx score`` of one encoder. The
neighbourhoods come from one k-NN pass each way (``neighbours.find_neighbours``: exact under a memory budget,
checkpointed, on Ray, or approximate); the pairs' own cosines are read from the vectors in windows of rows, so
the memory stays that of the k-NN.
"""

from __future__ import annotations

import numpy as np

from retrieval_xfer.mining.candidates import knn_means
from retrieval_xfer.mining.knn import Neighbours
from retrieval_xfer.mining.margin import margin_scores
from retrieval_xfer.vectors import VectorSet

WINDOW_ROWS = 65536  # rows read from a vector set at once (256 MB at 1,024 float32 dimensions)


def gather_rows(vectors: VectorSet, indices: np.ndarray, window: int = WINDOW_ROWS) -> np.ndarray:
    """Rows ``indices`` of ``vectors`` (unit float32), in that order, read through windows of at most ``window``
    consecutive rows (line-aligned pairs ask for rows nearly in order, so each window is read once)."""
    indices = np.asarray(indices, dtype=np.int64)
    out = np.empty((len(indices), vectors.dimension), dtype=np.float32)
    order = np.argsort(indices, kind="stable")
    ascending = indices[order]
    position = 0
    while position < len(order):
        start = int(ascending[position])
        end = int(np.searchsorted(ascending, start + window, side="left"))
        block = vectors.rows(start, int(ascending[end - 1]) + 1)
        out[order[position:end]] = block[ascending[position:end] - start]
        position = end
    return out


def pair_cosines(
    x: VectorSet, y: VectorSet, src_rows: np.ndarray, trg_rows: np.ndarray, chunk: int = WINDOW_ROWS
) -> np.ndarray:
    """The cosine of each pair (``x[src_rows[i]]``, ``y[trg_rows[i]]``), ``chunk`` pairs at a time."""
    cosines = np.empty(len(src_rows), dtype=np.float32)
    for start in range(0, len(src_rows), chunk):
        stop = min(start + chunk, len(src_rows))
        a, b = gather_rows(x, src_rows[start:stop]), gather_rows(y, trg_rows[start:stop])
        cosines[start:stop] = np.einsum("ij,ij->i", a, b)
    return cosines


def neighbourhood_means(neighbours: Neighbours, k: int, skip_nearest: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each x row's mean cosine over its ``k`` nearest y rows, and each y row's over its nearest x rows (the
    margin's denominators). ``skip_nearest``: over the ``k`` after the nearest (``neighbours`` holds k + 1 per row),
    the neighbourhood a sentence has when its translation is not in the other side: what a misaligned pair's
    sentences have, so random pairings scored so are a misaligned pair's null (``score_threshold``)."""
    first = 1 if skip_nearest else 0
    return (
        knn_means(neighbours.x_sims[:, first:], neighbours.x_ids[:, first:], k),
        knn_means(neighbours.y_sims[:, first:], neighbours.y_ids[:, first:], k),
    )


def pair_margins(
    cosines: np.ndarray,
    src_rows: np.ndarray,
    trg_rows: np.ndarray,
    means: tuple[np.ndarray, np.ndarray],
    margin: str,
) -> np.ndarray:
    """The margin of each pair whose cosine is ``cosines[i]``, against the neighbourhood means (``means``, from
    ``neighbourhood_means``) of its source among y and of its target among x: what ``rx mine`` scores a candidate
    with."""
    x_mean, y_mean = means
    scores = margin_scores(
        np.asarray(cosines, dtype=np.float64)[:, None], np.asarray(trg_rows)[:, None], x_mean[src_rows], y_mean, margin
    )
    return scores[:, 0]
