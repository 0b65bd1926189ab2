"""rx export on a local Ray (2 encoder actors) against the single-process export, in one run.

Same corpus (Tatoeba sentences of 8 languages), same encoder (the offline multilingual-e5-small, layer 8), same
shards. Prints the wall time of each (model loading included, as a user sees it), the ratio, and whether the
shards are equal (ids identical, largest vector difference).

usage: python bench/ray_export.py [--sentences 2000] [--shard-size 250]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

import numpy as np
from common import REPO, machine, real_encoder
from encode_throughput import sentences

OUT = REPO / "bench" / "out" / "ray_export"


def export(model: str, corpus, out, shard_size: int, ray: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    args = [
        "export",
        "--model",
        model,
        "--layer",
        "8",
        "--prompt",
        "query: ",
        "--input",
        str(corpus),
        "--out",
        str(out),
        "--shard-size",
        str(shard_size),
        "--quiet",
        *(["--ray"] if ray else []),
    ]
    tic = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", *args], check=True, cwd=REPO, capture_output=True)
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--shard-size", type=int, default=250)
    args = parser.parse_args()
    model = real_encoder()
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = OUT / "corpus.txt"
    corpus.write_text("".join(f"{s}\n" for s in sentences(args.sentences)), encoding="utf-8")
    print(f"machine: {machine()}\n{args.sentences} sentences, shards of {args.shard_size}, e5-small layer 8")
    one = export(model, corpus, OUT / "one", args.shard_size, ray=False)
    on_ray = export(model, corpus, OUT / "ray", args.shard_size, ray=True)
    a, b = (json.loads((OUT / n / "manifest.json").read_text()) for n in ("one", "ray"))
    same_ids = all((OUT / "one" / s["ids"]).read_text() == (OUT / "ray" / s["ids"]).read_text() for s in a["shards"])
    diff = max(
        float(np.abs(np.load(OUT / "one" / s["file"]) - np.load(OUT / "ray" / s["file"])).max()) for s in a["shards"]
    )
    print(f"single process {one:.1f}s, local Ray (2 actors) {on_ray:.1f}s, Ray / single {on_ray / one:.2f}x")
    print(
        f"shards: {len(a['shards'])} vs {len(b['shards'])}, ids identical: {same_ids}, largest vector "
        f"difference {diff:.2e}, same encoder spec: {a['encoder'] == b['encoder']}"
    )


if __name__ == "__main__":
    main()
