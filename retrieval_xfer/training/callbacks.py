"""Trainer callbacks of a training phase: heads and the run's state saved with each checkpoint, per-task losses
and evaluations logged. In data-parallel training only the main process (rank 0) writes files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from retrieval_xfer.atomic import atomic_write_json, atomic_write_text
from retrieval_xfer.modeling.run_folder import CHECKPOINT_STATE, HEADS_DIR
from retrieval_xfer.training.distributed import is_main_process, sum_across_ranks, world_size


def _append_line(path: Path, entry: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def keep_steps_up_to(path: Path, step: int) -> None:
    """Drop the lines of a JSON-lines log written after ``step`` (by a run killed after its last checkpoint),
    so a resumed run logs each step once."""
    if not path.is_file():
        return
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


class SaveHeadsCallback(TrainerCallback):
    """Saves every head next to the encoder in each checkpoint the trainer writes (it saves only the encoder)."""

    def __init__(self, heads: dict[str, Any]) -> None:
        self.heads = heads

    def on_save(self, args, state, control, **kwargs):
        if is_main_process():
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            for name, head in self.heads.items():
                head.save(checkpoint / HEADS_DIR / name)
        return control


class NoFinalCheckpoint(TrainerCallback):
    """Stops the trainer's checkpoint at the last step (it saves one there whatever ``save_steps`` is): the run
    folder written right after holds the trained encoder and heads, and the checkpoint (encoder, heads and the
    optimizer's state, three times the encoder's size: about 6.7 GB for XLM-R Large) would be deleted unread. A run
    killed before its run folder is complete resumes from its last periodic checkpoint."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_save = False
        return control


class TaskLossLog(TrainerCallback):
    """Records each head's loss on every batch and, at each logging step, writes per-task means to
    ``train_log.jsonl`` (and into the trainer's logs, so the console and TensorBoard show them). With several
    ranks each task's mean is over every rank's batches. ``history`` starts from a resumed checkpoint's."""

    def __init__(self, heads: dict[str, Any], path: Path, history: list[dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.pending: dict[str, list[torch.Tensor]] = {name: [] for name in heads}
        self.history: list[dict[str, Any]] = list(history or [])
        for name, head in heads.items():  # kept on the device: reading each loss would wait for the GPU every step
            head.register_forward_hook(
                lambda module, inputs, output, name=name: self.pending[name].append(output.detach())
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        entry = {"step": state.global_step, **{k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}}
        sums = {}
        for name, values in self.pending.items():  # every rank ran the same tasks since the last log
            if values:
                sums[f"{name}/sum"] = float(torch.stack(values).float().sum())
                sums[f"{name}/count"] = float(len(values))
            values.clear()
        sums = sum_across_ranks(sums)
        for name in self.pending:
            if f"{name}/count" in sums:
                entry[f"loss/{name}"] = sums[f"{name}/sum"] / sums[f"{name}/count"]
                if logs is not None:
                    logs[f"loss/{name}"] = entry[f"loss/{name}"]
        self.history.append(entry)
        if is_main_process():
            _append_line(self.path, entry)
        return control


class EvaluationLog(TrainerCallback):
    """Keeps what the trainer's evaluator returned at each evaluation (``eval_`` prefix removed, with the step) in
    ``history`` and appends it to ``eval_log.jsonl``; the trainer itself logs the same numbers."""

    def __init__(self, path: Path, history: list[dict[str, Any]] | None = None) -> None:
        self.path = Path(path)
        self.history: list[dict[str, Any]] = list(history or [])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        entry = {
            "step": state.global_step,
            **{
                key.removeprefix("eval_"): value
                for key, value in (metrics or {}).items()
                if key.startswith("eval_")
                and isinstance(value, (int, float))
                and key not in ("eval_runtime", "eval_samples_per_second", "eval_steps_per_second")
            },
        }
        if is_main_process():  # the evaluator runs on the main process only
            self.history.append(entry)
            _append_line(self.path, entry)
        return control


class CheckpointState(TrainerCallback):
    """Counts the examples each task trained on (over all ranks) and writes, into every checkpoint, what a resume
    needs beyond the trainer's own state: the settings it was made with, the number of ranks, the examples seen
    and the loss and evaluation histories (``CHECKPOINT_STATE``). It runs after every other saving callback: the
    file marks the checkpoint complete."""

    def __init__(
        self,
        settings: dict[str, Any],
        loss_log: TaskLossLog,
        eval_log: EvaluationLog,
        examples_seen: dict[str, int] | None = None,
    ) -> None:
        self.settings, self.loss_log, self.eval_log = settings, loss_log, eval_log
        self.before = dict(examples_seen or {})  # totals at the checkpoint resumed from
        self.local: dict[str, int] = {}

    def count(self, task: str, examples: int) -> None:
        """Record that this rank trained ``task`` on ``examples`` examples."""
        self.local[task] = self.local.get(task, 0) + examples

    def examples_seen(self) -> dict[str, int]:
        """Examples trained per task so far, over every rank (a collective call: every rank must make it)."""
        names = sorted(set(self.before) | set(self.settings["tasks"]))
        counted = sum_across_ranks({name: float(self.local.get(name, 0)) for name in names})
        return {name: self.before.get(name, 0) + int(counted[name]) for name in names}

    def on_save(self, args, state, control, **kwargs):
        seen = self.examples_seen()
        if is_main_process():
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            atomic_write_json(
                checkpoint / CHECKPOINT_STATE,
                {
                    "settings": self.settings,
                    "world_size": world_size(),
                    "step": state.global_step,
                    "examples_seen": seen,
                    "losses": self.loss_log.history,
                    "evaluations": self.eval_log.history,
                },
            )
        return control
