"""Data-parallel training, for real: ``torchrun --nproc_per_node 2 -m retrieval_xfer train`` with the gloo backend on
the CPU and a tiny model. Every rank trains the same task in a step on its own part of the examples, an epoch sees
every example once across ranks, 2 ranks x batch b equal 1 process x batch 2b, logs and the run folder are written
once, a killed run resumes with the same number of ranks and refuses another number."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch
from conftest import WORDS, _build_tiny_model
from helpers import write_tatoeba
from safetensors.torch import load_file
from sentence_transformers.base.sampler import ProportionalBatchSampler
from torch.utils.data import BatchSampler, ConcatDataset, SequentialSampler
from toy_data import write_multiple_choice, write_qa

from retrieval_xfer.training.distributed import RankSlice, rank_part
from retrieval_xfer.training.runner import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


# ---- the sampler's properties, without processes --------------------------------------------------------------


def test_rank_part_splits_evenly_and_pads_only_tiny_batches():
    batch = list(range(10, 17))  # 7 examples over 3 ranks: 3, 2, 2
    parts = [rank_part(batch, r, 3) for r in range(3)]
    assert parts == [[10, 11, 12], [13, 14], [15, 16]]
    assert [rank_part([5], r, 2) for r in range(2)] == [[5], [5]]  # fewer examples than ranks: the one repeats
    assert [rank_part([5, 6, 7], r, 4) for r in range(4)] == [[5], [6], [7], [5]]


@pytest.mark.parametrize("ranks", [2, 3])
def test_rank_slices_cover_each_epoch_once_with_one_task_per_step(ranks):
    sizes, per_rank = [23, 9, 14], 2
    dataset = ConcatDataset([list(range(n)) for n in sizes])
    offsets = np.cumsum([0] + sizes)
    task_of = lambda index: int(np.searchsorted(offsets, index, side="right") - 1)

    def sampler():  # what the trainer builds: per-task samplers of global batches, the same seed on every rank
        samplers = [
            BatchSampler(SequentialSampler(range(n)), batch_size=per_rank * ranks, drop_last=False) for n in sizes
        ]
        return ProportionalBatchSampler(dataset, batch_samplers=samplers, generator=torch.Generator(), seed=7)

    per_rank_batches = [list(RankSlice(sampler(), r, ranks)) for r in range(ranks)]
    assert len({len(b) for b in per_rank_batches}) == 1  # every rank takes part in every step
    seen = []
    for step in zip(*per_rank_batches):
        assert len({task_of(i) for batch in step for i in batch}) == 1  # one task per global step
        union = [i for batch in step for i in batch]
        seen.extend(union if len(union) >= ranks and len(set(union)) == len(union) else sorted(set(union)))
    assert sorted(seen) == list(range(sum(sizes)))  # each example once an epoch (a padded repeat aside)
    global_steps = sum(-(-n // (per_rank * ranks)) for n in sizes)
    assert len(per_rank_batches[0]) == global_steps


# ---- real processes ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tiny model without dropout (so 2 ranks and 1 process can agree to rounding) and two toy tasks."""
    folder, rng = tmp_path_factory.mktemp("ddp"), random.Random(0)
    model = _build_tiny_model(folder / "model")
    config = json.loads((model / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (model / "config.json").write_text(json.dumps(config))
    return {
        "model": model,
        "squad_v1": write_qa(folder / "qa.json", rng, 26),
        "cosmosqa": write_multiple_choice(folder / "mc.csv", rng, 20),
    }


def train_args(setup, out: Path, tasks: list[str], batch_size: int, **options) -> list[str]:
    args = [
        "train",
        "--base",
        str(setup["model"]),
        "--out",
        str(out),
        "--tasks",
        ",".join(tasks),
        "--batch-size",
        str(batch_size),
        "--lr",
        "1e-3",
        "--warmup",
        "0",
        "--quiet",
        "--logging-steps",
        "1",
    ]
    for task in tasks:
        args += ["--train-file", f"{task}={setup[task]}"]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args


def torchrun(args: list[str], processes: int = 2, **popen) -> subprocess.CompletedProcess | subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        str(processes),
        "--master_port",
        str(29500 + os.getpid() % 1000),
        "-m",
        "retrieval_xfer",
        *args,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    if popen:
        return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, **popen)
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def weights(folder: Path) -> dict[str, torch.Tensor]:
    state = {f"encoder.{k}": v for k, v in load_file(str(folder / "model.safetensors")).items()}
    for head in sorted((folder / "heads").iterdir()):
        state.update({f"{head.name}.{k}": v for k, v in load_file(str(head / "head.safetensors")).items()})
    return state


def test_two_ranks_equal_one_process_with_twice_the_batch(setup, tmp_path):
    """Span QA has no dropout, so the only differences are rounding (gradients averaged over ranks, padding to
    each rank's longest window): losses agree to 1e-5 relative and weights to 1e-5. Exception, and why: the span
    bias and the last LayerNorm's bias get an exactly-zero gradient (a softmax does not change when every position
    shifts by the same amount); Adam turns their rounding noise into steps of up to lr, so they are held to
    lr x steps instead."""
    steps = 9
    result = torchrun(train_args(setup, tmp_path / "two", ["squad_v1"], 3, max_steps=steps))
    assert result.returncode == 0, result.stderr[-3000:]
    single = train(
        TrainConfig(
            tasks=["squad_v1"],
            out=tmp_path / "one",
            base=str(setup["model"]),
            train_files={"squad_v1": str(setup["squad_v1"])},
            batch_size=6,
            lr=1e-3,
            warmup=0.0,
            max_steps=steps,
            logging_steps=1,
            quiet=True,
        )
    ).run
    two = json.loads((tmp_path / "two" / "run.json").read_text())
    losses = lambda run: [e["loss/squad_v1"] for e in run["losses"] if "loss/squad_v1" in e]
    assert len(losses(two)) == steps
    np.testing.assert_allclose(losses(two), losses(single), rtol=1e-5)
    a, b = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert a.keys() == b.keys()
    shift_invariant = {"squad_v1.qa_outputs.bias", "encoder.encoder.layer.3.output.LayerNorm.bias"}
    for key in a:
        tolerance = 1e-3 * steps if key in shift_invariant else 1e-5
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=tolerance, msg=key)
    assert two["distributed"] == {"world_size": 2, "batch_size_per_device": 3, "global_batch": 6}
    assert single["distributed"]["world_size"] == 1


def test_multi_task_epoch_sees_every_example_once_and_logs_once(setup, tmp_path):
    out = tmp_path / "run"
    lines = [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(4)) for i in range(12)]
    tatoeba = write_tatoeba(tmp_path / "tatoeba", lines, [f"{line} sky" for line in lines])
    result = torchrun(
        train_args(setup, out, ["squad_v1", "cosmosqa"], 4, epochs=2, eval_every=4, eval_data=tatoeba, eval_langs="de")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained squad_v1, cosmosqa") == 1  # the summary line comes from rank 0 only
    run = json.loads((out / "run.json").read_text())
    for task in ("squad_v1", "cosmosqa"):  # 26 and 20 rows: their last global batches (2 and 4) split 1+1, 2+2
        assert run["tasks"][task]["examples_seen"] == 2 * run["tasks"][task]["rows"]
    assert run["steps"] == 2 * (-(-26 // 8) + -(-20 // 8))
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "loss" in e] == list(range(1, run["steps"] + 1))  # one writer, no repeats
    assert {k for e in log for k in e if k.startswith("loss/")} == {"loss/squad_v1", "loss/cosmosqa"}
    assert not (out / "checkpoints").exists()
    # Tatoeba during training ran on rank 0 only, every 4 steps and at the end, and reached run.json and
    # eval_log.jsonl once each
    assert [e["step"] for e in run["evaluations"]] == sorted({*range(4, run["steps"] + 1, 4), run["steps"]})
    assert all(0 <= e["tatoeba/de"] <= 100 for e in run["evaluations"])
    assert [json.loads(line) for line in (out / "eval_log.jsonl").read_text().splitlines()] == run["evaluations"]


def test_killed_run_resumes_with_same_ranks_and_refuses_another_number(setup, tmp_path):
    args = lambda out: train_args(setup, out, ["squad_v1"], 2, max_steps=200, save_steps=3)
    out = tmp_path / "killed"
    process = torchrun(args(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not (out / "checkpoints" / "checkpoint-6" / "rx_state.json").is_file():
        assert process.poll() is None and time.time() < deadline, "no second checkpoint before the run ended"
        time.sleep(0.05)
    tree = [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]
    for pid in tree:  # the launcher and every rank, as a lost node or the OOM killer would
        os.kill(pid, signal.SIGKILL)
    process.wait()
    psutil.wait_procs([p for p in map(_process, tree) if p is not None], timeout=30)
    assert not (out / "run.json").exists()

    refused = torchrun(["train", *args(out)[1:], "--resume"], processes=1)
    assert refused.returncode != 0
    assert "with 2 process(es), now 1" in refused.stderr
    changed = torchrun(["train", *args(out)[1:], "--resume", "--lr", "2e-3"])
    assert changed.returncode != 0 and "another --lr" in changed.stderr

    resumed = torchrun(["train", *args(out)[1:], "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    assert run["steps"] == 200
    assert [e["step"] for e in run["losses"] if "loss" in e] == list(range(1, 201))  # the steps before the kill kept
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if "loss" in e] == list(range(1, 201))  # no step logged twice, none lost
    epoch = [4] * 6 + [2]  # 26 rows in global batches of 4
    assert run["tasks"]["squad_v1"]["examples_seen"] == sum(epoch[step % 7] for step in range(200))
