"""Run folders: a complete sentence-transformers model + ``heads/<task>/`` + ``run.json``.

A folder is a run once ``run.json`` exists (it is written last). While training, ``checkpoints/`` holds the
trainer's checkpoints, each with its own ``heads/``; they are removed when the run completes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from retrieval_xfer.errors import RxError

RUN_FILE, HEADS_DIR, CHECKPOINTS_DIR = "run.json", "heads", "checkpoints"
LOSS_LOG, EVAL_LOG = "train_log.jsonl", "eval_log.jsonl"


def read_run(folder: Path) -> dict[str, Any]:
    """``run.json`` of a run folder; RxError when ``folder`` is not a (finished) run."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        raise RxError(f"{folder}: not an rx run (no {RUN_FILE}; an unfinished run can be continued with --resume)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RxError(f"{path}: corrupt run file ({err.msg})") from None


def latest_checkpoint(out: Path) -> Path | None:
    """The checkpoint with the highest step under ``out/checkpoints``, if any."""
    found = [(int(m.group(1)), p) for p in (Path(out) / CHECKPOINTS_DIR).glob("checkpoint-*")
             if (m := re.fullmatch(r"checkpoint-(\d+)", p.name))]
    return max(found)[1] if found else None


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
        self.pending: dict[str, list[float]] = {name: [] for name in heads}
        self.history: list[dict[str, Any]] = []
        for name, head in heads.items():
            head.register_forward_hook(lambda module, inputs, output, name=name: self.pending[name].append(float(output.detach())))

    def on_log(self, args, state, control, logs=None, **kwargs):
        entry = {"step": state.global_step, **{k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}}
        for name, values in self.pending.items():
            if values:
                entry[f"loss/{name}"] = sum(values) / len(values)
                if logs is not None:
                    logs[f"loss/{name}"] = entry[f"loss/{name}"]
            values.clear()
        self.history.append(entry)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return control
