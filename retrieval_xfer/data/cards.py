"""Task cards: the declarative YAML files in ``tasks/`` (one per task), read against a typed schema.

A card is data (MTEB's ``TaskMetadata`` is the model): ``CARD_SCHEMA`` below names every key a card may have,
its type, its allowed values and its default, in one place. ``load_card`` refuses unknown keys and wrong types
with one line naming the file and the key (``CardError``), fills the defaults, and resolves ``data_from`` once:
a card that takes its data from another card (``xnli_en`` from ``mnli``) gets that card's ``sources`` and, for
keys it does not set itself, that card's values. Code reads a loaded card; it never hard-codes a task.

The value sets of ``reader``, ``format`` and ``head`` are the keys of the registries that implement them
(``data.task_data.READERS`` and ``SHAPERS``, ``modeling.heads.HEADS``); a test keeps them equal, so this module
needs no model stack. ``evaluator`` names an entry of ``evaluation.registry``, which may be registered from
outside rx (``evaluator_module``), so it is checked when the task is evaluated, and a test checks every shipped
card's.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from retrieval_xfer.errors import CardError

_REQUIRED = object()

KINDS = ("intermediate", "target", "component", "zero-shot", "retrieval")
FORMATS = ("pair-classification", "multiple-choice", "tagging", "span-qa", "retrieval", "masked-lm")
HEAD_TYPES = ("classification", "multiple-choice", "tagging", "span", "masked-lm")
READER_NAMES = ("jsonl", "csv", "tsv", "squad", "token-tag", "conllu", "ccg-auto", "ud-xtreme")


@dataclass(frozen=True)
class Key:
    """One allowed key: accepted ``types``, a ``default`` (required when absent), allowed ``choices``, and for
    nested values the schema of a mapping (``fields``), of each item of a list (``items``) or of each value of
    a mapping (``values``)."""

    types: tuple[type, ...]
    default: Any = _REQUIRED
    choices: tuple | None = None
    fields: dict[str, Key] | None = None
    items: dict[str, Key] | None = None
    values: dict[str, Key] | None = None


_STR, _INT, _BOOL, _LIST, _MAP = (str,), (int,), (bool,), (list,), (dict,)
_ANY = (str, int, float, bool, list, dict)

_LOCAL_FORMAT = {  # how one local file format is read (also each ``by_suffix`` override)
    "reader": Key(_STR, None, READER_NAMES),
    "columns": Key(_LIST, None),
    "quoting": Key(_BOOL, None),
    "fields": Key(_MAP, None),
    "label_map": Key(_MAP, None),
    "skip_labels": Key(_LIST, None),
    "skip_texts": Key(_LIST, None),
}
_LOCAL = {
    **_LOCAL_FORMAT,
    "files": Key(_LIST, None),  # zero-shot cards: file name patterns with {split} and {lang}
    "by_suffix": Key(_MAP, None, values=_LOCAL_FORMAT),
    "release_reader": Key(_STR, None, READER_NAMES),  # a UD release folder as --data-dir: its files' reader
    "source": Key(_STR, None),  # retrieval cards: the file names of each side (and BUCC's gold)
    "target": Key(_STR, None),
    "english": Key(_STR, None),
    "gold": Key(_STR, None),
}
_HUB = {
    "dataset": Key(_STR),
    "revision": Key(_STR, None),  # a pinned commit or tag of the dataset repository (recorded in results)
    "source_id": Key(_STR, None),  # BUCC: the columns holding the corpora's own sentence ids
    "target_id": Key(_STR, None),
    "config": Key(_STR, None),
    "splits": Key(_MAP, None),
    "split": Key(_STR, None),
    "fields": Key(_MAP, None),
    "filter": Key(_MAP, None),
    "label_names": Key(_LIST, None),
    "label_map": Key(_MAP, None),
    "skip_labels": Key(_LIST, None),
    "skip_texts": Key(_LIST, None),
    "source": Key(_STR, None),
    "target": Key(_STR, None),
    "english": Key(_STR, None),
}
_SOURCES = {
    "local": Key(_MAP, None, fields=_LOCAL),
    "hub": Key(_LIST, None, items=_HUB),
    "data_from": Key(_STR, None),
    "combine": Key(_LIST, None),
}
_MINING = {  # the margin and retrieval names are mining.options's (checked when a job resolves its options)
    "k": Key(_INT),
    "margin": Key(_STR),
    "retrieval": Key(_STR),
}


def _key(types: tuple[type, ...], default: Any = _REQUIRED, choices: tuple | None = None, **nested: Any) -> Any:
    """A ``TaskCard`` field declared with its ``Key`` rule (the rule is the field's only declaration)."""
    return field(metadata={"rule": Key(types, default, choices, **nested)})


@dataclass(frozen=True)
class TaskCard:
    """One task card, checked and with its defaults filled (``load_card``); code reads its attributes.

    Each field's rule (types, default, allowed values) sits beside it; ``CARD_SCHEMA`` is made from them."""

    name: str = _key(_STR)
    kind: str = _key(_STR, choices=KINDS)
    format: str = _key(_STR, choices=FORMATS)
    metric: str = _key(_STR)
    sources: dict[str, Any] = _key(_MAP, fields=_SOURCES)
    languages: list[str] | dict[str, str | None] = _key((list, dict), [])
    head: str | None = _key(_STR, None, HEAD_TYPES)
    evaluator: str | None = _key(_STR, None)  # an entry of evaluation.registry (checked when the task is evaluated)
    evaluator_module: str | None = _key(_STR, None)  # a module outside rx that registers ``evaluator`` on import
    cli_name: str | None = _key(_STR, None)  # the name of its ``rx eval`` command, if not the card's name
    report_key: str | None = _key(_STR, None)
    report_order: int | None = _key(_INT, None)  # the task's column in rx report's table (XTREME's order)
    labels: list[str] | None = _key(_LIST, None)
    num_choices: int | None = _key(_INT, None)
    max_length: int = _key(_INT, 256)
    doc_stride: int = _key(_INT, 128)
    max_answer_length: int = _key(_INT, 30)
    allow_unanswerable: bool = _key(_BOOL, False)
    normalization: str = _key(_STR, "squad", ("squad", "mlqa"))
    trained_by: list[str] = _key(_LIST, [])
    target_task: str | list[str] | None = _key((str, list), None)
    language_names: dict[str, str] = _key(_MAP, {})
    comparability: dict[str, str] = _key(_MAP, {})  # {lang: why hub data differs from XTREME's}: results say so
    language_sets: dict[str, list[str]] = _key(_MAP, {})
    directions: dict[str, Any] = _key(_MAP, {})
    xtreme_direction: str | None = _key(_STR, None)
    mining: dict[str, Any] | None = _key(_MAP, None, fields=_MINING)
    pairs: list[str] = _key(_LIST, [])
    splits: dict[str, list[str]] = _key(_MAP, {})
    data_from: str | None = None  # the card whose sources (and unset keys) this one takes; set by load_card

    def replace(self, **changes: Any) -> TaskCard:
        """A copy with ``changes`` (e.g. a shorter ``max_length`` for one evaluation)."""
        return dataclasses.replace(self, **changes)


CARD_SCHEMA: dict[str, Key] = {f.name: f.metadata["rule"] for f in fields(TaskCard) if "rule" in f.metadata}


def _check(raw: dict, schema: dict[str, Key], path: Path, scope: str, fill: bool) -> dict:
    """``raw`` checked against ``schema``: unknown keys, missing required keys, wrong types and values are a
    CardError naming ``path`` and the key; with ``fill``, absent optional keys get their defaults."""
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise CardError(f"{path}: unknown key '{scope}{unknown[0]}' (allowed here: {', '.join(schema)})")
    checked: dict[str, Any] = {}
    for key, rule in schema.items():
        where = f"{scope}{key}"
        if key not in raw or raw[key] is None:
            if rule.default is _REQUIRED:
                raise CardError(f"{path}: missing key '{where}'")
            if fill:
                checked[key] = (
                    list(rule.default)
                    if isinstance(rule.default, list)
                    else (dict(rule.default) if isinstance(rule.default, dict) else rule.default)
                )
            continue
        value = raw[key]
        if not isinstance(value, rule.types) or (isinstance(value, bool) and bool not in rule.types):
            names = " or ".join(t.__name__ for t in rule.types)
            raise CardError(f"{path}: '{where}' must be a {names}, not {type(value).__name__}")
        if rule.choices is not None and value not in rule.choices:
            raise CardError(f"{path}: '{where}' is {value!r}; allowed: {', '.join(map(str, rule.choices))}")
        if rule.fields is not None:
            value = _check(value, rule.fields, path, f"{where}.", fill=False)
        if rule.items is not None:
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise CardError(f"{path}: '{where}[{i}]' must be a mapping")
            value = [_check(item, rule.items, path, f"{where}[{i}].", fill=False) for i, item in enumerate(value)]
        if rule.values is not None:
            for sub, item in value.items():
                if not isinstance(item, dict):
                    raise CardError(f"{path}: '{where}.{sub}' must be a mapping")
            value = {sub: _check(item, rule.values, path, f"{where}.{sub}.", fill=False) for sub, item in value.items()}
        checked[key] = value
    return checked


def tasks_dir() -> Path:
    """Where the cards live: ``$RX_TASKS_DIR``, the checkout's ``tasks/``, or the installed copy under share/."""
    candidates = [
        Path(os.environ["RX_TASKS_DIR"]) if os.environ.get("RX_TASKS_DIR") else None,
        Path(__file__).resolve().parent.parent.parent / "tasks",
        Path(sys.prefix) / "share" / "retrieval_xfer" / "tasks",
    ]
    for folder in candidates:
        if folder is not None and folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    raise CardError("no task cards found (set RX_TASKS_DIR to the project's tasks/ folder)")


def _read_raw(path: Path, name: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise CardError(f"{path}: malformed task card ({err.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise CardError(f"{path}: malformed task card (expected a mapping of keys)")
    if raw.get("name") != name:
        raise CardError(f"{path}: malformed task card (its 'name' must be {name!r}, the file's name)")
    return raw


def _card_values(name: str, seen: tuple[str, ...]) -> dict[str, Any]:
    folder = tasks_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise CardError(f"unknown task {name!r}; task cards: {valid}")
    raw = _read_raw(path, name)
    values = _check(raw, CARD_SCHEMA, path, "", fill=True)
    origin = values["sources"].get("data_from")
    if origin:
        if origin in seen + (name,):
            raise CardError(f"{path}: 'sources.data_from' loops back to {origin!r}")
        other = _card_values(origin, seen + (name,))
        values = {**other, **{key: values[key] for key in raw if key != "sources"}, "sources": other["sources"]}
    values["data_from"] = origin
    return values


def load_card(name: str) -> TaskCard:
    """Read and check ``tasks/<name>.yaml``; CardError naming the valid cards when it does not exist, or naming
    the file and the key when it breaks the schema. ``data_from`` is resolved here (see the module docstring):
    the card has the other card's ``sources`` and ``data_from`` naming it."""
    return TaskCard(**_card_values(name, ()))


def make_card(raw: dict[str, Any], where: str) -> TaskCard:
    """A card built in code (not read from ``tasks/``), checked and filled like a file's; ``where`` names it."""
    return TaskCard(**_check(raw, CARD_SCHEMA, Path(where), "", fill=True), data_from=None)


def list_cards() -> list[TaskCard]:
    """Every task card, sorted by kind (intermediate, target, component, zero-shot, retrieval) then name.

    A card that breaks the schema is a CardError here too: it never silently drops out of the list."""
    order = {kind: i for i, kind in enumerate(KINDS)}
    cards = [load_card(path.stem) for path in tasks_dir().glob("*.yaml")]
    return sorted(cards, key=lambda c: (order[c.kind], c.name))


def describe_sources(card: TaskCard, wide: bool = False) -> tuple[str, str]:
    """``(hub, local)`` one-line summaries of where a task's data comes from: the first hub source and how many
    more (every source with ``wide``)."""
    sources = card.sources
    hubs = [f"{h['dataset']}{'/' + h['config'] if h.get('config') else ''}" for h in sources.get("hub") or []]
    if sources.get("combine"):
        hub = " + ".join(sources["combine"])
    elif card.data_from:
        hub = f"= {card.data_from}"
    elif wide or len(hubs) <= 1:
        hub = ", ".join(hubs)
    else:
        hub = f"{hubs[0]} (+{len(hubs) - 1} more)"
    local = sources.get("local") or {}
    if local.get("reader"):
        local_text = local["reader"] + "".join(
            f" ({suffix}: {alt['reader']})" for suffix, alt in (local.get("by_suffix") or {}).items()
        )
        if local.get("release_reader"):
            local_text += f" (release folder: {local['release_reader']})"
    else:
        local_text = "LASER/BUCC files" if card.kind == "retrieval" else ("as " + hub.lstrip("= ") if hub else "-")
    return hub or "-", local_text
