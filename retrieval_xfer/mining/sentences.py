"""Mining between two lists of sentences: duplicates unified first, so each distinct sentence is one vector."""

from __future__ import annotations

from collections.abc import Sequence


def unique_texts(sentences: Sequence[str]) -> list[str]:
    """The distinct sentences (surrounding whitespace ignored), in order of first appearance."""
    return list(dict.fromkeys(s.strip() for s in sentences))
