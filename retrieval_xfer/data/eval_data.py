"""Evaluation data of a zero-shot task, one language at a time: local files found by the card's patterns,
or the hub configs of the card (``{lang}``, ``{name}`` and ``{split}`` are filled in).

Records have the shapes of ``retrieval_xfer.data.task_data`` (the same shapers read training and evaluation data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.data.task_data import TaskData, read_release_files, read_task_file, read_task_hub
from retrieval_xfer.data.ud_release import SPLIT_WORDS, find_release_files, is_release_folder
from retrieval_xfer.errors import HubUnreachableError, RxError, SplitMissingError


@dataclass(frozen=True)
class ReleaseFiles:
    """One language's files of a release folder for one split (empty when the language lacks that split;
    ``other_splits`` then says which it has)."""

    folder: Path
    lang: str
    split: str
    paths: tuple[Path, ...]
    other_splits: tuple[str, ...] = ()


LanguageData = Path | ReleaseFiles


def _fill(value: Any, fields: dict[str, str]) -> Any:
    """``value`` with ``{lang}``/``{name}``/``{split}`` filled in every string, recursively."""
    if isinstance(value, str):
        return re.sub(r"\{(lang|name|split)\}", lambda m: fields[m.group(1)], value)
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields) for k, v in value.items()}
    return value


def _fields(card: TaskCard, lang: str, split: str) -> dict[str, str]:
    return {"lang": lang, "name": card.language_names.get(lang, lang), "split": split}


def _pattern_regex(pattern: str, split: str | None) -> re.Pattern:
    """A file-name pattern as a regex: ``{lang}`` captured (repeats must agree), ``{split}`` literal or any word."""
    text = re.escape(pattern)
    text = text.replace(re.escape("{split}"), re.escape(split) if split else "[A-Za-z]+")
    text = text.replace(re.escape("{lang}"), "(?P<lang>[A-Za-z-]+)", 1).replace(re.escape("{lang}"), "(?P=lang)")
    return re.compile(text + "$")


def find_language_files(card: TaskCard, data_dir: Path, split: str) -> dict[str, Path]:
    """Every ``language → file`` under ``data_dir`` matching one of the card's ``sources.local.files`` patterns
    (the first pattern that matches a language wins). RxError when ``data_dir`` is not a folder."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RxError(f"{data_dir}: no such folder")
    found: dict[str, Path] = {}
    for pattern in card.sources["local"]["files"]:
        regex = _pattern_regex(pattern, split)
        glob = re.sub(r"\{lang\}", "*", pattern.replace("{split}", split))
        for path in sorted(data_dir.glob(glob)):
            match = regex.search(path.relative_to(data_dir).as_posix())
            if match and match.group("lang") not in found:
                found[match.group("lang")] = path
    return found


def find_release_languages(card: TaskCard, folder: Path, split: str) -> dict[str, ReleaseFiles]:
    """Every language of the card found in a release folder (UD's ``ud-treebanks-v2.5/``) by XTREME's rules,
    with its files for ``split``; a language with files for other splits only gets empty ``paths``.
    Empty when the card has no ``release_reader`` or ``folder`` is not a release folder."""
    if not card.sources["local"].get("release_reader") or not is_release_folder(folder):
        return {}
    by_split = find_release_files(folder, list(card.languages))
    if split not in by_split:
        raise RxError(f"{folder}: a UD release has the splits {', '.join(SPLIT_WORDS)}, not {split!r}")
    languages = sorted({lang for files in by_split.values() for lang in files})
    return {
        lang: ReleaseFiles(
            Path(folder),
            lang,
            split,
            by_split[split].get(lang, ()),
            tuple(name for name in SPLIT_WORDS if lang in by_split[name]),
        )
        for lang in languages
    }


def language_of_file(card: TaskCard, path: Path) -> str | None:
    """The language a file name says (``dev-de.tsv`` → ``de``, any split) by the card's patterns, or None."""
    for pattern in card.sources["local"]["files"]:
        match = _pattern_regex(Path(pattern).name, None).search(Path(path).name)
        if match:
            return match.group("lang")
    return None


def read_language_file(card: TaskCard, path: LanguageData, limit: int | None = None) -> TaskData:
    """One language's evaluation records from a local file in the card's format, or from its files of a release
    folder (SplitMissingError when the language has none for the split)."""
    if isinstance(path, ReleaseFiles):
        if not path.paths:
            raise SplitMissingError(
                f"{path.folder}: no {path.split!r} files for {path.lang} (it has {', '.join(path.other_splits)})"
            )
        return read_release_files(card, list(path.paths), limit)
    return read_task_file(card, Path(path), limit)


def read_language_hub(card: TaskCard, lang: str, split: str, limit: int | None = None) -> TaskData:
    """One language's evaluation records from the first hub source of the card that loads."""
    errors = []
    for hub in card.sources.get("hub") or []:
        filled = _fill(hub, _fields(card, lang, split))
        one = card.replace(sources={"hub": [filled]})
        try:
            return read_task_hub(one, split, limit, hint="pass --data-dir with local files")
        except HubUnreachableError:
            raise
        except RxError as err:
            errors.append(str(err))
    raise RxError(f"{card.name} {lang}: no hub source could be read ({'; '.join(errors) or 'none in the card'})")
