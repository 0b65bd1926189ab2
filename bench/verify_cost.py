"""What verifying checksums costs in rx mine from exports (issue 19: at most 5 % at 100k x 100k).

    python bench/verify_cost.py [--rows 100000] [--dimension 384]

Writes two exports of ``--rows`` random unit vectors each (float32, shards of 25,000, through rx's own export
writer with a stand-in encoder), then times ``rx mine`` on them with and without ``--no-verify`` (one process
each, same settings, exact k-NN under the default memory budget), and the SHA-256 of every shard alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import REPO, machine

sys.path.insert(0, str(REPO))


class RandomEncoder:
    """Unit vectors drawn from a seeded generator: an encoder's interface without a model."""

    def __init__(self, dimension: int, seed: int) -> None:
        from retrieval_xfer.specs import EncoderSpec

        self.rng = np.random.default_rng(seed)
        self.spec = EncoderSpec(
            model="random",
            weights_sha256="0" * 64,
            layer=1,
            num_layers=1,
            pooling="mean",
            prompt="",
            max_length=8,
            dimension=dimension,
        )

    def encode(self, texts: list[str], desc: str = "") -> np.ndarray:
        block = self.rng.standard_normal((len(texts), self.spec.dimension)).astype(np.float32)
        return block / np.linalg.norm(block, axis=1, keepdims=True)


def make_export(folder: Path, rows: int, dimension: int, seed: int) -> Path:
    from retrieval_xfer.export.shards import export_embeddings

    corpus = folder / f"corpus-{seed}.txt"
    corpus.write_text("".join(f"sentence {i}\n" for i in range(rows)))
    export_embeddings(RandomEncoder(dimension, seed), corpus, folder / f"export-{seed}", shard_size=25_000)
    return folder / f"export-{seed}"


def timed(command: list[str]) -> float:
    tic = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        sys.exit(done.stderr[-2000:])
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=384)
    args = parser.parse_args()
    from retrieval_xfer.provenance import file_sha256

    work = Path(tempfile.mkdtemp(prefix="rx-verify-"))
    src, trg = (make_export(work, args.rows, args.dimension, seed) for seed in (1, 2))
    tic = time.perf_counter()
    for shard in [*src.glob("shard-*"), *trg.glob("shard-*")]:
        file_sha256(shard)
    hashing = time.perf_counter() - tic
    mine = [
        sys.executable,
        "-m",
        "retrieval_xfer",
        "mine",
        "--src",
        str(src),
        "--trg",
        str(trg),
        "--quiet",
        "--threshold",
        "1.1",
    ]
    verified = timed([*mine, "--out", str(work / "a.tsv")])
    unverified = timed([*mine, "--out", str(work / "b.tsv"), "--no-verify"])
    print(f"machine: {machine()}")
    print(f"{args.rows:,} x {args.rows:,} vectors of {args.dimension} (float32), exact k-NN")
    print(
        f"rx mine: {verified:.1f} s verified, {unverified:.1f} s with --no-verify: verification costs "
        f"{100 * (verified - unverified) / unverified:+.1f} % (goal <= 5 %)"
    )
    print(
        f"SHA-256 of every shard and ids file alone: {hashing:.2f} s ({100 * hashing / unverified:.1f} % of the "
        f"unverified run)"
    )


if __name__ == "__main__":
    main()
