"""UD-POS from the original Universal Dependencies release folder, selected and converted as XTREME does.

XTREME builds its UD-POS files from ``ud-treebanks-v2.5/`` in three steps (``scripts/download_data.sh`` and
``utils_preprocess.py --task udpos`` of google-research/xtreme); this module repeats them, so that results read
import logging
from the release are comparable with XTREME's published ones:

1. **Selection by ISO prefix**: every ``*/*.conllu`` whose file name starts with ``<iso>_`` for an ISO code of the
   card's language list (``el_gdt-ud-dev.conllu`` is Greek; ``grc_perseus-...`` is Ancient Greek, not taken).
   The split is the first of ``train``, ``dev``, ``test`` that the file name contains. A language's files are
   concatenated in the order of their sorted file names.
2. **Fused forms** (``ud-conversion-tools/conllu_to_conll.py --replace_subtokens_with_fused_forms``): each
   multi-word token (``3-4 del``) becomes one word with the surface form and the tag of the span's head. The head
   is the span's one word closest to the root (fewest ancestors in the graph of basic and enhanced dependencies);
   on a tie, the tied word whose UPOS comes first in the language's precedence list (``POS_PRECEDENCE``).
3. **Filters** (``udpos_preprocess``): a sentence whose words are all, or all but one, ``_`` (treebanks released
   without text) is dropped; ZERO WIDTH NON-JOINER and spaces inside a word are removed.

Where XTREME's converter would stop on a file (a tied head whose UPOS is not in the precedence list: XTREME then
writes no file for that treebank split), this reader ranks the unlisted tag after every listed one and warns.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from retrieval_xfer.data.text_files import iter_lines
from retrieval_xfer.errors import RxError

logger = logging.getLogger(__name__)

# conllu_to_conll.py's precedence of UPOS tags when choosing the head of a fused span (first = preferred).
POS_PRECEDENCE: dict[str, list[str]] = {
    "default": "VERB NOUN PROPN PRON ADJ NUM ADV INTJ AUX ADP DET PART CCONJ SCONJ X PUNCT".split(),
    "es": "VERB AUX PRON ADP DET".split(),
    "fr": "VERB AUX PRON NOUN ADJ ADV ADP DET PART SCONJ CONJ".split(),
    "it": "VERB AUX ADV PRON ADP DET INTJ".split(),
}
SPLIT_WORDS = ("train", "dev", "test")  # XTREME's order of tests on the file name
ZWNJ = "\u200c"


@dataclass
class _Sentence:
    """One CoNLL-U sentence: words by id, basic and enhanced heads, and the multi-word ranges."""

    forms: dict[int, str] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    heads: dict[int, set[int]] = field(default_factory=dict)  # word → every head (basic and enhanced)
    ranges: dict[int, tuple[int, str]] = field(default_factory=dict)  # first word → (last word, surface form)


def language_of(path: Path) -> str:
    """The ISO prefix of a UD file name, as XTREME reads it: ``el_gdt-ud-dev.conllu`` → ``el``."""
    return Path(path).name.split("_")[0]


def split_of(path: Path) -> str | None:
    """The split a UD file name names (``train``, ``dev``, ``test``), tested in XTREME's order, or None."""
    return next((word for word in SPLIT_WORDS if word in Path(path).name), None)


def is_release_folder(folder: Path) -> bool:
    """Whether ``folder`` looks like a UD release: treebank folders holding ``*.conllu`` files."""
    return any(Path(folder).glob("*/*.conllu"))


def find_release_files(folder: Path, languages: list[str]) -> dict[str, dict[str, tuple[Path, ...]]]:
    """``split → language → its treebank files`` under a UD release folder, for the given ISO codes, each
    language's files in sorted file-name order (XTREME's concatenation order); one walk of the folder."""
    found: dict[str, dict[str, list[Path]]] = {split: {} for split in SPLIT_WORDS}
    for path in sorted(Path(folder).glob("*/*.conllu"), key=lambda p: p.name):
        lang, split = language_of(path), split_of(path)
        if lang in languages and split is not None:
            found[split].setdefault(lang, []).append(path)
    return {split: {lang: tuple(paths) for lang, paths in by_lang.items()} for split, by_lang in found.items()}


def _ancestors(heads: dict[int, set[int]], word: int) -> int:
    """How many nodes have a path to ``word`` (its ancestors, the root 0 included; cycles allowed)."""
    seen: set[int] = {word}
    queue = deque([word])
    while queue:
        for head in heads.get(queue.popleft(), ()):
            if head not in seen:
                seen.add(head)
                queue.append(head)
    return len(seen) - 1


def _span_head(sentence: _Sentence, span: list[int], precedence: list[str], where: str) -> int:
    """The word of ``span`` that keeps its tag when the span is fused (see the module docstring)."""
    depth = {word: _ancestors(sentence.heads, word) for word in span}
    highest = [word for word in span if depth[word] == min(depth.values())]
    if len(highest) == 1:
        return highest[0]
    unlisted = sorted({sentence.tags[w] for w in highest if sentence.tags[w] not in precedence})
    if unlisted:
        logger.warning(
            f"{where}: tied head of a fused token tagged {', '.join(unlisted)}, not in the precedence "
            "list (XTREME's converter stops on this file); ranked last"
        )
    rank = {tag: i for i, tag in enumerate(precedence)}
    return min(highest, key=lambda w: (rank.get(sentence.tags[w], len(precedence)), span.index(w)))


def _fused(sentence: _Sentence, precedence: list[str], where: str) -> tuple[list[str], list[str]]:
    """The sentence's words and tags after replacing every multi-word span with its fused form."""
    dropped: set[int] = set()
    forms = dict(sentence.forms)
    for first, (last, surface) in sorted(sentence.ranges.items()):
        span = [w for w in range(first, last + 1) if w in sentence.forms]
        if not span:
            continue
        head = _span_head(sentence, span, precedence, where)
        forms[head] = surface
        dropped.update(w for w in span if w != head)
    words = [w for w in sorted(forms) if w not in dropped]
    return [forms[w] for w in words], [sentence.tags[w] for w in words]


def _sentences(path: Path) -> Iterator[tuple[int, _Sentence]]:
    """The sentences of a CoNLL-U file with the line each starts on; RxError naming file and line if malformed."""
    sentence, start = _Sentence(), 0
    for number, line in iter_lines(path):
        if not line.strip():
            if sentence.forms:
                yield start, sentence
            sentence = _Sentence()
            continue
        if line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 10:
            raise RxError(f"{path}:{number}: expected 10 tab-separated CoNLL-U fields, found {len(parts)}")
        if not sentence.forms and not sentence.ranges:
            start = number
        ident = parts[0]
        try:
            if "." in ident:  # an empty node of the enhanced graph: not a word
                continue
            if "-" in ident:
                first, last = (int(x) for x in ident.split("-"))
                sentence.ranges[first] = (last, parts[1])
                continue
            word = int(ident)
            heads = {int(parts[6])} if parts[6] != "_" else set()
        except ValueError:
            raise RxError(f"{path}:{number}: bad CoNLL-U word id {ident!r} or head {parts[6]!r}") from None
        if parts[8] != "_":  # enhanced dependencies head:relation|...; heads on empty nodes (8.1) are ignored
            heads.update(int(dep.split(":")[0]) for dep in parts[8].split("|") if dep.split(":")[0].isdigit())
        sentence.forms[word] = parts[1]
        sentence.tags[word] = parts[3].strip()
        sentence.heads[word] = heads
    if sentence.forms:
        yield start, sentence


def iter_ud_xtreme(path: Path) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """Sentences ``{"tokens", "tags"}`` (UPOS) of one UD release file, converted as XTREME converts it."""
    lang = language_of(path)
    precedence = POS_PRECEDENCE.get(lang, POS_PRECEDENCE["default"])
    for start, sentence in _sentences(path):
        tokens, tags = _fused(sentence, precedence, f"{path}:{start}")
        blanks = sum(token == "_" for token in tokens)
        if blanks and blanks >= len(tokens) - 1:  # a treebank released without its text
            continue
        tokens = ["".join(token.strip().replace(ZWNJ, "").split(" ")) for token in tokens]
        yield start, {"tokens": tokens, "tags": tags}
