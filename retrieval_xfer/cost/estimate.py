"""The cost formulas: corpus sizes and measured speeds in, predicted seconds and peak memory out.

Encoding (``export_estimate``): a process loads the model once, then encodes ``sentences`` x ``tokens per
sentence`` tokens at its measured tokens/s. On W Ray workers the shards are dealt out one at a time, so the slowest
worker encodes ceil(shards / W) shards; each worker loads its own model, and a local Ray starts first.

k-NN (``knn_estimate``), with the speeds of ``speed_cache.KnnSpeeds``:

- exact: 2·n_x·n_y·d flops at ``exact_gflops`` (both directions from one product); on Ray, W tasks of one CPU
  each run at ``exact_gflops / threads`` apiece;
- IVF, per direction over a database of n_db rows searched by n_q queries with L cells and nprobe probes:
  k-means 2·niter·t·L·d (t training rows) + cell assignment of the database 2·n_db·L·d + of the queries
  2·n_q·L·d, all at ``gemm_gflops``, and the scan of n_q·nprobe·n_db/L vectors at ``scan_vectors_per_s``
  (rescaled to d); PQ codes are scanned at ``pq_scan_codes_per_s`` rescaled to their size.

Memory: exact, the per-sentence results plus one block step (as ``mining.budget`` plans them); approximate, the
index (codes and ids), its training sample, the results, and the two sides' memory-mapped pages; plus
``BASE_BYTES`` for the interpreter and libraries.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from retrieval_xfer.cost.speed_cache import EncoderSpeed, KnnSpeeds
from retrieval_xfer.indexing.factory import IndexParams, train_sample_rows
from retrieval_xfer.mining.budget import block_bytes, parse_size, plan_block_rows, results_bytes
from retrieval_xfer.mining.options import MiningOptions

BASE_BYTES = 600 << 20  # python, torch, faiss and numpy loaded: a mining process's resident size before any data
KMEANS_ITERATIONS = 10  # faiss's default for an IVF quantizer's k-means
RAY_START_SECONDS = 8.0  # a local Ray started and its actors scheduled (bench/cost_model.py measures it)


@dataclass
class Estimate:
    """Predicted seconds per phase (in order) and peak resident memory; ``notes`` say what was assumed."""

    seconds: dict[str, float] = field(default_factory=dict)
    peak_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        """The phases' sum: they run one after the other."""
        return sum(self.seconds.values())


def export_estimate(
    sentences: int, tokens_per_sentence: float, speed: EncoderSpeed, shard_size: int, workers: int = 0
) -> Estimate:
    """Encoding ``sentences`` (``tokens_per_sentence`` non-padding tokens each) into shards of ``shard_size``:
    in this process on all its threads (``workers`` 0), or on ``workers`` Ray actors of one CPU each (as
    ``rx export --ray`` places them on CPU machines: one actor per CPU of the cluster), each loading its own model
    while a local Ray starts."""
    tokens = sentences * tokens_per_sentence
    if workers <= 0:
        return Estimate({"load model": speed.load_seconds, "encode": tokens / speed.tokens_per_s_all_threads})
    shards = max(1, math.ceil(sentences / shard_size))
    slowest = math.ceil(shards / workers) * min(shard_size, sentences) * tokens_per_sentence
    estimate = Estimate(
        {
            "start Ray": RAY_START_SECONDS,
            "load model": speed.load_seconds,
            "encode": slowest / speed.tokens_per_s_one_thread,
        }
    )
    estimate.notes.append(f"{workers} Ray actor(s) of one CPU, {shards} shard(s) of {shard_size}")
    return estimate


def _code_bytes(params: IndexParams, dimension: int) -> tuple[int, bool]:
    """Bytes per stored vector of an index and whether its codes are PQ codes."""
    if params.kind == "ivfpq":
        return math.ceil((params.pq_m or dimension // 8) * params.pq_bits / 8), True
    if params.kind == "factory":
        match = re.search(r"PQ(\d+)(?:x(\d+))?", params.factory or "")
        if match:
            return math.ceil(int(match.group(1)) * int(match.group(2) or 8) / 8), True
    return 4 * dimension, False


def _direction(n_q: int, n_db: int, dimension: int, resolved: IndexParams, knn: KnnSpeeds) -> dict[str, float]:
    """Seconds of k-means, fill and search of one direction with ``resolved`` (resolved for ``n_db`` rows)."""
    cells = resolved.nlist or 1
    gemm = knn.gemm_gflops * 1e9
    train_rows = train_sample_rows(n_db, resolved)
    code, pq = _code_bytes(resolved, dimension)
    scanned = n_q * min(resolved.nprobe, cells) * n_db / cells
    if pq:
        scan = scanned / (knn.pq_scan_codes_per_s * knn.pq_bytes / code)
    else:
        scan = scanned / (knn.scan_vectors_per_s * knn.scan_dimension / dimension)
    return {
        "train": 2 * KMEANS_ITERATIONS * train_rows * cells * dimension / gemm,
        "add": 2 * n_db * cells * dimension / gemm,
        "search": 2 * n_q * cells * dimension / gemm + scan,
    }


def knn_estimate(
    n_x: int,
    n_y: int,
    dimension: int,
    mining: MiningOptions,
    knn: KnnSpeeds,
    workers: int = 0,
    side_bytes: int = 0,
) -> Estimate:
    """The k-NN of ``n_x`` x ``n_y`` vectors of ``dimension`` both ways as ``mining`` (resolved) asks: exact, in
    this process or, ``workers`` > 0, on that many one-CPU Ray tasks; or approximate, in one process.
    ``side_bytes``: the two inputs' size on disk (memory-mapped pages count in the resident size)."""
    k, index = mining.k or 4, IndexParams.from_options(mining.index)
    if index.resolved(max(n_x, n_y), dimension).kind == "flat":
        rows = plan_block_rows(parse_size(mining.max_memory), n_x, n_y, dimension, k)
        rate = knn.exact_gflops * 1e9 * (workers / knn.threads if workers > 0 else 1)
        estimate = Estimate({"k-NN (exact)": 2 * n_x * n_y * dimension / rate})
        estimate.peak_bytes = BASE_BYTES + results_bytes(n_x, n_y, k) + block_bytes(rows, dimension, k)
        estimate.notes.append(f"exact, blocks of {rows} rows" + (f", {workers} one-CPU Ray tasks" if workers else ""))
        return estimate
    estimate = Estimate()
    largest_index = 0
    for name, n_q, n_db in (("x->y", n_x, n_y), ("y->x", n_y, n_x)):
        resolved = index.resolved(n_db, dimension)
        for phase, seconds in _direction(n_q, n_db, dimension, resolved, knn).items():
            estimate.seconds[f"{phase} {name}"] = seconds
        code, _ = _code_bytes(resolved, dimension)
        train = train_sample_rows(n_db, resolved) * 4 * dimension
        largest_index = max(largest_index, n_db * (code + 8) + (resolved.nlist or 1) * 4 * dimension + train)
        estimate.notes.append(f"{name}: {resolved.describe()}")
    estimate.peak_bytes = BASE_BYTES + largest_index + results_bytes(n_x, n_y, k) + side_bytes
    if workers:
        estimate.notes.append("an approximate k-NN runs in one process: Ray workers do not shorten it")
    return estimate
