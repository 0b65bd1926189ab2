"""Classification accuracy (XNLI, PAWS-X)."""

from __future__ import annotations

from collections.abc import Sequence


def accuracy(predicted: Sequence[str], gold: Sequence[str]) -> float:
    """Share of positions where ``predicted`` equals ``gold``, ×100; ValueError when the lengths differ or are 0."""
    if len(predicted) != len(gold) or not gold:
        raise ValueError(f"accuracy needs equally long, non-empty lists (got {len(predicted)} and {len(gold)})")
    return 100.0 * sum(p == g for p, g in zip(predicted, gold)) / len(gold)
