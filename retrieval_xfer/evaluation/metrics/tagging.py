"""Tagging metrics: UD-POS accuracy over words, PAN-X entity-level F1 (conlleval semantics, via seqeval)."""

from __future__ import annotations

from collections.abc import Sequence


def word_accuracy(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> float:
    """Share of words (over all sentences) whose predicted tag equals the gold tag, ×100."""
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted sentences for {len(gold)} gold ones")
    total = correct = 0
    for p, g in zip(predicted, gold):
        if len(p) != len(g):
            raise ValueError(f"a sentence has {len(p)} predicted tags for {len(g)} words")
        total += len(g)
        correct += sum(a == b for a, b in zip(p, g))
    if not total:
        raise ValueError("no words to score")
    return 100.0 * correct / total


def entity_f1(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> dict[str, float]:
    """Entity-level precision, recall and F1 (×100) over BIO tags, as conlleval: an entity counts only when its
    type and both boundaries match; an ``I-`` tag after ``O`` or another type starts an entity (seqeval's default
    mode, which reproduces conlleval)."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    predicted = [list(p) for p in predicted]
    gold = [list(g) for g in gold]
    if [len(p) for p in predicted] != [len(g) for g in gold]:
        raise ValueError("predicted and gold sentences differ in length")
    return {
        "f1": 100.0 * f1_score(gold, predicted, zero_division=0),
        "precision": 100.0 * precision_score(gold, predicted, zero_division=0),
        "recall": 100.0 * recall_score(gold, predicted, zero_division=0),
    }


def word_counts(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Per sentence: (words tagged right, words): the units of ``word_accuracy``."""
    return [(sum(a == b for a, b in zip(p, g)), len(g)) for p, g in zip(predicted, gold)]


def entity_counts(predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> list[tuple[int, int, int]]:
    """Per sentence: (entities right, predicted entities that are wrong, gold entities missed), by seqeval's
    entity extraction: their sums give ``entity_f1``'s micro F1."""
    from seqeval.metrics.sequence_labeling import get_entities

    counts = []
    for p, g in zip(predicted, gold):
        found, true = set(get_entities(list(p))), set(get_entities(list(g)))
        right = len(found & true)
        counts.append((right, len(found) - right, len(true) - right))
    return counts
