"""The encoder of a run folder with the head a zero-shot task needs, checked against the task's card."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.encoding.loader import PRECISIONS, quiet_transformers
from retrieval_xfer.encoding.precision import PRECISION_CHOICES, choose_precision
from retrieval_xfer.errors import RxError
from retrieval_xfer.modeling.heads import TaskHead, load_head, read_head_config
from retrieval_xfer.modeling.run_folder import HEADS_DIR, read_run

logger = logging.getLogger(__name__)


@dataclass
class TaskModel:
    """A run's encoder with one head, in eval mode on ``device``. ``head_task`` names the card it was trained on;
    ``run_info`` is the run's ``run.json``."""

    run: Path
    head_task: str
    head: TaskHead
    device: torch.device
    precision: str = "float32"
    run_info: dict[str, Any] = field(default_factory=dict)

    @property
    def tokenizer(self):
        """The encoder's tokenizer."""
        return self.head.model[0].tokenizer

    def to_device(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A feature dict moved to the model's device."""
        return {k: v.to(self.device) for k, v in features.items()}


def batched(rows: list[Any], size: int) -> Iterator[list[Any]]:
    """``rows`` in consecutive batches of ``size``."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _head_hint(card: TaskCard, run: Path) -> str:
    first = card.trained_by[0]
    return f"train one with: rx train --init {run} --tasks {first} --out RUN (or --base MODEL)"


def load_task_model(
    run: Path, card: TaskCard, head_task: str | None = None, device: str | None = None, precision: str = "float32"
) -> TaskModel:
    """Load run folder ``run`` with the head for ``card``: ``head_task`` if given, else the first of the card's
    ``trained_by`` tasks the run has a head for, in ``precision`` (``bfloat16`` is fast on GPUs). RxError when
    ``run`` is not a run, has no such head, the head is of the wrong type, or its label set differs from the card's.
    ``precision`` ``auto``: bfloat16 where the hardware has it (``encoding.precision.choose_precision``)."""
    if precision not in PRECISION_CHOICES:
        raise RxError(f"--precision {precision!r}: choose one of {', '.join(PRECISION_CHOICES)}")
    from sentence_transformers import SentenceTransformer

    run = Path(run)
    if not run.is_dir():
        raise RxError(f"{run}: no such run folder (a folder written by rx train)")
    run_info = read_run(run)
    available = sorted(p.name for p in (run / HEADS_DIR).iterdir() if p.is_dir()) if (run / HEADS_DIR).is_dir() else []
    if head_task is not None:
        if head_task not in available:
            raise RxError(f"{run}: no head {head_task!r} (heads: {', '.join(available) or 'none'})")
        chosen = head_task
    else:
        chosen = next((t for t in card.trained_by if t in available), None)
        if chosen is None:
            raise RxError(
                f"{run}: no {card.head} head for {card.name} (it needs one of "
                f"{', '.join(card.trained_by)}; the run has {', '.join(available) or 'none'}); "
                f"{_head_hint(card, run)}"
            )
    saved = read_head_config(run / HEADS_DIR / chosen)
    if saved["head_type"] != card.head:
        raise RxError(f"{run}: head {chosen!r} is a {saved['head_type']} head; {card.name} needs a {card.head} head")
    if card.labels and saved["config"].get("labels") != card.labels:
        raise RxError(
            f"{run}: head {chosen!r} was trained with labels {saved['config'].get('labels')}, but "
            f"{card.name} is scored with {card.labels}: the label sets differ"
        )
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    with quiet_transformers():
        model = SentenceTransformer(str(run), device=str(target))
    head = load_head(run / HEADS_DIR / chosen, model)
    choice = choose_precision(precision, target.type)
    logger.info(f"precision {choice.name} ({choice.reason})")
    head.to(device=target, dtype=PRECISIONS[choice.name]).eval()
    return TaskModel(run, chosen, head, target, choice.name, run_info)
