"""Mining at corpus scale on synthetic vectors: exact in memory, exact out of core, approximate; one run.

The data imitate a mining job (d=384, float16 shards as rx export writes them): sentences fall in topical
clusters, half of each side has a translation on the other side (a noisy copy of the same meaning vector), the
rest have none, and the target side is shuffled. Each method runs in a fresh process (so its peak RSS is its
own) through rx's mining code, and is scored by the best F1 over thresholds of its pairs against the planted gold.
The approximate run also reports its k-NN's recall@k against the exact k-NN on a random sample of queries per
direction (--recall-queries, 10,000 by default; exact for a sample costs sample x n x d).
Also printed: the k-NN's useful GFLOP/s (2 directions x 2·n·n·d) beside a plain torch.matmul's on this machine.

usage: python bench/mining_scale.py [--n 100000] [--methods exact-memory,exact-disk,approximate]
       [--max-memory 1GB] [--index-type auto] [--recall-queries 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import REPO, machine

OUT = REPO / "bench" / "out" / "mining_scale"
D, CLUSTERS = 384, 2000


def unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def make_data(n: int, folder: Path, seed: int = 0) -> Path:
    """x.npy, y.npy (float16, shards of one file each) and gold.npy (x row, y row) for n sentences per side."""
    folder = folder / f"n{n}"
    if (folder / "gold.npy").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centers = unit(rng.standard_normal((CLUSTERS, D)).astype(np.float32))
    half = n // 2

    def sentences(count: int) -> np.ndarray:  # a topic plus the sentence's own meaning
        return unit(centers[rng.integers(0, CLUSTERS, count)] + 1.2 * unit(rng.standard_normal((count, D))))

    meaning = sentences(half)
    noise = lambda count: 1.2 * unit(rng.standard_normal((count, D)).astype(np.float32))  # noqa: E731
    x = np.vstack([unit(meaning + noise(half)), sentences(n - half)])
    y = np.vstack([unit(meaning + noise(half)), sentences(n - half)])
    order = rng.permutation(n)
    position = np.empty(n, np.int64)
    position[order] = np.arange(n)
    np.save(folder / "x.npy", x.astype(np.float16))
    np.save(folder / "y.npy", y[order].astype(np.float16))
    np.save(folder / "gold.npy", np.stack([np.arange(half), position[:half]], axis=1))
    return folder


def best_f1(pairs_file: Path, gold: np.ndarray) -> float:
    """The best F1 (x100) over thresholds: pairs are best first, so each prefix is a threshold."""
    wanted = set(map(tuple, gold.tolist()))
    correct, best = 0, 0.0
    with pairs_file.open() as f:
        for n, line in enumerate(f, 1):
            _, s, t = line.split("\t")[:3]
            correct += (int(s), int(t)) in wanted
            best = max(best, 2 * correct / (n + len(wanted)))
    return 100 * best


def matmul_gflops(seconds: float = 5.0) -> float:
    """A plain torch.matmul's rate here: (4096 x 384) @ (384 x 16384) float32, repeated for ``seconds``."""
    import torch

    a, b = torch.randn(4096, D), torch.randn(D, 16384)
    a @ b
    runs, tic = 0, time.perf_counter()
    while time.perf_counter() - tic < seconds:
        a @ b
        runs += 1
    return runs * 2 * 4096 * 16384 * D / (time.perf_counter() - tic) / 1e9


def recall_at_k(x: np.ndarray, y: np.ndarray, found: np.ndarray, queries: int, seed: int = 1) -> float:
    """Mean share of each sampled query's exact top-k (rows of ``x`` among ``y``) that ``found`` (the approximate
    top-k ids of every row of ``x``) holds, over ``queries`` random rows."""
    import faiss

    k = found.shape[1]
    sample = np.random.default_rng(seed).choice(len(x), min(queries, len(x)), replace=False)
    exact = faiss.IndexFlatIP(y.shape[1])
    for start in range(0, len(y), 262_144):
        exact.add(np.ascontiguousarray(y[start : start + 262_144], dtype=np.float32))
    _, truth = exact.search(np.ascontiguousarray(x[sample], dtype=np.float32), k)
    return float(np.mean([len(set(a) & set(t)) / k for a, t in zip(found[sample].tolist(), truth.tolist())]))


def run_method(method: str, folder: Path, max_memory: str, index_type: str, recall_queries: int) -> dict:
    """One method in this process (called by the parent through a subprocess)."""
    import retrieval_xfer.mining.neighbours as neighbours
    from retrieval_xfer.indexing.options import IndexOptions
    from retrieval_xfer.mining.options import MiningOptions
    from retrieval_xfer.workflows.mine import MineJob, mine

    out = folder / f"pairs-{method}.tsv"
    for stale in (out, out.with_name(out.name + ".json")):
        stale.unlink(missing_ok=True)
    src, trg = folder / "x.npy", folder / "y.npy"
    if method == "exact-memory":  # both sides loaded as float32 arrays, one block covering everything
        np.save(folder / "x32.npy", np.load(src).astype(np.float32))
        np.save(folder / "y32.npy", np.load(trg).astype(np.float32))
        src, trg = folder / "x32.npy", folder / "y32.npy"
        import retrieval_xfer.vectors as vectors

        original = vectors.NpyVectors.__init__

        def in_memory(self, path):
            original(self, path)
            self.matrix = np.ascontiguousarray(np.load(path))  # the whole matrix in RAM, not memory-mapped

        vectors.NpyVectors.__init__ = in_memory
        max_memory = "64GB"
    captured = {}
    knn_approximate = neighbours.knn_approximate

    def capturing(*args, **kwargs):  # keep the approximate neighbours for recall@k (after the timed run)
        found, info = knn_approximate(*args, **kwargs)
        captured["x_ids"], captured["y_ids"] = found.x_ids, found.y_ids
        return found, info

    neighbours.knn_approximate = capturing
    index = IndexOptions() if method.startswith("exact") else IndexOptions(index_type=index_type)
    tic = time.perf_counter()
    mine(MineJob(src, trg, out, MiningOptions(max_memory=max_memory, index=index)), quiet=True)
    seconds = time.perf_counter() - tic
    sidecar = json.loads(out.with_name(out.name + ".json").read_text())
    recall = {}
    if captured and recall_queries:
        x, y = np.load(src, mmap_mode="r"), np.load(trg, mmap_mode="r")
        recall = {
            "x_to_y": recall_at_k(x, y, captured["x_ids"], recall_queries),
            "y_to_x": recall_at_k(y, x, captured["y_ids"], recall_queries),
        }
    return {
        "method": method,
        "seconds": seconds,
        "knn_seconds": sidecar["phases"]["k-NN"]["seconds"],
        "peak_rss_gb": sidecar["peak_rss_bytes"] / 2**30,
        "knn": sidecar["knn"],
        "f1": best_f1(out, np.load(folder / "gold.npy")),
        "recall_at_k": recall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--methods", default="exact-memory,exact-disk,approximate")
    parser.add_argument("--max-memory", default="1GB", help="budget of the out-of-core exact run")
    parser.add_argument("--index-type", default="auto")
    parser.add_argument("--recall-queries", type=int, default=10_000, help="sampled queries per direction")
    parser.add_argument("--run", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = make_data(args.n, OUT)
    if args.run:
        print(json.dumps(run_method(args.run, folder, args.max_memory, args.index_type, args.recall_queries)))
        return
    print(f"machine: {machine()}\nn = {args.n} per side, d = {D}, float16 shards, half with a partner")
    rate = matmul_gflops()
    print(f"plain torch.matmul: {rate:.1f} GFLOP/s")
    results = []
    for method in args.methods.split(","):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--n",
                str(args.n),
                "--run",
                method,
                "--max-memory",
                args.max_memory,
                "--index-type",
                args.index_type,
                "--recall-queries",
                str(args.recall_queries),
            ],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
        )
        if done.returncode:
            print(f"{method}: failed\n{done.stderr[-2000:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        useful = 2 * 2 * args.n * args.n * D / result["knn_seconds"] / 1e9 if method.startswith("exact") else None
        result["knn_gflops"] = useful
        results.append(result)
        print(
            f"{method:13} total {result['seconds']:8.1f}s  k-NN {result['knn_seconds']:8.1f}s  peak RSS "
            f"{result['peak_rss_gb']:5.2f} GiB  best F1 {result['f1']:6.2f}"
            + (
                f"  k-NN {useful:6.1f} GFLOP/s useful = {useful / rate:4.2f}x matmul"
                if useful
                else f"  index {result['knn'].get('x_to_y', {}).get('index')}  recall@k "
                + " / ".join(f"{name} {value:.4f}" for name, value in result["recall_at_k"].items())
            )
        )
    by = {r["method"]: r for r in results}
    if "exact-memory" in by and "exact-disk" in by:
        print(f"out of core / in memory time: {by['exact-disk']['seconds'] / by['exact-memory']['seconds']:.2f}x")
    if "exact-memory" in by and "approximate" in by:
        print(f"approximate F1 - exact F1: {by['approximate']['f1'] - by['exact-memory']['f1']:+.2f}")


if __name__ == "__main__":
    main()
