"""A small real intermediate-training run on this CPU, then retrieval before vs. after.

Trains the offline multilingual-e5-small (or RX_MODEL) briefly on English data from ../shared/data: XNLI-en dev
as NLI, CosmosQA dev as multiple choice, PAN-X en train as tagging, XQuAD en as extractive QA (proportional
sampling). Then evaluates the run folder with `bench/retrieval_end_to_end.py` (Tatoeba, 36 XTREME languages,
and BUCC zh-en, at layer 8 and the last layer) and prints before/after tables. "Before" is read from the
result files that `bench/retrieval_end_to_end.py` wrote for the base model in bench/out/ (run it first).

usage: python bench/train_small_real.py [--steps 150] [--batch-size 16] [--limit 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import REPO, SHARED, machine, real_encoder

from retrieval_xfer.training.runner import TrainConfig, train

FILES = {
    "xnli_en": SHARED / "data/xtreme/xnli/dev-en.tsv",
    "cosmosqa": SHARED / "data/english/cosmosqa/valid.csv",
    "panx_en": SHARED / "data/xtreme/panx/train-en.tsv",
    "squad_en": SHARED / "data/xquad/xquad.en.json",
}


def summary(path: Path) -> str:
    result = json.loads(path.read_text())
    if result["task"] == "tatoeba":
        a = result["averages"]
        return f"en→xx {a['en2xx']:.2f} / xx→en {a['xx2en']:.2f}"
    s = result["scores"]["zh-en"]
    return f"F1 {s['f1']:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    model = real_encoder()
    run_dir = REPO / "bench/out/run-small-real"
    if not (run_dir / "run.json").exists():
        run = train(
            TrainConfig(
                tasks=list(FILES),
                out=run_dir,
                base=model,
                train_files={k: str(v) for k, v in FILES.items()},
                limit=args.limit,
                max_steps=args.steps,
                batch_size=args.batch_size,
                max_length=128,
                lr=2e-5,
                save_steps=10**9,
                logging_steps=25,
                quiet=True,
            )
        ).run
    else:
        run = json.loads((run_dir / "run.json").read_text())
    print(
        f"machine: {machine()}\nbase: {model}\ntrained {', '.join(run['tasks'])}: {run['steps']} steps of "
        f"{args.batch_size}, {run['train_seconds']:.0f} s, final losses "
        + ", ".join(f"{k[5:]} {v:.3f}" for k, v in run["losses"][-2].items() if k.startswith("loss/"))
    )
    env = {**os.environ, "RX_MODEL": str(run_dir), "RX_BENCH_OUT": str(REPO / "bench/out/after")}
    subprocess.run([sys.executable, str(REPO / "bench/retrieval_end_to_end.py")], env=env, check=True)
    print("\n| task | layer | before | after |\n|---|---|---|---|")
    for task in ("tatoeba", "bucc"):
        for layer in (8, -1):
            before = REPO / f"bench/out/{task}-L{layer}.json"
            after = REPO / f"bench/out/after/{task}-L{layer}.json"
            print(
                f"| {task} | {layer if layer > 0 else 'last'} | "
                f"{summary(before) if before.exists() else '(run retrieval_end_to_end.py first)'} | {summary(after)} |"
            )


if __name__ == "__main__":
    main()
