"""The dry runs of ``rx export`` and ``rx mine`` (``--dry-run``): read the corpus sizes, take this machine's
speeds from the cache (measuring them first, in seconds, when missing), and print what the job would cost here and
on Ray: time per phase and peak memory (``cost.estimate`` holds the formulas). Nothing is written but the cache."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.cost.estimate import Estimate, export_estimate, knn_estimate
from retrieval_xfer.cost.speed_cache import EncoderSpeed, SpeedCache, cache_path, load_speeds
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, iter_corpus
from retrieval_xfer.encoding.batching import token_lengths
from retrieval_xfer.encoding.loader import hidden_size, load_tokenizer
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.reader import read_manifest
from retrieval_xfer.machine import usable_cores
from retrieval_xfer.mining.budget import format_size
from retrieval_xfer.workflows.mine import MineJob, classify
from retrieval_xfer.workflows.speed import encoder_speed, first_sentences, knn_speeds

CLUSTER_CPUS = (16, 64, 256)  # the Ray clusters (CPUs in all) a dry run sizes besides this machine
SAMPLE_MAX_LENGTH = 512  # the length cap tokens are counted with when --max-length is not given


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class _Corpus:
    """A text corpus as a dry run sees it: its sentence count and its first sentences."""

    path: Path
    count: int
    sample: list[str]


def _read_corpus(path: Path, fmt: CorpusFormat, blank: BlankPolicy) -> _Corpus:
    """Count ``path``'s sentences (streaming, with the checks the job makes) and keep the first ones as a sample."""
    count = sum(1 for _ in iter_corpus(path, fmt, blank))
    if count == 0:
        raise RxError(f"{path}: no sentences")
    return _Corpus(Path(path), count, first_sentences(path, fmt, blank))


def _tokens_per_sentence(options: EncoderOptions, tokenizer: Any, sample: list[str]) -> float:
    lengths = token_lengths(tokenizer, sample, options.resolved_prompt(), options.max_length or SAMPLE_MAX_LENGTH)
    return float(np.mean(lengths))


def _speed_line(cache: SpeedCache) -> str:
    machine = cache.machine
    return f"speeds measured on this machine ({machine['cpu']}, {machine['cores']} cores), cached in {cache_path()}"


def _encoder_line(speed: EncoderSpeed) -> str:
    return (
        f"encoder: {speed.label}: {speed.tokens_per_s_all_threads:,.0f} tokens/s on {speed.threads} threads, "
        f"{speed.tokens_per_s_one_thread:,.0f} on one; loads in {speed.load_seconds:.1f} s"
    )


def _table(rows: list[tuple[str, Estimate]]) -> list[str]:
    width = max(len(name) for name, _ in rows)
    lines = []
    for name, estimate in rows:
        phases = ", ".join(f"{phase} {_duration(seconds)}" for phase, seconds in estimate.seconds.items())
        memory = f"; peak memory {format_size(estimate.peak_bytes)}" if estimate.peak_bytes else ""
        lines.append(f"  {name:<{width}}  {_duration(estimate.total_seconds):>8}  ({phases}{memory})")
    return lines


def plan_export(
    options: EncoderOptions, input_path: Path, shard_size: int, fmt: CorpusFormat, blank: BlankPolicy
) -> str:
    """What ``rx export`` of ``input_path`` would take: in one process here, on a local Ray (one actor per core)
    and on Ray clusters of ``CLUSTER_CPUS`` CPUs like this machine's."""
    corpus = _read_corpus(input_path, fmt, blank)
    speed, cache = encoder_speed(options, corpus.sample)
    tokens = _tokens_per_sentence(options, load_tokenizer(options.model), corpus.sample)
    cores = usable_cores()
    places = [
        (f"this machine, one process ({speed.threads} threads)", 0),
        (f"this machine, --ray ({cores} actors)", cores),
        *((f"Ray cluster of {cpus} CPUs like these", cpus) for cpus in CLUSTER_CPUS),
    ]
    rows = [(name, export_estimate(corpus.count, tokens, speed, shard_size, workers)) for name, workers in places]
    return "\n".join(
        [
            f"rx export --dry-run: {corpus.count:,} sentences in {input_path}, {tokens:.1f} tokens each "
            f"(mean of the first {len(corpus.sample):,}), shards of {shard_size:,}",
            _speed_line(cache),
            _encoder_line(speed),
            *_table(rows),
        ]
    )


@dataclass
class _Side:
    """One side of a mining job for a dry run: its vector count and dimension, the text to encode (None for an
    export or a .npy) and its bytes on disk."""

    count: int
    dimension: int | None
    corpus: _Corpus | None
    bytes_on_disk: int


def _plan_side(path: Path, job: MineJob) -> _Side:
    kind = classify(path)
    if kind == "export":
        manifest = read_manifest(path)
        size = sum(f.stat().st_size for f in Path(path).glob("*.npy"))
        return _Side(int(manifest["count"]), int(manifest["encoder"]["dimension"]), None, size)
    if kind == "npy":
        try:
            matrix = np.load(path, mmap_mode="r")
        except (OSError, ValueError) as err:
            raise RxError(f"{path}: not a readable .npy matrix ({err})") from None
        if matrix.ndim != 2:
            raise RxError(f"{path}: expected a 2-D matrix, got shape {matrix.shape}")
        return _Side(matrix.shape[0], matrix.shape[1], None, Path(path).stat().st_size)
    corpus = _read_corpus(path, job.fmt, job.blank)
    return _Side(corpus.count, None, corpus, 0)


def plan_mine(job: MineJob, options: EncoderOptions | None) -> str:
    """What ``rx mine`` of ``job`` would take here (text sides encoded, then the k-NN), and its exact k-NN on
    Ray clusters of ``CLUSTER_CPUS`` CPUs when the k-NN is exact."""
    mining = job.mining.resolved(load_card("bucc2018").mining)
    src, trg = _plan_side(Path(job.src), job), _plan_side(Path(job.trg), job)
    texts = [side.corpus for side in (src, trg) if side.corpus is not None]
    if texts and (options is None or not options.model):
        raise RxError("a dry run of a text side needs --model (the encoder whose speed it predicts)")
    dimension = src.dimension or trg.dimension or hidden_size(options.model)  # type: ignore[union-attr]
    knn, cache = knn_speeds(load_speeds())
    lines = [
        f"rx mine --dry-run: {src.count:,} x {trg.count:,} sentences, dimension {dimension}, k {mining.k}",
        _speed_line(cache),
        f"k-NN: exact {knn.exact_gflops:.0f} GFLOP/s, faiss flat search {knn.gemm_gflops:.0f} GFLOP/s, IVF-Flat "
        f"scan {knn.scan_vectors_per_s / 1e6:.1f}M vectors/s, PQ{knn.pq_bytes} scan "
        f"{knn.pq_scan_codes_per_s / 1e6:.1f}M codes/s ({knn.threads} threads)",
    ]
    here = Estimate()
    if texts:
        speed, cache = encoder_speed(options, list(itertools.chain(*(c.sample for c in texts))), cache)  # type: ignore[arg-type]
        lines.append(_encoder_line(speed))
        for corpus in texts:
            tokens = _tokens_per_sentence(options, load_tokenizer(options.model), corpus.sample)  # type: ignore[arg-type]
            encode = export_estimate(corpus.count, tokens, speed, corpus.count)
            here.seconds[f"encode {corpus.path.name}"] = encode.seconds["encode"]
        here.seconds = {"load model": speed.load_seconds, **here.seconds}
    side_bytes = src.bytes_on_disk + trg.bytes_on_disk
    search = knn_estimate(src.count, trg.count, dimension, mining, knn, side_bytes=side_bytes)
    here.seconds.update(search.seconds)
    here.peak_bytes, here.notes = search.peak_bytes, search.notes
    rows = [("this machine", here)]
    if mining.exact:
        rows += [
            (f"k-NN on a Ray cluster of {cpus} CPUs", knn_estimate(src.count, trg.count, dimension, mining, knn, cpus))
            for cpus in CLUSTER_CPUS
        ]
    return "\n".join([*lines, *(f"  {note}" for note in here.notes), *_table(rows)])
