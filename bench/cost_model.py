"""The cost model against measured runs, in one run: predicted / measured time for rx export in one process and on
a local Ray of 2 actors, and for the 1M x 1M approximate mining of bench/mining_scale.py; then the worked example
of README ("Mining a large corpus"): 100M x 100M sentences on Ray clusters.

Steps: `rx calibrate-speed` (the real encoder at layer 8 on 2,000 Tatoeba sentences of 8 languages; the k-NN
speeds) into a cache of its own; predictions from that cache through rx's own formulas (`cost.estimate`); the
exports measured as whole processes (`rx export`, model load and Ray start included); the 1M mining read from
mining_scale's sidecar (run `python bench/mining_scale.py --n 1000000 --methods approximate` first).

usage: python bench/cost_model.py [--sentences 20000] [--shard-size 1000] [--skip-export]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
from common import REPO, machine, real_encoder
from encode_throughput import sentences

from retrieval_xfer.cost.estimate import export_estimate, knn_estimate
from retrieval_xfer.cost.speed_cache import load_speeds
from retrieval_xfer.encoding.batching import token_lengths
from retrieval_xfer.encoding.loader import load_tokenizer
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.budget import format_size
from retrieval_xfer.mining.options import MiningOptions
from retrieval_xfer.workflows.speed import speed_key

OUT = REPO / "bench" / "out" / "cost_model"
SCALE_SIDECAR = REPO / "bench" / "out" / "mining_scale" / "n1000000" / "pairs-approximate.tsv.json"
ENCODER_ARGS = ["--layer", "8", "--prompt", "query: "]


def rx(*args: str) -> float:
    """Run one rx command as a user would (a fresh process); its wall time."""
    tic = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", *args], cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"rx {' '.join(args[:1])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - tic


def ratio_line(what: str, predicted: float, measured: float) -> str:
    return (
        f"{what:48} predicted {predicted:8.1f} s  measured {measured:8.1f} s  "
        f"predicted/measured {predicted / measured:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--shard-size", type=int, default=1000)
    parser.add_argument("--skip-export", action="store_true", help="only the mining check and the worked example")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ["RX_SPEED_CACHE"] = str(OUT / "speed.json")
    model = real_encoder()
    corpus = OUT / "corpus.txt"
    texts = sentences(args.sentences)
    corpus.write_text("".join(f"{s}\n" for s in texts), encoding="utf-8")
    print(f"machine: {machine()}")
    calibration = rx("calibrate-speed", "--model", model, *ENCODER_ARGS, "--input", str(corpus))
    print(f"rx calibrate-speed: {calibration:.1f} s (model load, 2,000 sentences twice, k-NN speeds)")
    cache = load_speeds()
    from retrieval_xfer.encoding.options import EncoderOptions

    options = EncoderOptions(model=model, layer=8, prompt="query: ")
    speed = cache.encoders[speed_key(options)]
    knn = cache.knn
    assert knn is not None
    print(
        f"encoder {speed.label}: {speed.tokens_per_s_all_threads:,.0f} tokens/s ({speed.threads} threads), "
        f"{speed.tokens_per_s_one_thread:,.0f} (one); load {speed.load_seconds:.1f} s\n"
        f"k-NN: exact {knn.exact_gflops:.0f} GFLOP/s, faiss flat {knn.gemm_gflops:.0f} GFLOP/s, IVF-Flat scan "
        f"{knn.scan_vectors_per_s / 1e6:.1f}M vectors/s, PQ{knn.pq_bytes} scan {knn.pq_scan_codes_per_s / 1e6:.0f}M "
        "codes/s"
    )
    tokens = float(np.mean(token_lengths(load_tokenizer(model), texts, "query: ", 512)))
    print(f"corpus: {args.sentences:,} Tatoeba sentences of 8 languages, {tokens:.1f} tokens each with the prompt")
    if not args.skip_export:
        for workers, name in ((0, "one process"), (2, "ray")):
            out = OUT / f"export-{name}"
            shutil.rmtree(out, ignore_errors=True)
            ray = ["--ray"] if workers else []
            command = ["export", "--model", model, *ENCODER_ARGS, "--input", str(corpus), "--out", str(out)]
            measured = rx(*command, "--shard-size", str(args.shard_size), "--quiet", *ray)
            predicted = export_estimate(args.sentences, tokens, speed, args.shard_size, workers).total_seconds
            label = f"rx export {args.sentences:,} sentences, {name if workers == 0 else '2 Ray actors'}"
            print(ratio_line(label, predicted, measured))
    if SCALE_SIDECAR.is_file():
        sidecar = json.loads(SCALE_SIDECAR.read_text())
        n, d = 1_000_000, 384
        mining = MiningOptions(k=4, max_memory="1GB", index=IndexOptions(index_type="auto"))
        side_bytes = 2 * n * d * 2  # the float16 shards
        predicted = knn_estimate(n, n, d, mining, knn, side_bytes=side_bytes)
        print(
            ratio_line("rx mine 1M x 1M, --index-type auto (k-NN)", predicted.total_seconds, sidecar["total_seconds"])
        )
        print(
            f"{'':48} peak memory predicted {format_size(predicted.peak_bytes)}, measured "
            f"{format_size(sidecar['peak_rss_bytes'])}"
        )
    else:
        print(f"{SCALE_SIDECAR}: absent; run python bench/mining_scale.py --n 1000000 --methods approximate first")
    print("\nworked example: 100M x 100M sentences like these (README, 'Mining a large corpus')")
    n = 100_000_000
    for cpus in (64, 256, 1024):
        encode = export_estimate(n, tokens, speed, 100_000, cpus)
        print(f"  encode one side on {cpus:5} CPUs: {encode.total_seconds / 3600:7.2f} h")
    approximate = knn_estimate(n, n, 384, MiningOptions(k=4, index=IndexOptions(index_type="auto")), knn)
    hours, peak = approximate.total_seconds / 3600, format_size(approximate.peak_bytes)
    print(f"  approximate k-NN, one process: {hours:.1f} h, peak {peak}")
    print("    " + "; ".join(approximate.notes))
    for phase, seconds in approximate.seconds.items():
        print(f"    {phase:14} {seconds / 3600:7.2f} h")
    for cores in (16, 64):  # one bigger machine like this one: its rates scale with the cores (an assumption)
        hours = approximate.total_seconds * knn.threads / cores / 3600
        print(f"  approximate k-NN, one machine of {cores} such cores (rates x {cores // knn.threads}): {hours:.1f} h")
    exact = MiningOptions(k=4, max_memory="16GB")
    for cpus in (256, 1024):
        print(f"  exact k-NN on {cpus} CPUs: {knn_estimate(n, n, 384, exact, knn, cpus).total_seconds / 3600:9.0f} h")


if __name__ == "__main__":
    main()
