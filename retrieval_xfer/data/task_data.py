"""Training data of a task, read as its card says: a local file in the original release format, or the hub.

Every task yields plain records of one of four shapes, by the card's ``format``:

- ``pair-classification``: ``{"text_a", "text_b" (None for single sentences), "label"}`` (label: a name from the card)
- ``multiple-choice``: ``{"context", "question", "choices": [...], "label": index}``
- ``tagging``: ``{"tokens": [...], "tags": [...]}``
- ``span-qa``: ``{"id", "context", "question", "answers": [{"text", "answer_start"}], "is_impossible"}``

Readers (``sources.local.reader`` in a card) and shapers are looked up in tables, so a new format is a new
entry, not a new branch. Bad rows raise RxError naming the file and line; rows without a gold label (SNLI's
``-``) are counted in ``skipped``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.data.cards import TaskCard, load_card
from retrieval_xfer.data.hub import hub_source, load_hub_split
from retrieval_xfer.data.squad import iter_squad
from retrieval_xfer.data.structured import iter_delimited, iter_jsonl
from retrieval_xfer.data.tagged import iter_ccg_auto, iter_conllu, iter_token_tag
from retrieval_xfer.data.ud_release import find_release_files, iter_ud_xtreme
from retrieval_xfer.errors import RxError

logger = logging.getLogger(__name__)

MAX_BAD_ANSWER_FRACTION = 0.01
BAD_ANSWER = "answer not at its offset"

Row = dict[str, Any]
READERS: dict[str, Callable[[Path, dict], Iterator[tuple[Any, Row]]]] = {
    "jsonl": lambda path, spec: iter_jsonl(path),
    "csv": lambda path, spec: iter_delimited(path, ",", spec.get("columns")),
    "tsv": lambda path, spec: iter_delimited(path, "\t", spec.get("columns"), quoting=spec.get("quoting", False)),
    "squad": lambda path, spec: iter_squad(path),
    "token-tag": lambda path, spec: iter_token_tag(path),
    "conllu": lambda path, spec: iter_conllu(path),
    "ccg-auto": lambda path, spec: iter_ccg_auto(path),
    "ud-xtreme": lambda path, spec: iter_ud_xtreme(path),
}


@dataclass
class TaskData:
    """The records of one task and where they came from; ``skipped`` counts dropped rows by reason."""

    task: str
    format: str
    examples: list[Row]
    source: str
    skipped: Counter = field(default_factory=Counter)


def _get(row: Row, path: str, where: str) -> Any:
    value: Any = row
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise RxError(f"{where}: missing column {path!r}")
        value = value[key]
    return value


def _label(raw: Any, spec: dict, card: TaskCard, where: str) -> Any:
    mapped = spec.get("label_map", {}).get(str(raw), raw) if spec.get("label_map") else raw
    names = spec.get("label_names")
    if names is not None and isinstance(mapped, int):
        mapped = names[mapped] if 0 <= mapped < len(names) else mapped
    if card.labels and mapped not in card.labels:
        raise RxError(f"{where}: label {raw!r} is not one of {', '.join(map(str, card.labels))}")
    return mapped


def _pair(row: Row, spec: dict, card: TaskCard, where: str) -> Row | str:
    fields = spec["fields"]
    raw = _get(row, fields["label"], where)
    if str(raw) in {str(s) for s in spec.get("skip_labels", [])}:
        return "no gold label"
    text_b = _get(row, fields["text_b"], where) if fields.get("text_b") else None
    if {_get(row, fields["text_a"], where), text_b} & set(spec.get("skip_texts", [])):
        return "placeholder sentence"
    return {
        "text_a": str(_get(row, fields["text_a"], where)),
        "text_b": None if text_b is None else str(text_b),
        "label": _label(raw, spec, card, where),
    }


def _choice(row: Row, spec: dict, card: TaskCard, where: str) -> Row | str:
    fields = spec["fields"]
    choices_spec = fields["choices"]
    if isinstance(choices_spec, list):
        choices = [_get(row, name, where) for name in choices_spec]
    else:
        choices = _get(row, choices_spec, where)
        if isinstance(choices, dict):  # hub layout {"label": [...], "text": [...]}
            choices = _get(choices, fields["choice_text"], where)
        elif fields.get("choice_text"):  # original layout [{"label": "A", "text": ...}, ...]
            choices = [_get(c, fields["choice_text"], where) for c in choices]
    raw = _get(row, fields["label"], where)
    mapped = spec.get("label_map", {}).get(str(raw), raw)
    try:
        label = int(mapped)
    except (TypeError, ValueError):
        raise RxError(f"{where}: label {raw!r} is not a choice index") from None
    n = card.num_choices or len(choices)
    if len(choices) != n or not 0 <= label < n:
        raise RxError(f"{where}: label {raw!r} outside 0..{n - 1} or {len(choices)} choices instead of {n}")
    question = _get(row, fields["question"], where) if fields.get("question") else ""
    return {
        "context": str(_get(row, fields["context"], where)),
        "question": str(question),
        "choices": [str(c) for c in choices],
        "label": label,
    }


def _tagged(row: Row, spec: dict, card: TaskCard, where: str) -> Row | str:
    tokens, tags = row["tokens"], row["tags"]
    if spec.get("label_names"):
        tags = [spec["label_names"][t] if isinstance(t, int) else t for t in tags]
    if card.labels:
        bad = next((t for t in tags if t not in card.labels), None)
        if bad is not None:
            raise RxError(f"{where}: tag {bad!r} is not one of the card's {len(card.labels)} tags")
    if len(tokens) != len(tags):
        raise RxError(f"{where}: {len(tokens)} tokens but {len(tags)} tags")
    return {"tokens": list(tokens), "tags": list(tags)}


def _qa(row: Row, spec: dict, card: TaskCard, where: str) -> Row | str:
    if "answers" in row and isinstance(row["answers"], dict):  # hub layout {"text": [...], "answer_start": [...]}
        answers = [
            {"text": t, "answer_start": int(s)} for t, s in zip(row["answers"]["text"], row["answers"]["answer_start"])
        ]
        row = {**row, "answers": answers, "is_impossible": not answers}
    if not row["answers"] and not (card.allow_unanswerable and row.get("is_impossible")):
        raise RxError(f"{where}: question {row.get('id')!r} has no answer")
    for answer in row["answers"]:
        start = answer["answer_start"]
        if row["context"][start : start + len(answer["text"])] != answer["text"]:
            return BAD_ANSWER
    return {
        "id": str(row["id"]),
        "context": row["context"],
        "question": row["question"],
        "answers": row["answers"],
        "is_impossible": bool(row.get("is_impossible", False)),
    }


SHAPERS: dict[str, Callable[[Row, dict, dict, str], Row | str]] = {
    "pair-classification": _pair,
    "multiple-choice": _choice,
    "tagging": _tagged,
    "span-qa": _qa,
}


def _shape(
    card: TaskCard,
    spec: dict,
    rows: Iterator[tuple[Any, Row]],
    where: str,
    limit: int | None,
    allow_empty: bool = False,
) -> TaskData:
    shaper = SHAPERS[card.format]
    data = TaskData(card.name, card.format, [], where)
    seen = 0
    for location, row in rows:
        seen += 1
        record = shaper(row, spec, card, f"{where}:{location}" if isinstance(location, int) else f"{where}: {location}")
        if isinstance(record, str):
            data.skipped[record] += 1
            continue
        data.examples.append(record)
        if limit is not None and len(data.examples) >= limit:
            break
    if not data.examples and not allow_empty:
        raise RxError(f"{where}: no usable {card.name} examples (read {seen} rows)")
    bad = data.skipped.get(BAD_ANSWER, 0)
    if bad:
        if bad / seen > MAX_BAD_ANSWER_FRACTION:
            raise RxError(f"{where}: {bad} of {seen} answers do not occur at their offset in the context (over 1%)")
        logger.warning(f"{where}: skipped {bad} of {seen} questions whose answer is not at its offset")
    return data


def read_task_file(card: TaskCard, path: Path, limit: int | None = None) -> TaskData:
    """Read a local training file in the task's original release format (``sources.local`` of the card), or,
    for a card with a ``release_reader``, the card's language from a release folder (UD's ``ud-treebanks-v2.5/``)."""
    spec = card.sources.get("local")
    if not spec:
        raise RxError(f"task {card.name!r} has no local file format")
    path = Path(path)
    if path.is_dir() and spec.get("release_reader"):
        files = find_release_files(path, card.languages)["train"]
        if not files:
            raise RxError(
                f"{path}: no {'/'.join(card.languages)} training files of a UD release "
                "(looked for */<iso>_*-ud-train.conllu)"
            )
        return read_release_files(card, [p for lang in card.languages for p in files.get(lang, ())], limit)
    if not path.is_file():
        raise RxError(f"{path}: no such file")
    spec = {**spec, **spec.get("by_suffix", {}).get(path.suffix, {})}  # e.g. .conllu files of a token-tag task
    return _shape(card, spec, READERS[spec["reader"]](path, spec), str(path), limit)


def read_release_files(card: TaskCard, paths: list[Path], limit: int | None = None) -> TaskData:
    """One language's records from the files of a release folder, concatenated in the given order and read with
    the card's ``release_reader``; the source names the folder and every file."""
    spec = {**card.sources["local"], "reader": card.sources["local"]["release_reader"]}
    parts = [
        _shape(card, spec, READERS[spec["reader"]](path, spec), str(path), None, allow_empty=True) for path in paths
    ]  # a treebank released without its text yields nothing, as in XTREME
    data = _merge(card, parts, limit)
    data.source = f"{paths[0].parent.parent}: {', '.join(p.name for p in paths)}"
    if not data.examples:
        raise RxError(f"{data.source}: no usable {card.name} sentences (treebanks without text?)")
    return data


def read_task_hub(card: TaskCard, split: str = "train", limit: int | None = None, hint: str | None = None) -> TaskData:
    """Read a split of the task from the Hugging Face Hub (``sources.hub`` of the card; combined tasks concatenate).
    ``hint`` ends the message when the hub fails (default: how to pass a local training file)."""
    if card.sources.get("combine"):
        return _merge(
            card, [read_task_hub(load_card(name), split, limit, hint) for name in card.sources["combine"]], limit
        )
    hubs = card.sources.get("hub") or []
    if not hubs:
        raise RxError(f"task {card.name!r} has no hub source; pass --train-file {card.name}=PATH")
    shaped = []
    for hub in hubs:
        for hub_split in hub["splits"][split] if isinstance(hub["splits"][split], list) else [hub["splits"][split]]:
            rows = load_hub_split(
                hub["dataset"],
                hub.get("config"),
                hub_split,
                hint=hint or f"pass --train-file {card.name}=PATH with a local file",
                revision=hub.get("revision"),
            )
            if "filter" in hub:
                key, value = next(iter(hub["filter"].items()))
                rows = rows.filter(lambda r, key=key, value=value: str(r[key]).startswith(value))
            spec = dict(hub)
            if card.format == "tagging":
                rows = rows.rename_columns({hub["fields"]["tokens"]: "tokens", hub["fields"]["tags"]: "tags"})
                spec.setdefault("label_names", getattr(rows.features["tags"].feature, "names", None))
            iterator = ((i, dict(r)) for i, r in enumerate(rows))
            shaped.append(
                _shape(
                    card,
                    spec,
                    iterator,
                    hub_source(hub["dataset"], hub.get("config"), hub_split, hub.get("revision")),
                    limit,
                )
            )
    return _merge(card, shaped, limit)


def _merge(card: TaskCard, parts: list[TaskData], limit: int | None) -> TaskData:
    """One task's data from several sources (hub splits, or the tasks of a combined card), ``limit`` overall."""
    examples = [ex for p in parts for ex in p.examples]
    return TaskData(
        card.name,
        card.format,
        examples[:limit] if limit else examples,
        " + ".join(p.source for p in parts),
        sum((p.skipped for p in parts), Counter()),
    )
