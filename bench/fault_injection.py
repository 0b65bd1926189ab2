"""Kill rx export, rx mine and rx train at random points (SIGKILL and SIGTERM), resume, and check the outputs are
byte-identical to an uninterrupted run (issue 19).

    python bench/fault_injection.py [--kills 20] [--seed 0]

Small data built here (a tiny random model, a few thousand lines): for each job, one uninterrupted reference run,
then ``--kills`` trials per signal. A trial starts the job, kills it after a random delay (within the reference
run's duration), then runs the same command (``--resume`` for training) until it succeeds, and compares every
output file with the reference byte for byte. Prints kills survived / tried per job and signal.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def make_inputs(work: Path) -> dict[str, Path]:
    """A tiny random encoder, a corpus, two .npy sides and an NLI training file."""
    import numpy as np
    from conftest import WORDS, _build_tiny_model
    from toy_data import write_nli

    model = _build_tiny_model(work / "model")
    rng = random.Random(0)
    corpus = work / "corpus.txt"
    corpus.write_text("".join(" ".join(rng.choice(WORDS) for _ in range(8)) + "\n" for _ in range(3000)))
    vectors = np.random.default_rng(0).standard_normal((4000, 32)).astype(np.float32)
    np.save(work / "x.npy", vectors)
    np.save(
        work / "y.npy", vectors[::-1] + 0.05 * np.random.default_rng(1).standard_normal((4000, 32)).astype(np.float32)
    )
    return {
        "model": model,
        "corpus": corpus,
        "x": work / "x.npy",
        "y": work / "y.npy",
        "nli": write_nli(work / "nli.jsonl", rng, 400),
    }


def jobs(inputs: dict[str, Path]) -> dict[str, tuple[list[str], list[str], str]]:
    """Per job: the command (the output path is appended as ``OUT``), the extra arguments of a resume, and what
    to compare (a file or a folder)."""
    rx = [sys.executable, "-m", "retrieval_xfer"]
    return {
        "export": (
            [
                *rx,
                "export",
                "--model",
                str(inputs["model"]),
                "--layer",
                "2",
                "--input",
                str(inputs["corpus"]),
                "--shard-size",
                "200",
                "--quiet",
                "--out",
                "OUT",
            ],
            [],
            "folder",
        ),
        "mine": (
            [
                *rx,
                "mine",
                "--src",
                str(inputs["x"]),
                "--trg",
                str(inputs["y"]),
                "--max-memory",
                "2MB",
                "--quiet",
                "--out",
                "OUT",
            ],
            [],
            "file",
        ),
        "train": (
            [
                *rx,
                "train",
                "--tasks",
                "mnli",
                "--base",
                str(inputs["model"]),
                "--train-file",
                f"mnli={inputs['nli']}",
                "--batch-size",
                "8",
                "--max-steps",
                "40",
                "--save-steps",
                "5",
                "--logging-steps",
                "5",
                "--lr",
                "1e-3",
                "--quiet",
                "--out",
                "OUT",
            ],
            ["--resume"],
            "weights",
        ),
    }


def run(command: list[str], out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(out) if a == "OUT" else a for a in command], env=ENV, cwd=REPO, capture_output=True, text=True
    )


def same(kind: str, reference: Path, candidate: Path) -> bool:
    """Byte-identical outputs: the file; every file of the folder; for training, the weights and heads (run.json
    holds times and dates)."""
    if kind == "file":
        return filecmp.cmp(reference, candidate, shallow=False)
    names = {p.relative_to(reference) for p in reference.rglob("*") if p.is_file()}
    if kind == "weights":
        names = {n for n in names if n.suffix == ".safetensors"}
    else:
        names = {n for n in names if n.name != "manifest.json"}  # it records the start and end times
        if not _same_manifest(reference / "manifest.json", candidate / "manifest.json"):
            return False
    found = {p.relative_to(candidate) for p in candidate.rglob("*") if p.is_file()}
    return names <= found and all(filecmp.cmp(reference / n, candidate / n, shallow=False) for n in names)


def _same_manifest(a: Path, b: Path) -> bool:
    strip = lambda m: {k: v for k, v in m.items() if k not in ("created_at", "finished_at")}
    return strip(json.loads(a.read_text())) == strip(json.loads(b.read_text()))


def trial(command: list[str], resume: list[str], out: Path, delay: float, signum: int) -> bool:
    """Start, kill after ``delay`` seconds, then finish by running again (at most 5 times); True when it finished."""
    process = subprocess.Popen(
        [str(out) if a == "OUT" else a for a in command],
        env=ENV,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signum)
    if process.wait() == 0:
        return True  # it finished before the signal came
    for _ in range(5):
        if finished(out):  # killed after its last write, while exiting: nothing is left to do
            return True
        again = run(command + (resume if (out / "checkpoints").exists() else []), out)
        if again.returncode == 0:
            return True
    return False


def finished(out: Path) -> bool:
    """Whether a job's output is complete (what each command writes last): a training's run.json, an export's
    complete manifest, a mining run's sidecar with its checkpoint folder removed."""
    if (out / "run.json").is_file():
        return True
    if (out / "manifest.json").is_file():
        return json.loads((out / "manifest.json").read_text()).get("complete") is True
    return out.with_name(out.name + ".json").is_file() and not out.with_name(out.name + ".rx-mine").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="Trials per job and signal.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", default="export,mine,train")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="rx-faults-"))
    inputs = make_inputs(work)
    print(f"work: {work}")
    for name, (command, resume, kind) in jobs(inputs).items():
        if name not in args.jobs.split(","):
            continue
        reference = work / f"{name}-reference"
        tic = time.perf_counter()
        done = run(command, reference)
        duration = time.perf_counter() - tic
        if done.returncode != 0:
            sys.exit(f"{name}: the reference run failed: {done.stderr[-2000:]}")
        for signum in (signal.SIGKILL, signal.SIGTERM):
            survived = 0
            for number in range(args.kills):
                out = work / f"{name}-{signum.name}-{number}"
                finished = trial(command, resume, out, rng.uniform(0.5, duration), signum)
                target = out
                ok = finished and same(kind, reference, target)
                survived += ok
                if not ok:
                    print(
                        f"  {name} {signum.name} trial {number}: {'different output' if finished else 'did not finish'}"
                        f" ({out})"
                    )
                else:
                    shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
            print(
                f"{name}: {signum.name} {survived}/{args.kills} survived (reference run {duration:.1f} s)", flush=True
            )


if __name__ == "__main__":
    main()
