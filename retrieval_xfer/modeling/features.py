"""Records (see ``retrieval_xfer.data.task_data``) into trainer rows: tokenized once, with label ids, and QA
contexts cut into windows. The collator (``modeling.collator``) then only pads: tokenizing in the training loop
would cost the main process a few milliseconds a step, which a GPU step of XLM-R Large cannot hide.

Row shapes by format (``tokens``: the tokenizer's output for one sequence, ``input_ids`` and, for models that
have them, ``token_type_ids``):
classification ``{**tokens, label}`` (text, or text pair when any record of the task has a second text);
multiple choice ``{choice_<key>: one list per choice, label}`` (context and question paired with each choice);
tagging ``{**tokens, tag_ids}`` (the first sub-word of each word carries its tag id, every other position -100);
span QA ``{window_ids, start, end}`` (one row per window); masked LM ``{**tokens, special_tokens_mask}``.
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


IGNORED = -100  # the label of a position no loss counts (PyTorch's cross-entropy ``ignore_index``)


def _sequences(encoded: Any, keys: tuple[str, ...] = ()) -> list[dict[str, list[int]]]:
    """A batched tokenizer output as one dict per sequence: ``input_ids``, ``token_type_ids`` when the tokenizer
    makes them, and ``keys``."""
    names = ["input_ids", *(["token_type_ids"] if "token_type_ids" in encoded else []), *keys]
    return [dict(zip(names, values)) for values in zip(*(encoded[name] for name in names))]


def _first_subword_tags(encoded: Any, tags: list[list[int]]) -> list[list[int]]:
    """Per sequence, each position's tag id: the word's tag on its first sub-word, ``IGNORED`` elsewhere."""
    aligned = []
    for b, word_tags in enumerate(tags):
        row, previous = [], None
        for word in encoded.word_ids(b):
            row.append(word_tags[word] if word is not None and word != previous else IGNORED)
            previous = word
        aligned.append(row)
    return aligned


def build_rows(card: TaskCard, records: list[dict], labels: list[str], tokenizer, max_length: int) -> list[dict]:
    """Trainer rows for one task, tokenized to at most ``max_length`` tokens; RxError when a label is not in
    ``labels`` (a training/eval label-set mismatch)."""
    fmt = card.format
    index = {name: i for i, name in enumerate(labels)}

    def label_id(name: Any) -> int:
        if name not in index:
            raise RxError(f"task {card.name}: label {name!r} is not in its label set ({len(index)} labels)")
        return index[name]

    def encode(*texts: Any, **kwargs: Any) -> Any:
        return tokenizer(*texts, truncation=True, max_length=max_length, **kwargs)

    if fmt == "pair-classification":
        second = [r["text_b"] or "" for r in records]
        encoded = encode([r["text_a"] for r in records], second if any(second) else None)
        return [{**seq, "label": label_id(r["label"])} for seq, r in zip(_sequences(encoded), records)]
    if fmt == "multiple-choice":
        contexts = [f"{r['context']} {r['question']}".strip() for r in records]
        encoded = encode(
            [c for c, r in zip(contexts, records) for _ in r["choices"]],
            [choice for r in records for choice in r["choices"]],
        )
        sequences, rows, start = _sequences(encoded), [], 0
        for r in records:
            choices = sequences[start : start + len(r["choices"])]
            start += len(r["choices"])
            rows.append({**{f"choice_{k}": [c[k] for c in choices] for k in choices[0]}, "label": r["label"]})
        return rows
    if fmt == "tagging":
        encoded = encode([r["tokens"] for r in records], is_split_into_words=True)
        tags = _first_subword_tags(encoded, [[label_id(t) for t in r["tags"]] for r in records])
        return [{**seq, "tag_ids": t} for seq, t in zip(_sequences(encoded), tags)]
    if fmt == "span-qa":
        return _qa_windows(records, tokenizer, max_length, qa_stride(card, max_length))
    if fmt == "masked-lm":
        encoded = encode([r["text"] for r in records], return_special_tokens_mask=True)
        return _sequences(encoded, ("special_tokens_mask",))
    raise RxError(f"task {card.name}: format {fmt!r} cannot be trained")
