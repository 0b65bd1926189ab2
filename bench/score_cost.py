"""What scoring a given bitext costs against mining the same sides (issue 29): `rx score` and `rx mine` of the same
two `rx export` folders, run in turn (mine, score, mine, score, ...), each its own process; medians of the wall
time and of each phase the sidecars record, and the ratio. Both make one exact k-NN pass each way; scoring adds
each pair's cosine and the rule-based checks' columns.

    python bench/score_cost.py [--pair de-en] [--size 20000] [--repeat 3] [--work DIR]

The exports are made once (from the real bitext of ../shared/tools/real-bitext, first --size pairs) under --work
(default: a cache folder) and reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from common import REAL_BITEXT, machine, real_bitext_rows, real_encoder, require_real_bitext, timed_rx


def exports(work: Path, pair: str, size: int) -> tuple[Path, Path]:
    """The two sides of the first ``size`` pairs of ``pair``, exported once under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    rows = [r for r in real_bitext_rows(REAL_BITEXT, pair) if len(r) == 2][:size]
    for index, side in enumerate(("src", "trg")):
        if not (work / side / "manifest.json").is_file():
            (work / f"{side}.txt").write_text("".join(r[index] + "\n" for r in rows), encoding="utf-8")
            model = ["--model", real_encoder(), "--prompt", "query: ", "--quiet"]
            timed_rx("export", *model, "--input", str(work / f"{side}.txt"), "--out", str(work / side))
    return work / "src", work / "trg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", default="de-en")
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache/retrieval_xfer/bench-score-cost")
    args = parser.parse_args()
    require_real_bitext(REAL_BITEXT)
    src, trg = exports(args.work / f"{args.pair}-{args.size}", args.pair, args.size)
    print(f"machine: {machine()}; {args.pair}, {args.size} pairs, exports of multilingual-e5-small (384 dims)")
    runs: dict[str, list[tuple[float, dict]]] = {"mine": [], "score": []}
    for _ in range(args.repeat):
        for command in ("mine", "score"):
            out = args.work / f"out-{command}.tsv"
            seconds = timed_rx(
                command, "--src", str(src), "--trg", str(trg), "--out", str(out), "--overwrite", "--quiet"
            )
            phases = json.loads(out.with_name(out.name + ".json").read_text())["phases"]
            runs[command].append((seconds, {name: entry["seconds"] for name, entry in phases.items()}))
    print("| command | wall (s, median) | phases (s, median) |")
    print("|---|---|---|")
    medians = {}
    for command, measured in runs.items():
        medians[command] = statistics.median(s for s, _ in measured)
        phases = {name: statistics.median(p[name] for _, p in measured) for name in measured[0][1]}
        listed = ", ".join(f"{name} {value:.2f}" for name, value in phases.items())
        print(f"| rx {command} | {medians[command]:.2f} | {listed} |")
    print(f"\nrx score / rx mine (medians of {args.repeat}, wall): {medians['score'] / medians['mine']:.2f}")


if __name__ == "__main__":
    main()
