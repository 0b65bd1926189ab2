"""rx diagnose against a plain Tatoeba layer sweep on the same languages, in one run, and what it finds.

Both run as their own process on the offline multilingual-e5-small with every layer (--layers all), prompt
"query: ". Prints their wall times and the ratio (the goal: diagnose costs at most 1.2x the sweep it builds on),
then, from the diagnostics: the most aligned layer, the centering gain at layer 8 and at the last layer, and the
centering gain by resource group at layer 8.

usage: python bench/diagnose_cost.py [--langs xtreme] [--limit 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import REPO, SHARED, machine, real_encoder

OUT = REPO / "bench" / "out" / "diagnose"


def run(args: list[str]) -> float:
    tic = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", *args], check=True, cwd=REPO, capture_output=True)
    return time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", default="xtreme")
    parser.add_argument("--limit", type=int, default=300)
    args = parser.parse_args()
    model = real_encoder()
    OUT.mkdir(parents=True, exist_ok=True)
    common = [
        "--model",
        model,
        "--data-dir",
        str(SHARED / "data/tatoeba/v1"),
        "--langs",
        args.langs,
        "--limit",
        str(args.limit),
        "--layers",
        "all",
        "--prompt",
        "query: ",
        "--batch-size",
        "64",
        "--quiet",
    ]
    print(f"machine: {machine()}\nlanguages: {args.langs}, first {args.limit} pairs each, every layer")
    sweep = run(["eval", "tatoeba", *common, "--output", str(OUT / "sweep.json")])
    diag = run(["diagnose", *common, "--output", str(OUT / "diagnose.json")])
    print(f"plain Tatoeba sweep {sweep:.1f}s, rx diagnose {diag:.1f}s, ratio {diag / sweep:.2f}x")
    result = json.loads((OUT / "diagnose.json").read_text())
    layers = result["layers"]
    best = max(layers, key=lambda layer: layers[layer]["averages"]["alignment"])
    last = str(max(int(layer) for layer in layers))
    for layer in sorted(layers, key=int):
        a = layers[layer]["averages"]
        print(
            f"layer {int(layer):2d}: en->xx {a['en2xx']:6.2f} centered {a['en2xx_centered']:6.2f} gain "
            f"{a['centering_gain']:+6.2f}  LID {a['lid_accuracy']:6.2f} (chance {a['lid_chance']:.1f})  "
            f"alignment {a['alignment']:.3f}  uniformity {a['uniformity']:.3f}  hubness {a['hubness']:.2f}"
        )
    print(
        f"most aligned layer (mean translation cosine): {best}; centering gain at layer 8 "
        f"{layers['8']['averages']['centering_gain']:+.2f}, at layer {last} "
        f"{layers[last]['averages']['centering_gain']:+.2f}"
    )
    from retrieval_xfer.data.cards import load_card
    from retrieval_xfer.evaluation.language_resources import group_names, resource_group

    card = load_card("tatoeba")
    groups: dict[str, list[float]] = {g: [] for g in group_names()}
    for lang, entry in layers["8"]["languages"].items():
        groups[resource_group(card.languages.get(lang) or lang)].append(entry["centering_gain"])
    print(
        "centering gain at layer 8 by resource group: "
        + ", ".join(f"{g} {sum(v) / len(v):+.2f} (n={len(v)})" for g, v in groups.items() if v)
    )


if __name__ == "__main__":
    main()
