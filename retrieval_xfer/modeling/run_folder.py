"""Run folders: a complete sentence-transformers model + ``heads/<task>/`` + ``run.json``.

A folder is a run once ``run.json`` exists (it is written last). While training, ``checkpoints/`` holds the
trainer's checkpoints, each with its own ``heads/``; they are removed when the run completes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_text
from retrieval_xfer.errors import RunFolderError
from retrieval_xfer.json_file import read_json_object

RUN_FILE, HEADS_DIR, CHECKPOINTS_DIR = "run.json", "heads", "checkpoints"
CHECKPOINT_STATE = "rx_state.json"  # written last into a checkpoint: a checkpoint without it is incomplete
LOSS_LOG, EVAL_LOG = "train_log.jsonl", "eval_log.jsonl"


def read_run(folder: Path) -> dict[str, Any]:
    """``run.json`` of a run folder; RxError when ``folder`` is not a (finished) run."""
    path = Path(folder) / RUN_FILE
    return read_json_object(
        path,
        "run file",
        error=RunFolderError,
        missing=f"{folder}: not an rx run (no {RUN_FILE}; an unfinished run can be continued with --resume)",
    )


def write_run(folder: Path, run: dict[str, Any]) -> None:
    """Write ``run.json`` atomically: it marks the folder as a finished run, so it must never be half-written."""
    atomic_write_text(Path(folder) / RUN_FILE, json.dumps(run, indent=2, default=str) + "\n")


def checkpoints(out: Path) -> list[tuple[int, Path, bool]]:
    """Every ``checkpoint-N`` folder under ``out/checkpoints``: ``(N, folder, complete)``, by step."""
    found = [
        (int(m.group(1)), p, (p / CHECKPOINT_STATE).is_file())
        for p in (Path(out) / CHECKPOINTS_DIR).glob("checkpoint-*")
        if (m := re.fullmatch(r"checkpoint-(\d+)", p.name))
    ]
    return sorted(found)


def latest_checkpoint(out: Path) -> Path | None:
    """The complete checkpoint with the highest step under ``out/checkpoints``, if any (one a kill interrupted
    while it was written is passed over)."""
    complete = [p for _, p, done in checkpoints(out) if done]
    return complete[-1] if complete else None


def unstarted_run(folder: Path) -> bool:
    """Whether ``folder`` is what a training run leaves when it stops before its first checkpoint: only its logs
    and an empty checkpoints folder (so it can be cleared and started again; anything else is kept)."""
    folder = Path(folder)
    if not folder.is_dir() or latest_checkpoint(folder) is not None:
        return False
    return all(p.name in (LOSS_LOG, EVAL_LOG, CHECKPOINTS_DIR) for p in folder.iterdir())
