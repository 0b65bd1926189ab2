"""Bitext mining of two text corpora (``rx mine``): read, encode each distinct sentence once, mine, write."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.atomic import atomic_write_text
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, read_corpus
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.mining.candidates import mine_candidates
from retrieval_xfer.mining.options import MiningOptions
from retrieval_xfer.mining.sentences import MinedSentences, unique_texts


@dataclass(frozen=True)
class MiningSummary:
    """What ``mine_corpora`` wrote: ``written`` pairs of ``candidates``, in ``seconds`` (after the model loaded)."""

    written: int
    candidates: int
    seconds: float
    options: MiningOptions


def mined_lines(mined: MinedSentences, threshold: float | None) -> list[str]:
    """``score<TAB>source<TAB>target`` lines, best first, of the candidates scoring at least ``threshold``."""
    cands = mined.candidates
    return [f"{score:.6f}\t{mined.src_texts[s]}\t{mined.trg_texts[t]}\n"
            for s, t, score in zip(cands.src.tolist(), cands.trg.tolist(), cands.score.tolist())
            if threshold is None or score >= threshold]


def mine_corpora(options: EncoderOptions, src: Path, trg: Path, out: Path, mining: MiningOptions | None = None,
                 threshold: float | None = None, fmt: CorpusFormat = "lines", blank: BlankPolicy = "error",
                 echo: Callable[[str], None] | None = None) -> MiningSummary:
    """Mine ``src`` against ``trg`` and write the pairs to ``out`` atomically. Both corpora are read (and checked)
    before the model loads; unset ``mining`` options take BUCC's protocol (``tasks/bucc2018.yaml``)."""
    settings = (mining or MiningOptions()).resolved(load_card("bucc2018")["mining"])
    _, src_sentences = read_corpus(src, fmt, blank)
    _, trg_sentences = read_corpus(trg, fmt, blank)
    encoder = options.load(echo)
    tic = time.perf_counter()
    src_texts, trg_texts = unique_texts(src_sentences), unique_texts(trg_sentences)
    x = encoder.encode(src_texts, desc=f"encoding source ({len(src_texts)} unique)")
    y = encoder.encode(trg_texts, desc=f"encoding target ({len(trg_texts)} unique)")
    candidates = mine_candidates(x, y, k=settings.k, margin=settings.margin, retrieval=settings.retrieval,
                                 show_progress=encoder.show_progress)
    lines = mined_lines(MinedSentences(src_texts, trg_texts, candidates), threshold)
    atomic_write_text(out, "".join(lines))
    return MiningSummary(len(lines), len(candidates), time.perf_counter() - tic, settings)
