"""Measuring this machine's speeds (``rx calibrate-speed``, or on a dry run's first use): an encoder's tokens per
second on a sample of real sentences (all threads, then one), its load time, and the k-NN's rates on random unit
vectors (rx's exact blockwise k-NN, faiss's flat search, IVF-Flat and IVF-PQ scans of a database larger than the
caches). Each takes seconds; the results go into the per-machine cache (``cost.speed_cache``)."""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import torch

from retrieval_xfer.cost.speed_cache import EncoderSpeed, KnnSpeeds, SpeedCache, cache_path, encoder_key, load_speeds
from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, iter_corpus
from retrieval_xfer.encoding.batching import token_lengths
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.encoding.precision import choose_precision
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.budget import MAX_BLOCK_ROWS
from retrieval_xfer.mining.knn import knn_both_ways
from retrieval_xfer.vectors import ArrayVectors

logger = logging.getLogger(__name__)
CALIBRATION_SENTENCES = 2000  # enough for a steady rate (several token-budget batches) in seconds
_D = 384
_SCAN_ROWS = 400_000  # the scanned database: 600 MB of float32, more than any CPU's caches


def speed_key(options: EncoderOptions) -> str:
    """The cache key of ``options``' encoder: what its speed depends on (model, layer, precision as it resolves
    here, backend, quantisation, length cap, pooling, batching, device)."""
    device = options.device or ("cuda" if torch.cuda.is_available() else "cpu")
    precision = choose_precision(options.precision, device).name if options.backend == "torch" else options.precision
    return encoder_key(
        {
            "model": options.model,
            "layer": options.layer,
            "precision": precision,
            "backend": options.backend,
            "quantize": options.quantize,
            "max_length": options.max_length,
            "pool_skip_special": options.pool_skip_special,
            "max_tokens": options.max_tokens,
            "batch_size": options.batch_size,
            "device": device,
        }
    )


def _timed_encode(encoder, sentences: Sequence[str]) -> float:
    encoder.encode(sentences[: min(64, len(sentences))])  # warm-up: first-call allocations and kernel choices
    tic = time.perf_counter()
    encoder.encode(sentences)
    return time.perf_counter() - tic


def measure_encoder_speed(options: EncoderOptions, sentences: Sequence[str]) -> EncoderSpeed:
    """Load ``options``' encoder (timed) and encode ``sentences`` with all threads and with one (torch backend; an
    exported backend's one-thread rate is its all-thread rate over the thread count, not measured)."""
    if len(sentences) < 100:
        raise RxError(f"measuring an encoder's speed needs at least 100 sentences, got {len(sentences)}")
    tic = time.perf_counter()
    encoder = dataclasses.replace(options, quiet=True).load(corpus=list(sentences))
    load_seconds = time.perf_counter() - tic
    lengths = token_lengths(encoder.tokenizer, sentences, encoder.spec.prompt, encoder.spec.max_length)
    threads = torch.get_num_threads()
    all_threads = float(lengths.sum()) / _timed_encode(encoder, sentences)
    one_thread = all_threads / threads
    if options.backend == "torch" and threads > 1:
        part = max(100, len(sentences) // threads)  # about as long as the all-thread run
        torch.set_num_threads(1)
        try:
            one_thread = float(lengths[:part].sum()) / _timed_encode(encoder, sentences[:part])
        finally:
            torch.set_num_threads(threads)
    spec = encoder.spec
    return EncoderSpeed(
        tokens_per_s_one_thread=one_thread,
        tokens_per_s_all_threads=all_threads,
        threads=threads,
        load_seconds=load_seconds,
        label=f"{spec.model} layer {spec.layer} {spec.backend} {spec.quantization} {spec.precision}",
    )


def _unit(rng: np.random.Generator, rows: int) -> np.ndarray:
    x = rng.standard_normal((rows, _D), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _scan_rate(index: faiss.Index, database: np.ndarray, queries: np.ndarray, nprobe: int) -> float:
    """Vectors (or codes) compared per second by ``index`` (IVF) over ``database`` searched with ``queries``."""
    index.train(database[:20_000])
    index.add(database)
    faiss.extract_index_ivf(index).nprobe = nprobe
    index.search(queries[:50], 4)
    faiss.cvar.indexIVF_stats.reset()
    tic = time.perf_counter()
    index.search(queries, 4)
    seconds = time.perf_counter() - tic
    return faiss.cvar.indexIVF_stats.ndis / seconds


def measure_knn_speeds(seed: int = 0) -> KnnSpeeds:
    """The k-NN rates of this machine on random unit vectors of dimension 384 (about 15 seconds)."""
    rng = np.random.default_rng(seed)
    x, y = _unit(rng, 2 * MAX_BLOCK_ROWS), _unit(rng, 2 * MAX_BLOCK_ROWS)  # blocks as large as a real job's
    knn_both_ways(ArrayVectors(x[:1024]), ArrayVectors(y[:1024]), 4, 1024, None, "cpu")
    tic = time.perf_counter()
    knn_both_ways(ArrayVectors(x), ArrayVectors(y), 4, MAX_BLOCK_ROWS, None, "cpu")
    exact = 2 * len(x) * len(y) * _D / (time.perf_counter() - tic) / 1e9
    flat = faiss.IndexFlatIP(_D)
    flat.add(y[:8192])
    tic = time.perf_counter()
    flat.search(x, 1)
    gemm = 2 * len(x) * 8192 * _D / (time.perf_counter() - tic) / 1e9
    database, queries = _unit(rng, _SCAN_ROWS), _unit(rng, 1_000)
    scan = _scan_rate(faiss.index_factory(_D, "IVF64,Flat", faiss.METRIC_INNER_PRODUCT), database, queries, 8)
    pq_bytes = _D // 8
    pq_index = faiss.index_factory(_D, f"IVF64,PQ{pq_bytes}", faiss.METRIC_INNER_PRODUCT)
    ivfpq = faiss.downcast_index(pq_index)
    ivfpq.do_polysemous_training, ivfpq.pq.cp.niter = False, 2  # a scan's speed does not depend on the codes' quality
    pq_scan = _scan_rate(pq_index, database, queries, 8)
    return KnnSpeeds(
        exact_gflops=exact,
        gemm_gflops=gemm,
        scan_vectors_per_s=scan,
        scan_dimension=_D,
        pq_scan_codes_per_s=pq_scan,
        pq_bytes=pq_bytes,
        threads=torch.get_num_threads(),
    )


def knn_speeds(cache: SpeedCache | None = None, remeasure: bool = False) -> tuple[KnnSpeeds, SpeedCache]:
    """This machine's k-NN speeds from the cache, measured (and cached) when missing or ``remeasure``."""
    cache = cache or load_speeds()
    if cache.knn is None or remeasure:
        logger.info("measuring this machine's k-NN speeds (about 15 s, once per machine)")
        cache.knn = measure_knn_speeds()
        cache.save()
    return cache.knn, cache


def encoder_speed(
    options: EncoderOptions, sentences: Sequence[str], cache: SpeedCache | None = None, remeasure: bool = False
) -> tuple[EncoderSpeed, SpeedCache]:
    """``options``' encoder speed from the cache, measured on ``sentences`` (and cached) when missing or
    ``remeasure``."""
    cache = cache or load_speeds()
    key = speed_key(options)
    if key not in cache.encoders or remeasure:
        logger.info(f"measuring {options.model}'s encoding speed on {len(sentences)} sentences (once per machine)")
        cache.encoders[key] = measure_encoder_speed(options, sentences)
        cache.save()
    return cache.encoders[key], cache


def first_sentences(path: Path, fmt: CorpusFormat, blank: BlankPolicy, count: int = CALIBRATION_SENTENCES) -> list[str]:
    """The first ``count`` sentences of a corpus file, read with the checks every command makes."""
    return [sentence for _, sentence in itertools.islice(iter_corpus(path, fmt, blank), count)]


def measure_now(options: EncoderOptions | None, input_path: Path | None, fmt: CorpusFormat, blank: BlankPolicy) -> str:
    """``rx calibrate-speed``: measure the k-NN speeds and, with ``options``, the encoder's on ``input_path``'s
    first sentences, replacing what the cache held; returns a report of what was measured."""
    knn, cache = knn_speeds(remeasure=True)
    lines = [
        f"k-NN speeds on {cache.machine['cpu']} ({cache.machine['cores']} cores, {knn.threads} threads): exact "
        f"{knn.exact_gflops:.0f} GFLOP/s, faiss flat search {knn.gemm_gflops:.0f} GFLOP/s, IVF-Flat scan "
        f"{knn.scan_vectors_per_s / 1e6:.1f}M vectors/s, PQ{knn.pq_bytes} scan {knn.pq_scan_codes_per_s / 1e6:.1f}M "
        "codes/s"
    ]
    if options is not None and input_path is not None:
        sentences = first_sentences(input_path, fmt, blank)
        speed, cache = encoder_speed(options, sentences, cache, remeasure=True)
        lines.append(
            f"{speed.label}: {speed.tokens_per_s_all_threads:,.0f} tokens/s on {speed.threads} threads, "
            f"{speed.tokens_per_s_one_thread:,.0f} on one; loads in {speed.load_seconds:.1f} s "
            f"({len(sentences):,} sentences of {input_path})"
        )
    lines.append(f"cached in {cache_path()}")
    return "\n".join(lines)
