"""Trainer callbacks of a training phase: heads saved with each checkpoint, and per-task losses logged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from retrieval_xfer.modeling.run_folder import HEADS_DIR


class SaveHeadsCallback(TrainerCallback):
    """Saves every head next to the encoder in each checkpoint the trainer writes (it saves only the encoder)."""

    def __init__(self, heads: dict[str, Any]) -> None:
        self.heads = heads

    def on_save(self, args, state, control, **kwargs):
        checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        for name, head in self.heads.items():
            head.save(checkpoint / HEADS_DIR / name)
        return control


class TaskLossLog(TrainerCallback):
    """Records each head's loss on every batch and, at each logging step, writes per-task means to
    ``train_log.jsonl`` (and into the trainer's logs, so the console and TensorBoard show them)."""

    def __init__(self, heads: dict[str, Any], path: Path) -> None:
        self.path = Path(path)
        self.pending: dict[str, list[torch.Tensor]] = {name: [] for name in heads}
        self.history: list[dict[str, Any]] = []
        for name, head in heads.items():  # kept on the device: reading each loss would wait for the GPU every step
            head.register_forward_hook(lambda module, inputs, output, name=name: self.pending[name].append(output.detach()))

    def on_log(self, args, state, control, logs=None, **kwargs):
        entry = {"step": state.global_step, **{k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}}
        for name, values in self.pending.items():
            if values:
                entry[f"loss/{name}"] = float(torch.stack(values).float().mean())
                if logs is not None:
                    logs[f"loss/{name}"] = entry[f"loss/{name}"]
            values.clear()
        self.history.append(entry)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return control


class EvaluationLog(TrainerCallback):
    """Keeps what the trainer's evaluator returned at each evaluation (``eval_`` prefix removed, with the step) in
    ``history`` and appends it to ``eval_log.jsonl``; the trainer itself logs the same numbers."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.history: list[dict[str, Any]] = []

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        entry = {"step": state.global_step, **{key.removeprefix("eval_"): value for key, value in (metrics or {}).items()
                                               if key.startswith("eval_") and isinstance(value, (int, float))
                                               and key not in ("eval_runtime", "eval_samples_per_second",
                                                               "eval_steps_per_second")}}
        self.history.append(entry)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return control
