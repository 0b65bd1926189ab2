"""Run folders: a complete sentence-transformers model + ``heads/<task>/`` + ``run.json``.

A folder is a run once ``run.json`` exists (it is written last). While training, ``checkpoints/`` holds the
trainer's checkpoints, each with its own ``heads/``; they are removed when the run completes.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
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


def check_checkpoint_files(checkpoint: Path) -> None:
    """RxError naming the first file of ``checkpoint`` that cannot be whole: a torch file (``.pt``, ``.pth``,
    ``.bin``: a zip archive) without its closing directory, or a ``.safetensors`` file shorter than its header
    says. Cheap (no tensor is read), so a truncated ``optimizer.pt`` is named before training starts instead of
    failing inside torch with "Invalid argument"."""
    for path in sorted(Path(checkpoint).rglob("*")):
        if path.suffix in (".pt", ".pth", ".bin") and not zipfile.is_zipfile(path):
            raise _damaged(path, checkpoint)
        if path.suffix == ".safetensors" and not _safetensors_whole(path):
            raise _damaged(path, checkpoint)


def _safetensors_whole(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            size = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(size))
    except (OSError, struct.error, ValueError):
        return False
    ends = [entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"]
    return path.stat().st_size >= 8 + size + max(ends, default=0)


def _damaged(path: Path, checkpoint: Path) -> RunFolderError:
    return RunFolderError(
        f"{path}: truncated or damaged checkpoint file; delete {checkpoint} and resume again (from the checkpoint "
        "before it)"
    )


def unstarted_run(folder: Path) -> bool:
    """Whether ``folder`` is what a training run leaves when it stops before its first checkpoint: only its logs
    and an empty checkpoints folder (so it can be cleared and started again; anything else is kept)."""
    folder = Path(folder)
    if not folder.is_dir() or latest_checkpoint(folder) is not None:
        return False
    return all(p.name in (LOSS_LOG, EVAL_LOG, CHECKPOINTS_DIR) for p in folder.iterdir())
