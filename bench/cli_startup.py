"""Start-up cost of light commands: this checkout against an earlier commit, timed in one run.

Each command is a fresh process (as a user types it): `rx --help`, `rx tasks list`, `rx info INDEX` and a
missing-file error (`rx export --input missing.txt`, which must fail before any model loads). The earlier commit
is checked out into a temporary git worktree and run with the same Python, so only the code differs. Prints the
median of --repeat runs for each and the ratio before/after.

usage: python bench/cli_startup.py [--before 7678647] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, machine

# The last commit before the architecture change (issue 8): its cli.py imported the model stack for rx info.
DEFAULT_BEFORE = "7678647"


def write_index(folder: Path) -> Path:
    """A tiny index folder written with faiss directly, for `rx info` (no encoder needed)."""
    script = f"""
import faiss, json, numpy as np, pathlib
folder = pathlib.Path({str(folder)!r}); folder.mkdir(parents=True)
index = faiss.IndexFlatIP(4); index.add(np.eye(4, dtype=np.float32))
faiss.write_index(index, str(folder / "index.faiss"))
(folder / "ids.txt").write_text("a\\nb\\nc\\nd\\n")
spec = dict(model="m", weights_sha256="a" * 64, layer=2, num_layers=4, pooling="mean", prompt="", max_length=16,
            dimension=4, normalized=True)
meta = dict(encoder=spec, index=dict(kind="flat"), count=4, build_seconds=0.1, created_at="now", rx_version="0",
            source="", has_sentences=False, format_version=1, extra={{}})
(folder / "meta.json").write_text(json.dumps(meta))
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    return folder


def timed(checkout: Path, args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "retrieval_xfer.cli", *args],
            cwd=checkout,
            capture_output=True,
            env={"PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
        )
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git ref to compare with")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(before), args.before],
            check=True,
            capture_output=True,
        )
        try:
            index = write_index(Path(tmp) / "index")
            commands = {
                "rx --help": ["--help"],
                "rx tasks list": ["tasks", "list"],
                "rx info INDEX": ["info", str(index)],
                "rx export (missing input)": [
                    "export",
                    "--model",
                    "m",
                    "--input",
                    str(Path(tmp) / "missing.txt"),
                    "--out",
                    str(Path(tmp) / "out"),
                ],
            }
            print(f"{'command':28} {'before (s)':>10} {'after (s)':>10} {'before/after':>13}")
            for name, argv in commands.items():
                old, new = timed(before, argv, args.repeat), timed(REPO, argv, args.repeat)
                print(f"{name:28} {old:10.2f} {new:10.2f} {old / new:12.1f}x")
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], capture_output=True)


if __name__ == "__main__":
    main()
