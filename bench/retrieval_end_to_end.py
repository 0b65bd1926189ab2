"""Tatoeba (XTREME's 36 languages) and BUCC zh-en end to end with the real encoder, at two layers.

Each evaluation runs as its own `rx eval` process so that its wall time and peak memory (max RSS) are its own.
Prints a Markdown table for bench/RESULTS.md and keeps the result JSON files under bench/out/.

usage: python bench/retrieval_end_to_end.py [--layers 8,-1] [--tasks tatoeba,bucc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, SHARED, machine, real_encoder

JOBS = {
    "tatoeba": ["eval", "tatoeba", "--langs", "xtreme", "--data-dir", str(SHARED / "data/tatoeba/v1")],
    "bucc": ["eval", "bucc", "--pairs", "zh-en", "--data-dir", str(SHARED / "data/bucc2018")],
}
CHILD = (
    "import resource, sys; from retrieval_xfer.cli import main\n"
    "try:\n    main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n    print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
)


def run(task: str, layer: int, model: str, out: Path) -> dict:
    args = [
        *JOBS[task],
        "--model",
        model,
        "--layer",
        str(layer),
        "--prompt",
        "query: ",
        "--batch-size",
        "64",
        "--quiet",
        "--output",
        str(out),
    ]
    tic = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - tic
    if proc.returncode != 0:
        raise SystemExit(f"rx {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    peak_kb = int(next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("PEAK_RSS_KB")))
    return {"wall_s": wall, "peak_gib": peak_kb / 2**20, "result": json.loads(out.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", default="8,-1", help="comma list; -1 = last")
    parser.add_argument("--tasks", default="tatoeba,bucc")
    args = parser.parse_args()
    model = real_encoder()
    out_dir = Path(os.environ.get("RX_BENCH_OUT", REPO / "bench/out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}\nmodel: {model}\n")
    print("| task | layer | score | wall time | peak RSS |\n|---|---|---|---|---|")
    for task in args.tasks.split(","):
        for layer in (int(x) for x in args.layers.split(",")):
            r = run(task, layer, model, out_dir / f"{task}-L{layer}.json")
            res = r["result"]
            if task == "tatoeba":
                avg = res["averages"]
                score = (
                    f"en→xx {avg['en2xx']:.2f} / xx→en {avg['xx2en']:.2f} / mean {avg['mean']:.2f} "
                    f"({avg['n_languages']} langs)"
                )
            else:
                s = res["scores"]["zh-en"]
                score = (
                    f"F1 {s['f1']:.2f} (P {s['precision']:.2f}, R {s['recall']:.2f}, thr {s['threshold']:.3f}; "
                    f"{s['evaluated_on']}, tuned on it)"
                )
            print(
                f"| {task} | {res['layer']} of {res['num_layers']} | {score} | {r['wall_s']:.0f} s | "
                f"{r['peak_gib']:.2f} GiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
