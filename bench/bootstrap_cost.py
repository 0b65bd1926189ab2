"""What the confidence intervals cost (issue 28): `rx eval tatoeba` on the 36 XTREME languages and `rx eval bucc`
on the zh-en sample with the real encoder, each run once with the default 1,000 bootstrap resamples; the bootstrap's
seconds (recorded in the result) against the evaluation's. Then `rx compare` of two layers on Tatoeba-36: which
per-language deltas hold (README's "How sure is a delta?").

usage: python bench/bootstrap_cost.py [--langs xtreme] [--layers 8,12]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import SHARED, machine, real_encoder

TATOEBA = SHARED / "data" / "tatoeba" / "v1"
BUCC = SHARED / "data" / "bucc2018"


def rx(*args: str) -> str:
    """Run ``rx ARGS`` as its own process; its stdout."""
    done = subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"rx {args[0]} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", default="xtreme")
    parser.add_argument("--layers", default="8,12", help="two layers: A and B of the rx compare")
    args = parser.parse_args()
    model = real_encoder()
    layers = args.layers.split(",")
    print(f"machine: {machine()}; model {model}, prompt 'query: ', precision float32")
    common = ["--model", model, "--prompt", "query: ", "--precision", "float32", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = {}
        for layer in layers:
            results[layer] = work / f"tatoeba-L{layer}.json"
            rx(
                "eval",
                "tatoeba",
                *common,
                "--layer",
                layer,
                "--langs",
                args.langs,
                "--data-dir",
                str(TATOEBA),
                "--output",
                str(results[layer]),
            )
        bucc = work / "bucc.json"
        rx(
            "eval",
            "bucc",
            *common,
            "--layer",
            layers[0],
            "--data-dir",
            str(BUCC),
            "--pairs",
            "zh-en",
            "--output",
            str(bucc),
            "--predictions-dir",
            str(work / "pred"),
        )
        for name, path in (("tatoeba", results[layers[0]]), ("bucc zh-en sample", bucc)):
            result = json.loads(path.read_text())
            total, spent = result["timings"]["total_seconds"], result["bootstrap"]["seconds"]
            print(f"{name:18} evaluation {total:7.1f} s  bootstrap {spent:6.2f} s  = {100 * spent / total:4.1f} %")
            averages = result["averages"]
            key = "en2xx" if "en2xx" in averages else "f1"
            if "ci95" in averages:
                low, high = averages["ci95"][key]
                print(f"{'':18} {key} {averages[key]:.2f}, 95% CI [{low:.2f}, {high:.2f}]")
            else:
                scores = next(iter(result["scores"].values()))
                low, high = scores["ci95"][key]
                print(f"{'':18} {key} {scores[key]:.2f}, 95% CI [{low:.2f}, {high:.2f}]")
        print(f"\nrx compare: Tatoeba-36 at layer {layers[0]} (A) against layer {layers[1]} (B)")
        print(rx("compare", str(results[layers[0]]), str(results[layers[1]])))


if __name__ == "__main__":
    main()
