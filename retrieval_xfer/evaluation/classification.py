"""Zero-shot sentence-pair classification (XNLI, PAWS-X): predicted label per pair, accuracy per language."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import UNITS_KEY
from retrieval_xfer.evaluation.metrics import accuracy
from retrieval_xfer.modeling.collator import MultiTaskCollator, split_batch
from retrieval_xfer.modeling.features import build_rows
from retrieval_xfer.modeling.task_model import TaskModel, batched


def predict_labels(
    model: TaskModel,
    card: TaskCard,
    records: list[dict],
    batch_size: int = 32,
    desc: str = "classifying",
    show_progress: bool = True,
) -> list[str]:
    """The head's label name for each ``{text_a, text_b, label}`` record (encoded as training encodes it)."""
    labels = model.head.config["labels"]
    rows = build_rows(card, records, labels, model.tokenizer, card.max_length)
    collate = MultiTaskCollator(model.tokenizer, {card.name: card.format})
    predicted: list[str] = []
    with torch.no_grad(), tqdm(total=len(rows), desc=desc, unit="pair", disable=not show_progress) as bar:
        for batch in batched(rows, batch_size):
            features, _ = split_batch(collate([{**r, "dataset_name": card.name} for r in batch]))
            logits = model.head.logits([model.to_device(features[0])])
            predicted.extend(labels[i] for i in logits.argmax(dim=-1).tolist())
            bar.update(len(batch))
    return predicted


def evaluate_classification(
    model: TaskModel,
    card: TaskCard,
    records: list[dict],
    lang: str,
    batch_size: int = 32,
    show_progress: bool = True,
) -> dict[str, Any]:
    """``{"accuracy", "n"}`` for one language, with each example's outcome (its units, for the intervals)."""
    predicted = predict_labels(model, card, records, batch_size, f"{card.name} {lang}", show_progress)
    gold = [r["label"] for r in records]
    correct = np.array([[p == g] for p, g in zip(predicted, gold)], dtype=np.int8).reshape(-1, 1)
    return {
        "accuracy": accuracy(predicted, gold),
        "n": len(records),
        UNITS_KEY: {"accuracy": Units("accuracy", correct)},
    }
