"""Zero-shot extractive QA (XQuAD, MLQA, TyDiQA-GoldP): the best answer span per question, EM and F1 per language.

Contexts are cut into windows exactly as in training (``modeling.features.tokenize_qa``). In each window the
``n_best`` highest start and end logits over context tokens form candidate spans (end ≥ start, at most
``max_answer_length`` tokens); the span with the highest start + end logit over all windows wins, and its
character offsets give the answer text in the original context.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.confidence import UNITS_KEY
from retrieval_xfer.evaluation.metrics.qa import qa_per_question, qa_scores
from retrieval_xfer.modeling.features import qa_stride, tokenize_qa
from retrieval_xfer.modeling.task_model import TaskModel, batched

N_BEST = 20


def _windows(model: TaskModel, card: TaskCard, records: list[dict]) -> list[dict[str, Any]]:
    max_length = card.max_length
    stride = qa_stride(card, max_length)
    windows = []
    for q, record in enumerate(records):
        enc = tokenize_qa(model.tokenizer, record["question"], record["context"], max_length, stride)
        for w, ids in enumerate(enc["input_ids"]):
            sequence_ids = enc.sequence_ids(w)
            offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][w], sequence_ids)]
            windows.append({"question": q, "ids": ids, "offsets": offsets})
    return windows


def _best_span(
    start: list[float], end: list[float], offsets: list, max_answer_length: int
) -> tuple[float, int, int] | None:
    context = [i for i, o in enumerate(offsets) if o is not None]
    starts = sorted(context, key=lambda i: -start[i])[:N_BEST]
    ends = sorted(context, key=lambda i: -end[i])[:N_BEST]
    best = None
    for s in starts:
        for e in ends:
            if s <= e < s + max_answer_length and (best is None or start[s] + end[e] > best[0]):
                best = (start[s] + end[e], s, e)
    return best


def predict_answers(
    model: TaskModel,
    card: TaskCard,
    records: list[dict],
    batch_size: int = 32,
    desc: str = "answering",
    show_progress: bool = True,
) -> list[str]:
    """The predicted answer text of every record, in order (``""`` when no window has a valid span)."""
    windows = _windows(model, card, records)
    best: dict[int, tuple[float, str]] = {}
    pad = model.tokenizer.pad_token_id
    max_answer_length = card.max_answer_length
    with torch.no_grad(), tqdm(total=len(windows), desc=desc, unit="window", disable=not show_progress) as bar:
        for batch in batched(windows, batch_size):
            width = max(len(w["ids"]) for w in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for b, window in enumerate(batch):
                ids[b, : len(window["ids"])] = torch.tensor(window["ids"])
                mask[b, : len(window["ids"])] = 1
            start, end = model.head.logits([model.to_device({"input_ids": ids, "attention_mask": mask})])
            for b, window in enumerate(batch):
                span = _best_span(start[b].tolist(), end[b].tolist(), window["offsets"], max_answer_length)
                if span is None:
                    continue
                score, s, e = span
                q = window["question"]
                if q not in best or score > best[q][0]:
                    context = records[q]["context"]
                    best[q] = (score, context[window["offsets"][s][0] : window["offsets"][e][1]])
            bar.update(len(batch))
    return [best[q][1] if q in best else "" for q in range(len(records))]


def evaluate_qa(
    model: TaskModel,
    card: TaskCard,
    records: list[dict],
    lang: str,
    batch_size: int = 32,
    show_progress: bool = True,
) -> dict[str, Any]:
    """``{"exact_match", "f1", "n"}`` for one language, normalised as the card's ``normalization`` says."""
    predictions = predict_answers(model, card, records, batch_size, f"{card.name} {lang}", show_progress)
    golds = {str(q): [a["text"] for a in r["answers"]] for q, r in enumerate(records)}  # ids may repeat across files
    answered = dict(zip(golds, predictions))
    scores = qa_scores(answered, golds, card.normalization, lang)
    exact, f1 = qa_per_question(answered, golds, card.normalization, lang)
    units = {"exact_match": Units("mean", np.array(exact)[:, None]), "f1": Units("mean", np.array(f1)[:, None])}
    return {**scores, "n": len(records), UNITS_KEY: units}
