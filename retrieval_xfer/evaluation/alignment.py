"""How aligned the languages of an encoder are, measured directly on translation pairs (pure functions).

- ``center``: subtract a language's mean vector and re-normalise (Libovický et al. 2020, "On the Language
  Neutrality of Pre-trained Multilingual Representations"); the retrieval gain it brings measures how much of the
  misalignment is a constant per-language shift.
- ``language_id_accuracy``: cross-validated accuracy of a linear (multinomial logistic regression) probe that
  tells the language from the vector: the language identity left in the space (chance = 1 / languages).
- ``alignment`` and ``uniformity`` (Wang & Isola 2020, "Understanding Contrastive Representation Learning through
  Alignment and Uniformity on the Hypersphere"): mean cosine between translation pairs, and the log of the mean
  Gaussian potential exp(-2·||u − v||²) over pairs of vectors (lower = more spread out).
- ``hubness``: skewness of the k-occurrence distribution (how often each indexed sentence is among the k nearest
  neighbours of the queries; Radovanović et al. 2010); high = a few hubs attract many queries.
"""

from __future__ import annotations

import numpy as np
import torch

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.knn import knn
from retrieval_xfer.vectors import center_rows

MIN_PROBE_SENTENCES = 20  # per language; fewer cannot be split into folds meaningfully


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def center(vectors: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Unit rows of ``vectors`` minus ``mean`` (default: their own mean), for centered retrieval
    (``vectors.center_rows``, the centering mining uses)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return center_rows(vectors, vectors.mean(axis=0) if mean is None else mean)


def alignment(source: np.ndarray, target: np.ndarray) -> float:
    """Mean cosine between row i of ``source`` and row i of ``target`` (translations; unit rows)."""
    return float(np.mean(np.sum(_unit(source) * _unit(target), axis=1)))


def uniformity(vectors: np.ndarray, t: float = 2.0, max_points: int = 2000, seed: int = 0) -> float:
    """log mean over distinct pairs of exp(-t·||u − v||²) of unit rows (a sample of ``max_points``)."""
    vectors = _unit(vectors)
    if len(vectors) > max_points:
        vectors = vectors[np.random.default_rng(seed).choice(len(vectors), max_points, replace=False)]
    if len(vectors) < 2:
        raise RxError("uniformity needs at least two vectors")
    squared = np.maximum(2.0 - 2.0 * (vectors @ vectors.T), 0.0)
    upper = squared[np.triu_indices(len(vectors), k=1)].astype(np.float64)
    return float(np.log(np.mean(np.exp(-t * upper))))


def hubness(queries: np.ndarray, database: np.ndarray, k: int = 10) -> float:
    """Skewness of N_k: for each database row, how many queries have it among their k nearest neighbours."""
    k = min(k, len(database))
    _, rows = knn(_unit(queries), _unit(database), k)
    counts = np.bincount(rows.ravel(), minlength=len(database)).astype(np.float64)
    spread = counts.std()
    return float(((counts - counts.mean()) ** 3).mean() / spread**3) if spread > 0 else 0.0


def language_id_accuracy(
    vectors: dict[str, np.ndarray], folds: int = 5, epochs: int = 100, seed: int = 0, weight_decay: float = 1e-3
) -> tuple[float, dict[str, float]]:
    """Cross-validated accuracy (x100) of a multinomial logistic-regression probe predicting the language of each
    vector, overall and per language (the share of that language's vectors recognised). RxError with fewer than
    two languages or fewer than ``MIN_PROBE_SENTENCES`` vectors in one (callers skip such a language first)."""
    if len(vectors) < 2:
        raise RxError("a language-identification probe needs at least two languages")
    for lang, rows in vectors.items():
        if len(rows) < MIN_PROBE_SENTENCES:
            raise RxError(f"{lang}: {len(rows)} sentences; the probe needs at least {MIN_PROBE_SENTENCES}")
    langs = list(vectors)
    x = torch.from_numpy(np.concatenate([_unit(v) for v in vectors.values()]))
    y = torch.cat([torch.full((len(v),), i, dtype=torch.int64) for i, v in enumerate(vectors.values())])
    generator = torch.Generator().manual_seed(seed)
    fold = torch.empty(len(y), dtype=torch.int64)
    for label in range(len(langs)):  # stratified: each language spread evenly over the folds
        members = torch.nonzero(y == label).flatten()
        fold[members[torch.randperm(len(members), generator=generator)]] = torch.arange(len(members)) % folds
    predicted = torch.empty_like(y)
    for f in range(folds):
        train, test = fold != f, fold == f
        torch.manual_seed(seed + f)
        probe = torch.nn.Linear(x.shape[1], len(langs))
        optimizer = torch.optim.Adam(probe.parameters(), lr=0.1, weight_decay=weight_decay)
        for _ in range(epochs):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(probe(x[train]), y[train]).backward()
            optimizer.step()
        with torch.no_grad():
            predicted[test] = probe(x[test]).argmax(dim=1)
    correct = (predicted == y).float()
    per_language = {lang: 100.0 * float(correct[y == i].mean()) for i, lang in enumerate(langs)}
    return 100.0 * float(correct.mean()), per_language
