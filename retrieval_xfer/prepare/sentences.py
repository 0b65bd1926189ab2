"""Splitting a line of raw text (a paragraph) into sentences, before it is normalised and filtered.

Two rule-based splitters are wrapped, both in the ``split`` extra and both offline (their rules ship in the
wheel); ``bench/sentence_split.py`` compares them on real text (README: "Preparing raw text"):

- ``moses``: the ``sentence-splitter`` package, Moses' splitter with its lists of non-breaking prefixes
  ("Dr.", "z. B."), for 24 European languages; what stopes uses where it has the language;
- ``pysbd``: pySBD's rules for 23 languages, Chinese, Japanese, Arabic and Hindi among them; slower.

Both take time that grows faster than the length of the text they are given (a crawled page without a newline,
29 MB, ran for over 10 minutes), so no splitter ever sees more than ``MAX_SPLIT_CHARS`` characters at once
(``BoundedSplitter``: a longer line is split window by window, each window starting at the last sentence the
previous one found). The work is linear in the line's length (``bench/long_line_split.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Protocol

from retrieval_xfer.errors import RxError
from retrieval_xfer.prepare.options import SPLITTERS


class SentenceSplitter(Protocol):
    name: str

    def split(self, text: str) -> list[str]:
        """The sentences of ``text``, in order, without surrounding spaces."""


def _missing(module: str) -> RxError:
    return RxError(f"--split-sentences needs {module}: pip install 'retrieval_xfer[split]' (or --split-sentences none)")


def _unknown(name: str, lang: str, known: list[str]) -> RxError:
    return RxError(
        f"--lang {lang!r}: the {name} sentence splitter does not know this language (it knows {', '.join(known)})"
    )


class MosesSplitter:
    """Moses' sentence splitter (``sentence-splitter``): non-breaking prefixes per language."""

    name = "moses"

    def __init__(self, lang: str) -> None:
        try:
            import sentence_splitter
        except ImportError:
            raise _missing("sentence-splitter") from None
        try:
            self._splitter = sentence_splitter.SentenceSplitter(language=lang)
        except sentence_splitter.SentenceSplitterException:
            raise _unknown(self.name, lang, _moses_languages(sentence_splitter)) from None

    def split(self, text: str) -> list[str]:
        return [sentence.strip() for sentence in self._splitter.split(text) if sentence.strip()]


def _moses_languages(module: ModuleType) -> list[str]:
    folder = Path(module.__file__).parent / "non_breaking_prefixes"
    return sorted(path.name.split(".")[0] for path in folder.glob("*.txt"))


class PysbdSplitter:
    """pySBD (Golden Rules based): more languages, Chinese and Japanese among them."""

    name = "pysbd"

    def __init__(self, lang: str) -> None:
        try:
            import pysbd
            from pysbd.languages import LANGUAGE_CODES
        except ImportError:
            raise _missing("pysbd") from None
        if lang not in LANGUAGE_CODES:
            raise _unknown(self.name, lang, sorted(LANGUAGE_CODES))
        self._segmenter = pysbd.Segmenter(language=lang, clean=False)

    def split(self, text: str) -> list[str]:
        return [sentence.strip() for sentence in self._segmenter.segment(text) if sentence.strip()]


MAX_SPLIT_CHARS = 10_000  # the most a splitter is given at once: well above any paragraph, far below a page
# A sentence end followed by a space, or a full stop of a script that writes no spaces (CJK, Devanagari danda).
_SENTENCE_END = re.compile(r"(?:[.!?\u0964\u0965\u061f\u06d4](?=\s)|[\u3002\uff01\uff1f])")
_SPACE = re.compile(r"\s")


def bounded_pieces(text: str, limit: int = MAX_SPLIT_CHARS) -> Iterator[str]:
    """``text`` in consecutive pieces of at most ``limit`` characters, each cut after its last sentence end, else
    at its last space, else at ``limit``; joined, they are ``text`` again. Linear in ``len(text)``."""
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        ends = [m.end() for m in _SENTENCE_END.finditer(window, limit // 2)]
        spaces = [m.end() for m in _SPACE.finditer(window, limit // 2)] if not ends else []
        cut = (ends or spaces or [limit])[-1]
        yield window[:cut]
        start += cut
    yield text[start:]


class BoundedSplitter:
    """A splitter that is never handed more than ``limit`` characters at once.

    A longer text is read in windows of ``limit`` characters: the splitter splits the window, every sentence but
    the last is kept, and the next window starts where that last (perhaps unfinished) sentence starts, so a
    boundary is always one the splitter itself chose ("z. B." stays inside its sentence). A window that holds
    no boundary (one sentence longer than ``limit``) is cut by ``bounded_pieces`` at half of it. Every second
    window at the latest advances by a quarter of ``limit`` or more, so the work is linear in the text's length."""

    def __init__(self, splitter: SentenceSplitter, limit: int = MAX_SPLIT_CHARS) -> None:
        if limit < 4:
            raise ValueError("limit must be at least 4 characters")
        self.splitter, self.limit, self.name = splitter, limit, splitter.name

    def split(self, text: str) -> list[str]:
        sentences: list[str] = []
        start = 0
        while len(text) - start > self.limit:
            window = text[start : start + self.limit]
            found = self.splitter.split(window)
            last = window.rfind(found[-1]) if len(found) > 1 else -1
            if last <= 0:  # no boundary the splitter found (or cannot be located): cut the window itself
                piece = next(bounded_pieces(window, self.limit // 2))
                sentences += self.splitter.split(piece)
                start += len(piece)
                continue
            sentences += found[:-1]
            start += last
        return sentences + self.splitter.split(text[start:])


def load_splitter(name: str, lang: str) -> SentenceSplitter:
    """The splitter ``name`` (one of SPLITTERS) for ``lang``, bounded to ``MAX_SPLIT_CHARS`` a call: RxError in
    one line when its package is missing or it does not know the language."""
    if name not in SPLITTERS:
        raise RxError(f"--split-sentences {name!r}: choose {', '.join(SPLITTERS)} or none")
    return BoundedSplitter(MosesSplitter(lang) if name == "moses" else PysbdSplitter(lang))
