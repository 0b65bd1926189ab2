"""Token-level tagging files: ``token<TAB>tag`` blocks (XTREME UD-POS/PAN-X), CoNLL-U, and CCGbank AUTO."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from retrieval_xfer.data.text_files import iter_lines
from retrieval_xfer.errors import RxError

Sentence = dict[str, list[str]]


def _blocks(path: Path, parse: Callable[[int, str], tuple[str, str] | None]) -> Iterator[tuple[int, Sentence]]:
    """Sentences separated by blank lines; ``parse`` turns a line into ``(token, tag)``, or None to skip it."""
    tokens: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in iter_lines(path):
        if not line.strip():
            if tokens:
                yield start, {"tokens": tokens, "tags": tags}
            tokens, tags = [], []
            continue
        parsed = parse(number, line)
        if parsed is None:
            continue
        if not tokens:
            start = number
        tokens.append(parsed[0])
        tags.append(parsed[1])
    if tokens:
        yield start, {"tokens": tokens, "tags": tags}


def iter_token_tag(path: Path) -> Iterator[tuple[int, Sentence]]:
    """Sentences of a ``token<TAB>tag`` file, separated by blank lines; yields ``(first line, sentence)``.

    XTREME's PAN-X files prefix tokens with the language (``en:Paris``); the prefix is removed.
    """

    def parse(number: int, line: str) -> tuple[str, str]:
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0] or not parts[-1]:
            raise RxError(f"{path}:{number}: expected 'token<TAB>tag'")
        return re.sub(r"^[a-z]{2,3}:(?=.)", "", parts[0]), parts[-1]

    return _blocks(path, parse)


def iter_conllu(path: Path, column: int = 3) -> Iterator[tuple[int, Sentence]]:
    """Sentences of a CoNLL-U file with the tag from ``column`` (3 = UPOS); multi-word ranges and empty nodes
    skipped."""

    def parse(number: int, line: str) -> tuple[str, str] | None:
        if line.startswith("#"):
            return None
        parts = line.split("\t")
        if len(parts) != 10:
            raise RxError(f"{path}:{number}: expected 10 tab-separated CoNLL-U fields, found {len(parts)}")
        if "-" in parts[0] or "." in parts[0]:
            return None
        return parts[1], parts[column]

    return _blocks(path, parse)


_AUTO_LEAF = re.compile(r"\(<L (\S+) \S+ \S+ (\S+) \S+>\)")


def iter_ccg_auto(path: Path) -> Iterator[tuple[int, Sentence]]:
    """Supertagged sentences of a CCGbank AUTO file: each ``ID=`` line is followed by one derivation line
    whose leaves ``(<L supertag POS POS word predarg>)`` give the tokens and their CCG supertags."""
    expect_tree = False
    for number, line in iter_lines(path):
        if line.startswith("ID="):
            expect_tree = True
            continue
        if not line.strip():
            continue
        if not expect_tree:
            raise RxError(f"{path}:{number}: expected an 'ID=' line before a derivation")
        leaves = _AUTO_LEAF.findall(line)
        if not leaves:
            raise RxError(f"{path}:{number}: no CCG leaves '(<L ...>)' in the derivation")
        yield number, {"tokens": [word for _, word in leaves], "tags": [tag for tag, _ in leaves]}
        expect_tree = False
