"""How much a training step will train on, for ``rx experiment --dry-run``: examples per task (read from the local
training files, the experiment's ``limit`` applied) times epochs, or steps times the global batch, so a user can
size the cluster before starting it."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.task_data import read_task_file
from retrieval_xfer.experiment.plan import Step
from retrieval_xfer.experiment.spec import ExperimentSpec
from retrieval_xfer.training.config import TrainConfig


def task_examples(spec: ExperimentSpec, task: str, limit: int | None, cap: int | None) -> int | None:
    """Training examples of ``task``: from its local file (``limit`` and ``cap`` applied); ``None`` for a hub
    source, whose size is known only once it is downloaded."""
    if task not in spec.train_files:
        return None
    count = len(read_task_file(load_card(task), Path(spec.train_files[task]), limit).examples)
    return min(count, cap) if cap else count


def training_size(spec: ExperimentSpec, step: Step) -> str:
    """`` (trains on ...)`` for a training step, ``""`` for the others."""
    if step.kind != "train":
        return ""
    config = TrainConfig(tasks=step.tasks, out=step.output, **step.settings)
    gpus = spec.step_resources("train")["num_gpus"]
    processes = int(gpus) if gpus > 1 else 1
    global_batch = config.batch_size * config.grad_accum * processes
    sizes = {task: task_examples(spec, task, config.limit, config.max_examples_per_task) for task in step.tasks}
    described = ", ".join(f"{task} {n:,}" if n is not None else f"{task} ? (hub)" for task, n in sizes.items())
    if config.max_steps > 0:
        return (
            f" (trains on {config.max_steps:,} steps x global batch {global_batch} = "
            f"{config.max_steps * global_batch:,} examples; tasks: {described})"
        )
    known = sum(n for n in sizes.values() if n is not None)
    total = f"{known * config.epochs:,.0f} examples" + (" + hub tasks" if None in sizes.values() else "")
    return f" (trains on {described} examples x {config.epochs:g} epoch(s) = {total}; global batch {global_batch})"
