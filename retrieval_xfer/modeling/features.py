"""Records (see ``retrieval_xfer.data.task_data``) into trainer rows: label ids, and QA contexts cut into windows.

Row shapes by format: classification ``{text_a, text_b, label}``; multiple choice ``{context, choices, label}``;
tagging ``{tokens, tags}`` (tag ids); span QA ``{window_ids, start, end}`` (one row per window); masked LM ``{text}``.
"""

from __future__ import annotations

from typing import Any

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.errors import RxError


def label_list(card: TaskCard, records: list[dict]) -> list[str]:
    """The card's labels, or for an open tag set (CCG) the sorted tags seen in the training records."""
    if card.labels:
        return list(card.labels)
    if card.format == "tagging":
        return sorted({tag for record in records for tag in record["tags"]})
    return []


def qa_stride(card: TaskCard, max_length: int) -> int:
    """Tokens shared by consecutive windows of a long context: the card's ``doc_stride``, at most half a window."""
    return min(card.doc_stride, max_length // 2)


MIN_QA_LENGTH = 16


def tokenize_qa(tokenizer, question: str, context: str, max_length: int, stride: int):
    """(question, context) as windows over the context: a BatchEncoding with one row per window, offsets and
    ``sequence_ids`` (training and evaluation cut contexts the same way).

    A question longer than half the window is cut to its first ``max_length // 2`` tokens (XTREME's
    ``max_query_length`` is 64 of 384), and the stride shrinks below the context's room in the window, so no
    question or window length makes the tokenizer fail. RxError when ``max_length`` < ``MIN_QA_LENGTH``."""
    if max_length < MIN_QA_LENGTH:
        raise RxError(
            f"max length {max_length} is too short for extractive QA (at least {MIN_QA_LENGTH} tokens: "
            f"question and a piece of context share the window)"
        )
    limit = max_length // 2
    pieces = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(pieces["input_ids"]) > limit:
        question = question[: pieces["offset_mapping"][limit - 1][1]]
        pieces = tokenizer(question, add_special_tokens=False)
    room = max_length - len(pieces["input_ids"]) - tokenizer.num_special_tokens_to_add(pair=True)
    return tokenizer(
        question,
        context,
        truncation="only_second",
        max_length=max_length,
        stride=max(0, min(stride, room - 1)),
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


def _qa_windows(records: list[dict], tokenizer, max_length: int, stride: int) -> list[dict]:
    rows = []
    for record in records:
        enc = tokenize_qa(tokenizer, record["question"], record["context"], max_length, stride)
        answer = record["answers"][0] if record["answers"] and not record["is_impossible"] else None
        for w, ids in enumerate(enc["input_ids"]):
            start = end = 0
            if answer is not None:
                first, last = answer["answer_start"], answer["answer_start"] + len(answer["text"])
                sequence_ids, offsets = enc.sequence_ids(w), enc["offset_mapping"][w]
                context = [i for i, s in enumerate(sequence_ids) if s == 1]
                if context and offsets[context[0]][0] <= first and last <= offsets[context[-1]][1]:
                    start = next(i for i in context if offsets[i][1] > first)
                    end = next(i for i in reversed(context) if offsets[i][0] < last)
            rows.append({"window_ids": ids, "start": start, "end": end})
    return rows


def build_rows(card: TaskCard, records: list[dict], labels: list[str], tokenizer, max_length: int) -> list[dict]:
    """Trainer rows for one task; RxError when a label is not in ``labels`` (a training/eval label-set mismatch)."""
    fmt = card.format
    index = {name: i for i, name in enumerate(labels)}

    def label_id(name: Any) -> int:
        if name not in index:
            raise RxError(f"task {card.name}: label {name!r} is not in its label set ({len(index)} labels)")
        return index[name]

    if fmt == "pair-classification":
        return [{"text_a": r["text_a"], "text_b": r["text_b"] or "", "label": label_id(r["label"])} for r in records]
    if fmt == "multiple-choice":
        return [
            {"context": f"{r['context']} {r['question']}".strip(), "choices": r["choices"], "label": r["label"]}
            for r in records
        ]
    if fmt == "tagging":
        return [{"tokens": r["tokens"], "tags": [label_id(t) for t in r["tags"]]} for r in records]
    if fmt == "span-qa":
        return _qa_windows(records, tokenizer, max_length, qa_stride(card, max_length))
    if fmt == "masked-lm":
        return [{"text": r["text"]} for r in records]
    raise RxError(f"task {card.name}: format {fmt!r} cannot be trained")
