"""Data-parallel training: the DDP setting for unused parameters, measured (issue 18).

    python bench/ddp_training.py [--steps 30] [--model FOLDER]

Trains the same two-task mixture (PAN-X tagging + XNLI pairs from ../shared/data, English) three ways and prints
the steady-state rate (steps 6..N): 2 gloo processes with DDP's ``find_unused_parameters=True`` (rx's setting,
transformers' default), 2 processes with ``static_graph=True`` instead, and 1 process with twice the batch. Each
process gets one thread per core it stands for (2 processes x 1 thread, or 1 process x 2 threads).

Why the setting matters: the encoder's pooler (BERT, XLM-R) is computed but never reaches a loss, so DDP with
``find_unused_parameters=False`` stops at the second step; the two settings that work are measured here.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, SHARED, machine, real_encoder

MODES = {
    "find-unused": {"ddp_find_unused_parameters": True},
    "static-graph": {"ddp_find_unused_parameters": False, "ddp_static_graph": True},
}


def worker(mode: str, model: str, out: Path, steps: int, batch_size: int) -> None:
    """One process of a measured run (started by torchrun, or alone for the 1-process reference)."""
    from transformers import TrainerCallback

    import retrieval_xfer.training.runner as runner
    from retrieval_xfer.training.distributed import is_main_process

    runner.SentenceTransformerTrainingArguments = functools.partial(
        runner.SentenceTransformerTrainingArguments, **MODES.get(mode, {})
    )

    class Timer(TrainerCallback):
        def __init__(self) -> None:
            self.start: float | None = None
            self.timed = 0

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 5:
                self.start = time.perf_counter()
            elif state.global_step > 5:
                self.timed += 1
            return control

    timer = Timer()
    data = SHARED / "data" / "xtreme"
    config = runner.TrainConfig(
        tasks=["panx_en", "xnli_en"],
        out=out,
        base=model,
        batch_size=batch_size,
        train_files={"panx_en": str(data / "panx" / "train-en.tsv"), "xnli_en": str(data / "xnli" / "dev-en.tsv")},
        limit=2000,
        max_steps=steps,
        max_length=64,
        lr=2e-5,
        save_steps=10_000,
        quiet=True,
    )
    runner.train(config, callbacks=[timer])
    if is_main_process():
        rate = timer.timed / (time.perf_counter() - timer.start)
        print(
            "RATE "
            + json.dumps(
                {
                    "mode": mode,
                    "steps_per_second": rate,
                    "examples_per_second": rate * batch_size * (2 if mode in MODES else 1),
                }
            )
        )


def measure(mode: str, model: str, steps: int, per_device: int, work: Path) -> dict:
    script = [str(Path(__file__).resolve()), "--worker", mode, "--model", model, "--steps", str(steps)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    if mode in MODES:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            *script,
            "--batch-size",
            str(per_device),
            "--out",
            str(work / mode),
        ]
        env["OMP_NUM_THREADS"] = "1"
    else:
        command = [sys.executable, *script, "--batch-size", str(2 * per_device), "--out", str(work / mode)]
        env["OMP_NUM_THREADS"] = "2"
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO / "bench")
    lines = [line for line in done.stdout.splitlines() if line.startswith("RATE ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[0][5:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=8, help="Per process (the 1-process run takes twice).")
    parser.add_argument("--model", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.model, args.out, args.steps, args.batch_size)
        return
    model = args.model or real_encoder()
    work = Path(tempfile.mkdtemp(prefix="rx-ddp-"))
    print(f"machine: {machine()}")
    print(f"model: {model}; PAN-X + XNLI (English), max length 64, {args.steps} steps, timed from step 6")
    results = [
        measure(mode, model, args.steps, args.batch_size, work)
        for mode in ("find-unused", "static-graph", "one-process")
    ]
    base = results[-1]["examples_per_second"]
    for r in results:
        print(
            f"{r['mode']:>13}: {r['steps_per_second']:.3f} steps/s, {r['examples_per_second']:.1f} examples/s "
            f"({r['examples_per_second'] / base:.2f}x one process)"
        )


if __name__ == "__main__":
    main()
