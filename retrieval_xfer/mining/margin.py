"""Margin scores: a pair's cosine compared with the average cosine of both sentences' k nearest neighbours.

Every margin is finite by construction. Vectors are finite and non-zero (``vectors.check_rows`` refuses NaN,
infinite and zero rows; a centered row equal to its side's mean becomes 0), so a cosine ``a`` and a neighbourhood
mean ``b`` lie in [-1, 1]. The distance and absolute margins are then finite. The ratio ``a / b`` is LASER's where
a neighbourhood is more similar than unrelated sentences are (``b`` >= ``RATIO_FLOOR``, always so for raw encoder
vectors); below that (possible only after centering, or with a handful of sentences) the neighbourhood carries no
scale and ``b`` counts as ``RATIO_FLOOR``, so a ratio lies in [-1 / RATIO_FLOOR, 1 / RATIO_FLOOR] = [-20, 20]."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retrieval_xfer.mining.options import check_mining_names

# The smallest neighbourhood mean the ratio divides by: about the cosine of unrelated sentences' nearest
# neighbours in a few hundred dimensions (random unit vectors in 384-1024 dimensions: 0.03-0.05 per standard
# deviation), so a pair is never scored as more than 20 times its neighbourhood.
RATIO_FLOOR = 0.05

# margin(a, b): a = cos(x, y), b = (mean kNN cos of x + mean kNN cos of y) / 2
MARGINS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "ratio": lambda a, b: a / np.maximum(b, RATIO_FLOOR),
    "distance": lambda a, b: a - b,
    "absolute": lambda a, b: a,
}


def margin_scores(
    cosine: np.ndarray, candidates: np.ndarray, x_knn_mean: np.ndarray, y_knn_mean: np.ndarray, margin: str = "ratio"
) -> np.ndarray:
    """Score each candidate ``candidates[i, j]`` (a row of y) of row i of x.

    Inputs: ``cosine`` (n, k), the similarity of row i of x to each of its candidates; ``candidates`` (n, k) rows of
    y; the mean similarity of each x row to its k nearest y rows (n,) and of each y row to its k nearest x rows
    (m,). Output: scores (n, k).
    """
    check_mining_names(margin)
    return MARGINS[margin](cosine, (x_knn_mean[:, None] + y_knn_mean[candidates]) / 2)
