"""Mining between two lists of sentences: duplicates unified, each unique sentence encoded once, then mined."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.mining.candidates import Candidates, mine_candidates


@dataclass
class MinedSentences:
    """Candidates between ``src_texts`` and ``trg_texts`` (unique sentences, in first-seen order)."""

    src_texts: list[str]
    trg_texts: list[str]
    candidates: Candidates


def unique_texts(sentences: Sequence[str]) -> list[str]:
    """The distinct sentences (surrounding whitespace ignored), in order of first appearance."""
    return list(dict.fromkeys(s.strip() for s in sentences))


def mine_sentences(encoder: Encoder, src: Sequence[str], trg: Sequence[str], k: int = 4, margin: str = "ratio",
                   retrieval: str = "max") -> MinedSentences:
    """Unify duplicates on each side, encode the unique sentences and mine candidate pairs between them."""
    src_texts, trg_texts = unique_texts(src), unique_texts(trg)
    x = encoder.encode(src_texts, desc=f"encoding source ({len(src_texts)} unique)")
    y = encoder.encode(trg_texts, desc=f"encoding target ({len(trg_texts)} unique)")
    candidates = mine_candidates(x, y, k=k, margin=margin, retrieval=retrieval, show_progress=encoder.show_progress)
    return MinedSentences(src_texts, trg_texts, candidates)
