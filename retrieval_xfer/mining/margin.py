"""Margin scores: a pair's cosine compared with the average cosine of both sentences' k nearest neighbours."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retrieval_xfer.mining.options import check_mining_names

# margin(a, b): a = cos(x, y), b = (mean kNN cos of x + mean kNN cos of y) / 2
MARGINS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "ratio": lambda a, b: a / b,
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
