"""rx experiment sequentially against rx experiment --ray, in one run, on this machine.

    python bench/ray_grid.py [--experiment experiments/xstilts-small.yaml] [--scale 0.25]

Both runs start from empty folders (under --work) and use the experiment file's settings; ``--scale`` below 1
multiplies every ``max_steps`` and evaluation ``limit`` (Tatoeba's 1,000 sentences per language included): a
shorter grid with the same shape, for a quick check.
Prints the wall times and their ratio, whether the two runs' scores are identical, and how many steps ran at the
same time on Ray. The sequential run is one process with torch's default threads (one per core); on Ray each step
is a task with the CPUs the file's ``resources`` give it (one by default), so on 2 cores two steps run at once.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from common import REPO, machine, real_encoder


def scaled_copy(source: Path, scale: float, work: Path, label: str) -> Path:
    """``source`` with its own output folders under ``work/label`` (and ``scale`` applied); inputs stay where
    the file points (their paths are made absolute)."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    where = source.resolve().parent
    absolute = lambda p: str(Path(p).expanduser() if str(p).startswith(("~", "/")) else (where / p).resolve())
    raw["train_files"] = {k: absolute(v) for k, v in (raw.get("train_files") or {}).items()}
    for options in (raw.get("evaluation") or {}).values():
        if options.get("data_dir"):
            options["data_dir"] = absolute(options["data_dir"])
        if scale < 1:  # Tatoeba's files have 1,000 sentences per language
            options["limit"] = max(20, int(options.get("limit", 1000) * scale))
    for options in [raw.get("train") or {}, *(raw.get("task_settings") or {}).values()]:
        if scale < 1 and options.get("max_steps"):
            options["max_steps"] = max(4, int(options["max_steps"] * scale))
    for key in ("runs_dir", "results_dir", "report_dir"):
        raw[key] = str(work / label / key.split("_")[0])
    path = work / f"{label}.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def run(command: list[str], log: Path) -> float:
    tic = time.perf_counter()
    with log.open("w", encoding="utf-8") as stream:
        done = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}); see {log}")
    return time.perf_counter() - tic


def scores(results: Path) -> dict:
    """What the report shows of a results folder: headline, per-language and per-layer scores."""
    from retrieval_xfer.evaluation.report import build_report
    from retrieval_xfer.evaluation.report_results import collect_results

    report = build_report(collect_results([results]), None)
    return {"scores": report.scores, "languages": report.languages, "sweeps": report.sweeps}


def leaves(tree, prefix: str = "") -> dict[str, float]:
    """Every number in a nested result, by its path."""
    if isinstance(tree, dict):
        return {k: v for key, value in tree.items() for k, v in leaves(value, f"{prefix}/{key}").items()}
    if isinstance(tree, list):
        return {k: v for i, value in enumerate(tree) for k, v in leaves(value, f"{prefix}/{i}").items()}
    return {prefix: float(tree)} if isinstance(tree, (int, float)) else {}


def overlaps(log: Path) -> int:
    """The largest number of steps running at once: from the --ray console's start and end lines (a start line is
    printed once the task has begun on its node)."""
    events = []
    for m in re.finditer(r"^(\d\d):(\d\d):(\d\d) (start|end) ", log.read_text(), re.MULTILINE):
        seconds = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
        events.append((seconds, 0 if m.group(4) == "end" else 1))  # an end before a start in the same second
    running = most = 0
    for _, kind in sorted(events):
        running += 1 if kind else -1
        most = max(most, running)
    return most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", type=Path, default=REPO / "experiments" / "xstilts-small.yaml")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--work", type=Path, default=None, help="Where both runs write (default: a temp folder).")
    args = parser.parse_args()
    real_encoder()  # materialise the offline encoder before timing anything
    work = args.work or Path(tempfile.mkdtemp(prefix="rx-ray-grid-"))
    rx = [sys.executable, "-m", "retrieval_xfer", "experiment", "--quiet"]
    sequential = scaled_copy(args.experiment, args.scale, work, "sequential")
    on_ray = scaled_copy(args.experiment, args.scale, work, "ray")
    t_seq = run([*rx, str(sequential)], work / "sequential.log")
    t_ray = run([*rx, str(on_ray), "--ray"], work / "ray.log")
    a, b = leaves(scores(work / "sequential" / "results")), leaves(scores(work / "ray" / "results"))
    same = a == b
    largest = max((abs(a[k] - b.get(k, float("nan"))) for k in a), default=0.0)
    print(f"machine: {machine()}")
    print(
        f"experiment: {args.experiment.name}, scale {args.scale:g}; "
        f"{len(list((work / 'ray' / 'results').glob('*/*.json')))} result files"
    )
    print(
        f"sequential: {t_seq:.0f} s; --ray (local, 1 CPU per step): {t_ray:.0f} s; ratio ray/sequential "
        f"{t_ray / t_seq:.2f} (goal <= 1.15)"
    )
    print(
        f"scores identical: {same} (largest difference {largest:.4g} over {len(a)} numbers); "
        f"most steps running at once on Ray: {overlaps(work / 'ray.log')}"
    )
    print(f"logs: {work}")
    if args.work is None:
        shutil.rmtree(work / "sequential" / "runs", ignore_errors=True)
        shutil.rmtree(work / "ray" / "runs", ignore_errors=True)


if __name__ == "__main__":
    main()
