"""The rule-based checks ``rx score`` makes of each given pair, beside its margin (Bicleaner's hard rules and the
filters stopes and OpusFilter apply): each returns one flag per pair, True where the pair fails.

- ``copy``: the target is (nearly) the source: the same normalised text, or character trigrams that overlap by
  ``COPY_OVERLAP`` or more (an untranslated segment, or a copy with a word changed);
- ``numbers``: the two sides hold different numbers (``post_filters.numbers_in``);
- ``length_ratio``: the length ratio lies outside the bounds (``post_filters.length_ratio_outside``);
- ``duplicate``: the same normalised pair occurred on an earlier line.

Language identification needs a model, so the workflow runs it and hands in its answers (``language_flags``).
Each text's normalised form (its key) comes from the caller too, computed once (``prepare.normalise.line_key``:
most of what these checks cost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from retrieval_xfer.mining.post_filters import length_ratio_outside, numbers_differ

COPY_OVERLAP = 0.8  # Jaccard overlap of character trigrams from which a target counts as a copy of its source
MIN_LANGUAGE_CHARACTERS = 20  # shorter texts are not judged by language ID (names, numbers, UI labels)


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def is_copy(a: str, b: str) -> bool:
    """Whether the text whose key is ``b`` is the one whose key is ``a``, or nearly (see the module)."""
    if a == b:
        return True
    x, y = _trigrams(a), _trigrams(b)
    return len(x & y) >= COPY_OVERLAP * len(x | y)


def copy_flags(src_keys: Sequence[str], trg_keys: Sequence[str]) -> np.ndarray:
    """One flag per pair (given each side's keys): the target is a copy of the source."""
    return np.array([is_copy(s, t) for s, t in zip(src_keys, trg_keys)], dtype=bool)


def numbers_flags(src: Sequence[str], trg: Sequence[str]) -> np.ndarray:
    """One flag per pair: the two sides hold different numbers."""
    return np.array([numbers_differ(s, t) for s, t in zip(src, trg)], dtype=bool)


def length_flags(src: Sequence[str], trg: Sequence[str], bounds: tuple[float, float]) -> np.ndarray:
    """One flag per pair: the length ratio lies outside ``bounds``."""
    return np.array([length_ratio_outside(s, t, bounds) for s, t in zip(src, trg)], dtype=bool)


def duplicate_flags(src_keys: Sequence[str], trg_keys: Sequence[str]) -> np.ndarray:
    """One flag per pair (given each side's keys): the same pair occurred before (its first time is not flagged)."""
    seen: set[tuple[str, str]] = set()
    flags = np.zeros(len(src_keys), dtype=bool)
    for i, pair in enumerate(zip(src_keys, trg_keys)):
        flags[i] = pair in seen
        seen.add(pair)
    return flags


def language_flags(
    texts: Sequence[str], found: Sequence[str | None], is_wanted: Callable[[str | None], bool]
) -> np.ndarray:
    """One flag per text: language ID (``found``) names another language than the wanted one, for texts of at
    least ``MIN_LANGUAGE_CHARACTERS`` letters (shorter ones are not judged: an identifier guesses on them)."""
    return np.array(
        [
            sum(c.isalpha() for c in text) >= MIN_LANGUAGE_CHARACTERS and not is_wanted(lang)
            for text, lang in zip(texts, found)
        ],
        dtype=bool,
    )
