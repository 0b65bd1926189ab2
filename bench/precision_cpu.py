"""bfloat16 against float32 on this CPU, one run each, whole processes: ``rx export`` of 20,000 Tatoeba sentences
at layer 8 (model load included), and the quality of each precision on Tatoeba (``--langs``, default the 36 XTREME
languages) and the BUCC zh-en sample (issue 27, item 1).

    python bench/precision_cpu.py [--sentences 20000] [--langs xtreme] [--skip-quality]

Prints the CPU flags that decide ``--precision auto``, the export times and their ratio, and the scores of both
precisions with their difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SHARED, machine, real_encoder

from retrieval_xfer.encoding.precision import NATIVE_BF16_FLAGS, choose_precision
from retrieval_xfer.machine import cpu_flags

TATOEBA = SHARED / "data" / "tatoeba" / "v1"
BUCC = SHARED / "data" / "bucc2018"
PRECISIONS = ("float32", "bfloat16")


def rx(*args: str) -> float:
    """Run ``rx ARGS`` as its own process; its wall time in seconds."""
    tic = time.perf_counter()
    subprocess.run([sys.executable, "-m", "retrieval_xfer.cli", "-q", *args], check=True)
    return time.perf_counter() - tic


def corpus(path: Path, count: int) -> Path:
    """The first ``count`` distinct sentences of the Tatoeba files, all languages, one per line."""
    seen: dict[str, None] = {}
    for source in sorted(TATOEBA.glob("tatoeba.*")):
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(line.strip())
            if len(seen) >= count:
                path.write_text("\n".join(seen) + "\n", encoding="utf-8")
                return path
    raise SystemExit(f"{TATOEBA}: fewer than {count} distinct sentences")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--langs", default="xtreme")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    model, flags = real_encoder(), cpu_flags()
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in flags]
    print(f"machine: {machine()}; model {model} at layer 8, prompt 'query: '")
    print(
        f"native bfloat16 flags: {', '.join(native) or 'none'}; --precision auto chooses "
        f"{choose_precision('auto', 'cpu').name} ({choose_precision('auto', 'cpu').reason})"
    )
    encoder = ["--model", model, "--layer", "8", "--prompt", "query: "]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        text = corpus(work / "corpus.txt", args.sentences)
        seconds = {
            p: rx("export", *encoder, "--precision", p, "--quiet", "--input", str(text), "--out", str(work / p))
            for p in PRECISIONS
        }
        print(
            f"| rx export, {args.sentences:,} sentences | float32 {seconds['float32']:.1f} s | bfloat16 "
            f"{seconds['bfloat16']:.1f} s | bf16 speed-up {seconds['float32'] / seconds['bfloat16']:.2f}x |"
        )
        if args.skip_quality:
            return
        scores: dict[str, dict[str, float]] = {}
        for p in PRECISIONS:
            tatoeba, bucc = work / f"tatoeba-{p}.json", work / f"bucc-{p}.json"
            rx(
                "eval",
                "tatoeba",
                *encoder,
                "--precision",
                p,
                "--data-dir",
                str(TATOEBA),
                "--langs",
                args.langs,
                "--quiet",
                "--output",
                str(tatoeba),
            )
            rx(
                "eval",
                "bucc",
                *encoder,
                "--precision",
                p,
                "--data-dir",
                str(BUCC),
                "--pairs",
                "zh-en",
                "--quiet",
                "--output",
                str(bucc),
                "--predictions-dir",
                str(work / f"pred-{p}"),
            )
            t, b = json.loads(tatoeba.read_text()), json.loads(bucc.read_text())
            scores[p] = {
                "tatoeba en2xx": t["averages"]["en2xx"],
                "tatoeba xx2en": t["averages"]["xx2en"],
                "bucc zh-en F1": b["scores"]["zh-en"]["f1"],
            }
        print("| score | float32 | bfloat16 | difference |\n|---|---|---|---|")
        for key in scores["float32"]:
            a, b = scores["float32"][key], scores["bfloat16"][key]
            print(f"| {key} ({args.langs}) | {a:.2f} | {b:.2f} | {b - a:+.2f} |")


if __name__ == "__main__":
    main()
