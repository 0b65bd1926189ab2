"""Zero-shot tagging (UD-POS, PAN-X): one tag per word from the head's logits at the word's first sub-word.

A sentence longer than the window is cut into pieces of whole words that fit (XTREME's preprocessing does the
same), so every word gets a prediction. A word the tokenizer turns into no sub-word at all gets ``O`` (or the
first label when there is no ``O``) and is still scored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import UNITS_KEY
from retrieval_xfer.evaluation.metrics.tagging import entity_counts, entity_f1, word_accuracy, word_counts
from retrieval_xfer.modeling.task_model import TaskModel, batched


def split_long_sentence(lengths: list[int], budget: int) -> list[tuple[int, int]]:
    """Word ranges ``[start, end)`` whose sub-word counts ``lengths`` sum to at most ``budget`` each (a single
    word longer than ``budget`` forms a piece of its own and is truncated by the tokenizer)."""
    pieces, start, used = [], 0, 0
    for i, n in enumerate(lengths):
        if used + n > budget and i > start:
            pieces.append((start, i))
            start, used = i, 0
        used += n
    pieces.append((start, len(lengths)))
    return pieces


def predict_tags(
    model: TaskModel,
    card: TaskCard,
    sentences: list[list[str]],
    batch_size: int = 32,
    desc: str = "tagging",
    show_progress: bool = True,
) -> list[list[str]]:
    """A predicted tag for every word of every sentence."""
    labels = model.head.config["labels"]
    fallback = "O" if "O" in labels else labels[0]
    tokenizer = model.tokenizer
    max_length = card.max_length
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)
    pieces = []  # (sentence index, first word, words)
    for s, words in enumerate(sentences):
        lengths = [len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"]] if words else []
        pieces.extend((s, a, words[a:b]) for a, b in split_long_sentence(lengths, budget))
    predicted = [[fallback] * len(words) for words in sentences]
    with torch.no_grad(), tqdm(total=len(pieces), desc=desc, unit="piece", disable=not show_progress) as bar:
        for batch in batched(pieces, batch_size):
            encoded = tokenizer(
                [words for _, _, words in batch],
                is_split_into_words=True,
                truncation=True,
                max_length=max_length,
                padding=True,
                return_tensors="pt",
            )
            logits = model.head.logits([model.to_device(dict(encoded))])
            best = logits.argmax(dim=-1).tolist()
            for b, (s, first, _) in enumerate(batch):
                previous = None
                for position, word in enumerate(encoded.word_ids(b)):
                    if word is not None and word != previous:
                        predicted[s][first + word] = labels[best[b][position]]
                    previous = word
            bar.update(len(batch))
    return predicted


def evaluate_tagging(
    model: TaskModel,
    card: TaskCard,
    records: list[dict],
    lang: str,
    batch_size: int = 32,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Word accuracy (UD-POS) or entity F1/precision/recall (PAN-X), as the card's ``metric`` says, for one language."""
    gold = [r["tags"] for r in records]
    predicted = predict_tags(
        model, card, [r["tokens"] for r in records], batch_size, f"{card.name} {lang}", show_progress
    )
    if card.metric == "f1":
        scores, units = entity_f1(predicted, gold), {"f1": Units("f1", np.array(entity_counts(predicted, gold)))}
    else:
        scores = {"accuracy": word_accuracy(predicted, gold)}
        units = {"accuracy": Units("ratio", np.array(word_counts(predicted, gold)))}
    return {**scores, "n": len(records), "words": sum(len(g) for g in gold), UNITS_KEY: units}
