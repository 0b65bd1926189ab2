"""Mining between two lists of sentences: duplicates unified first, so each distinct sentence is one vector."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval_xfer.mining.candidates import Candidates


@dataclass
class MinedSentences:
    """Candidates between ``src_texts`` and ``trg_texts`` (unique sentences, in first-seen order)."""

    src_texts: list[str]
    trg_texts: list[str]
    candidates: Candidates


def unique_texts(sentences: Sequence[str]) -> list[str]:
    """The distinct sentences (surrounding whitespace ignored), in order of first appearance."""
    return list(dict.fromkeys(s.strip() for s in sentences))
