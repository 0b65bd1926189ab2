"""Evaluation data of a zero-shot task, one language at a time: local files found by the card's patterns,
or the hub configs of the card (``{lang}``, ``{name}`` and ``{split}`` are filled in).

Records have the shapes of ``retrieval_xfer.data.task_data`` (the same shapers read training and evaluation data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from retrieval_xfer.data.task_data import TaskData, read_task_file, read_task_hub
from retrieval_xfer.errors import HubUnreachableError, RxError


def _fill(value: Any, fields: dict[str, str]) -> Any:
    """``value`` with ``{lang}``/``{name}``/``{split}`` filled in every string, recursively."""
    if isinstance(value, str):
        return re.sub(r"\{(lang|name|split)\}", lambda m: fields[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields) for k, v in value.items()}
    return value


def _fields(card: dict[str, Any], lang: str, split: str) -> dict[str, str]:
    return {"lang": lang, "name": card["language_names"].get(lang, lang), "split": split}


def _pattern_regex(pattern: str, split: str | None) -> re.Pattern:
    """A file-name pattern as a regex: ``{lang}`` captured (repeats must agree), ``{split}`` literal or any word."""
    text = re.escape(pattern)
    text = text.replace(re.escape("{split}"), re.escape(split) if split else "[A-Za-z]+")
    text = text.replace(re.escape("{lang}"), "(?P<lang>[A-Za-z-]+)", 1).replace(re.escape("{lang}"), "(?P=lang)")
    return re.compile(text + "$")


def find_language_files(card: dict[str, Any], data_dir: Path, split: str) -> dict[str, Path]:
    """Every ``language → file`` under ``data_dir`` matching one of the card's ``sources.local.files`` patterns
    (the first pattern that matches a language wins). RxError when ``data_dir`` is not a folder."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RxError(f"{data_dir}: no such folder")
    found: dict[str, Path] = {}
    for pattern in card["sources"]["local"]["files"]:
        regex = _pattern_regex(pattern, split)
        glob = re.sub(r"\{lang\}", "*", pattern.replace("{split}", split))
        for path in sorted(data_dir.glob(glob)):
            match = regex.search(path.relative_to(data_dir).as_posix())
            if match and match.group("lang") not in found:
                found[match.group("lang")] = path
    return found


def language_of_file(card: dict[str, Any], path: Path) -> str | None:
    """The language a file name says (``dev-de.tsv`` → ``de``, any split) by the card's patterns, or None."""
    for pattern in card["sources"]["local"]["files"]:
        match = _pattern_regex(Path(pattern).name, None).search(Path(path).name)
        if match:
            return match.group("lang")
    return None


def read_language_file(card: dict[str, Any], path: Path, limit: int | None = None) -> TaskData:
    """One language's evaluation records from a local file in the card's format."""
    return read_task_file(card, Path(path), limit)


def read_language_hub(card: dict[str, Any], lang: str, split: str, limit: int | None = None) -> TaskData:
    """One language's evaluation records from the first hub source of the card that loads."""
    errors = []
    for hub in card["sources"].get("hub") or []:
        filled = _fill(hub, _fields(card, lang, split))
        one = {**card, "sources": {"hub": [filled]}}
        try:
            return read_task_hub(one, split, limit, hint="pass --data-dir with local files")
        except HubUnreachableError:
            raise
        except RxError as err:
            errors.append(str(err))
    raise RxError(f"{card['name']} {lang}: no hub source could be read ({'; '.join(errors) or 'none in the card'})")
