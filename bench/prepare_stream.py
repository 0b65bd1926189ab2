"""rx prepare streams: peak RSS for 1 M and 10 M short lines (should not grow with the input), and the rate of
normalisation + filters + de-duplication in lines/s per core (issue goal: >= 20,000), language identification
timed apart.

    python bench/prepare_stream.py [--lines 10000000] [--work DIR]

Each size runs in a fresh process (so each peak RSS is its own); the input is synthetic short lines in German
with a realistic share of exact and near duplicates (a third of the lines repeat an earlier one)."""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = (
    "der die das und ist nicht ein eine mit auf für von dem den zu sich auch es im wir Sie Datei öffnen Fenster "
    "Menü Bild Ebene Farbe Werkzeug wählen klicken Einstellungen Dialog Seite Text Tabelle Zelle Dokument"
).split()


def write_input(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    recent: list[str] = []
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(n):
            roll = rng.random()
            if recent and roll < 0.2:
                line = rng.choice(recent)  # exact duplicate
            elif recent and roll < 0.33:
                line = rng.choice(recent).upper() + " !"  # near duplicate
            else:
                line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).capitalize() + "."
                recent.append(line)
                if len(recent) > 1000:
                    recent.pop(0)
            f.write(line + "\n")


def child(input_path: str, out: str, lid: str) -> None:
    """One measured run in this process: prints the report's numbers and the peak RSS as JSON."""
    from retrieval_xfer.memory import peak_rss_bytes
    from retrieval_xfer.prepare.options import PrepareOptions
    from retrieval_xfer.prepare.pipeline import prepare_file

    tic = time.perf_counter()
    report = prepare_file(Path(input_path), Path(out), PrepareOptions(lang="de", lid=lid), overwrite=True, quiet=True)
    wall = time.perf_counter() - tic
    print(json.dumps({"report": report, "wall": wall, "peak_rss": peak_rss_bytes()}))


def run(input_path: Path, out: Path, lid: str) -> dict:
    # one thread: a rate "per core" (the Python loop is single-threaded anyway)
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1", "PATH": ""}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(input_path), str(out), lid],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, **{k: v for k, v in env.items() if k != "PATH"}},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--child", nargs=3, default=None)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="rx-prepare-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in (args.lines // 10, args.lines):
        path = work / f"input-{n}.txt"
        if not path.exists():
            write_input(path, n)
        result = run(path, work / f"out-{n}", "none")
        seconds = result["report"]["seconds"]
        core = seconds["normalise_filter_hash"] + seconds["deduplicate"] + seconds["write"]
        rows.append((n, result["peak_rss"] / 2**20, n / core, result["report"]["kept"], result["wall"]))
        print(
            f"{n:>11,} lines: peak RSS {rows[-1][1]:7.1f} MiB, normalise+filter+dedup {rows[-1][2]:9,.0f} lines/s "
            f"(one core), kept {rows[-1][3]:,}, wall {rows[-1][4]:.1f}s",
            flush=True,
        )
    print(f"peak RSS ratio {rows[1][0] // rows[0][0]}x the lines: {rows[1][1] / rows[0][1]:.2f}x")
    sample = work / f"input-{args.lines // 10}.txt"
    for lid in ("py3langid", "lingua"):
        head = work / "lid-sample.txt"
        with open(sample, encoding="utf-8") as f, open(head, "w", encoding="utf-8") as g:
            for _, line in zip(range(100_000), f):
                g.write(line)
        result = run(head, work / f"out-{lid}", lid)
        seconds = result["report"]["seconds"]
        print(
            f"language identification {lid}: {result['report']['input_lines'] / seconds['language_id']:,.0f} "
            "lines/s (one thread)"
        )


if __name__ == "__main__":
    main()
