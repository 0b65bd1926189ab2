"""Splitting a line of raw text (a paragraph) into sentences, before it is normalised and filtered.

Two rule-based splitters are wrapped, both in the ``split`` extra and both offline (their rules ship in the
wheel); ``bench/sentence_split.py`` compares them on real text (README: "Preparing raw text"):

- ``moses``: the ``sentence-splitter`` package, Moses' splitter with its lists of non-breaking prefixes
  ("Dr.", "z. B."), for 24 European languages; what stopes uses where it has the language;
- ``pysbd``: pySBD's rules for 23 languages, Chinese, Japanese, Arabic and Hindi among them; slower.
"""

from __future__ import annotations

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


def load_splitter(name: str, lang: str) -> SentenceSplitter:
    """The splitter ``name`` (one of SPLITTERS) for ``lang``: RxError in one line when its package is missing or
    it does not know the language."""
    if name not in SPLITTERS:
        raise RxError(f"--split-sentences {name!r}: choose {', '.join(SPLITTERS)} or none")
    return MosesSplitter(lang) if name == "moses" else PysbdSplitter(lang)
