"""Filters on mined pairs, after the margin: what stopes and WikiMatrix do before a bitext is used.

Applied in this order, each counted: ``--threshold`` (too low), ``--max-score`` (too high: near-identical
boilerplate, numbers, copies), ``--length-ratio`` (a pair whose lengths differ too much is rarely a
translation), ``--numbers-agree`` (a translation keeps its numbers: a pair whose digit runs differ is a near
miss, such as "from 1 to 31" against "from 1 to 12"; Bicleaner's hard rules have the same check),
``--one-to-one`` (each source and target sentence in one pair at most, best first: what the max retrieval rule
already ensures) and ``--dedup-pairs`` (a pair whose two sides, normalised, were already kept)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.candidates import Candidates
from retrieval_xfer.mining.options import PostFilters

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def text_length(text: str, in_tokens: bool) -> int:
    """Characters, or with ``in_tokens`` the CJK characters plus the other whitespace-separated words."""
    if not in_tokens:
        return len(text)
    return len(_CJK.findall(text)) + len(_WORD.findall(text))


def numbers_in(text: str) -> list[str]:
    """The runs of digits in ``text`` (any script's decimal digits, read as ASCII), sorted: "1.000,5" and "1,000.5"
    both hold ``["000", "1", "5"]``, so separators and word order do not matter."""
    return sorted("".join(str(unicodedata.digit(c)) for c in run) for run in _DIGITS.findall(text))


def _is_cjk(text: str) -> bool:
    return len(_CJK.findall(text)) > 0.3 * max(1, len(text.replace(" ", "")))


def length_ratio_outside(src: str, trg: str, bounds: tuple[float, float]) -> bool:
    """Whether the source/target length ratio (in tokens when either side is CJK) lies outside ``bounds``."""
    tokens = _is_cjk(src) or _is_cjk(trg)
    ratio = text_length(src, tokens) / max(1, text_length(trg, tokens))
    return not bounds[0] <= ratio <= bounds[1]


def numbers_differ(src: str, trg: str) -> bool:
    """Whether the two sentences hold different numbers (``numbers_in``)."""
    return numbers_in(src) != numbers_in(trg)


def apply_post_filters(
    candidates: Candidates,
    threshold: float | None,
    filters: PostFilters,
    src_texts: Sequence[str] | None = None,
    trg_texts: Sequence[str] | None = None,
    pair_key: Callable[[str], str] | None = None,
) -> tuple[Candidates, dict[str, int]]:
    """The candidates that pass ``threshold`` and ``filters`` (order kept: best first), and how many each step
    dropped. ``src_texts``/``trg_texts`` (row-aligned with the candidates' ids) are needed for the length ratio
    and pair de-duplication; ``pair_key`` maps a sentence to what two duplicates share."""
    if filters.needs_texts() and (src_texts is None or trg_texts is None):
        raise RxError(
            "--length-ratio, --numbers-agree and --dedup-pairs need the sentences: mine text files, or exports "
            "whose input file is still where it was"
        )
    keep = np.ones(len(candidates), dtype=bool)
    dropped: dict[str, int] = {}

    def drop(reason: str, mask: np.ndarray) -> None:
        newly = keep & mask
        dropped[reason] = int(newly.sum())
        keep[newly] = False

    scores = candidates.score
    if threshold is not None:
        drop("below threshold", scores < threshold)
    if filters.max_score is not None:
        drop("above max score", scores > filters.max_score)
    bounds = filters.ratio_bounds()
    if bounds is not None:
        outside = np.zeros(len(candidates), dtype=bool)
        for i in np.flatnonzero(keep):
            outside[i] = length_ratio_outside(src_texts[candidates.src[i]], trg_texts[candidates.trg[i]], bounds)
        drop("length ratio", outside)
    if filters.numbers_agree:
        differ = np.zeros(len(candidates), dtype=bool)
        for i in np.flatnonzero(keep):
            differ[i] = numbers_differ(src_texts[candidates.src[i]], trg_texts[candidates.trg[i]])
        drop("numbers differ", differ)
    if filters.one_to_one:
        repeated = np.zeros(len(candidates), dtype=bool)
        used_src: set[int] = set()
        used_trg: set[int] = set()
        for i in np.flatnonzero(keep):  # best first: a sentence's best pair wins
            s, t = int(candidates.src[i]), int(candidates.trg[i])
            repeated[i] = s in used_src or t in used_trg
            if not repeated[i]:
                used_src.add(s)
                used_trg.add(t)
        drop("not one-to-one", repeated)
    if filters.dedup_pairs:
        key = pair_key or (lambda text: text)
        seen: set[tuple[str, str]] = set()
        duplicate = np.zeros(len(candidates), dtype=bool)
        for i in np.flatnonzero(keep):
            pair = (key(src_texts[candidates.src[i]]), key(trg_texts[candidates.trg[i]]))
            duplicate[i] = pair in seen
            seen.add(pair)
        drop("duplicate pair", duplicate)
    return Candidates(candidates.src[keep], candidates.trg[keep], candidates.score[keep]), dropped
