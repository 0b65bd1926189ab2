"""The settings of one training phase (``rx train``, an experiment's training step): one dataclass, from which
the command-line options are made, and which ``run.json`` records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from retrieval_xfer.encoding.precision import PRECISION_CHOICES
from retrieval_xfer.errors import RxError
from retrieval_xfer.field_checks import check_fields

SAMPLERS = ("proportional", "round-robin", "temperature")  # how tasks interleave: training/samplers.py


@dataclass
class TrainConfig:
    """Everything a training phase depends on; stored in ``run.json``. ``rx train``'s options and an experiment
    file's training keys are made from these fields (help, choices and bounds in their metadata)."""

    tasks: list[str] = field(
        metadata={
            "help": "Comma list of task cards, e.g. mnli or anli_plus,mnli,qqp (rx tasks list).",
            "required": True,
        }
    )
    out: Path = field(metadata={"help": "Run folder to create.", "required": True, "path": True})
    base: str | None = field(
        default=None, metadata={"help": "Model to start from: hub id or folder (e.g. xlm-roberta-large)."}
    )
    init: Path | None = field(
        default=None,
        metadata={
            "help": "Continue from a previous run folder (its encoder, and the heads of tasks trained again).",
            "path": True,
        },
    )
    train_files: dict[str, str] = field(
        default_factory=dict,
        metadata={"help": "A local file in the task's original format instead of the hub (repeatable)."},
    )
    mlm_file: str | None = field(
        default=None,
        metadata={"help": "One sentence per line, any languages: adds a masked-LM task to the mixture.", "path": True},
    )
    limit: int | None = field(default=None, metadata={"help": "Use the first N examples of each task.", "min": 1})
    max_examples_per_task: int | None = field(
        default=None,
        metadata={"help": "Cap on training rows per task (after QA windowing), for the sampler's sizes too.", "min": 1},
    )
    sampling: str = field(
        default="proportional",
        metadata={"help": "How tasks interleave; one task per batch.", "choices": SAMPLERS},
    )
    temperature: float = field(
        default=2.0, metadata={"help": "T of p ∝ n^(1/T) for --sampling temperature.", "above": 0}
    )
    epochs: float = field(default=1.0, metadata={"help": "Passes over the data (fractions allowed).", "above": 0})
    max_steps: int = field(
        default=-1,
        metadata={
            "help": "Stop after this many optimizer steps (overrides --epochs).",
            "show_default": False,
            "min": -1,
        },
    )
    lr: float = field(default=1e-5, metadata={"help": "Peak learning rate.", "above": 0})
    batch_size: int = field(default=4, metadata={"min": 1})
    grad_accum: int = field(default=1, metadata={"min": 1})
    max_length: int | None = field(
        default=None, metadata={"help": "Tokens per example. Default: each card's.", "min": 8}
    )
    warmup: float = field(default=0.1, metadata={"help": "Warm-up, as a fraction of the steps.", "min": 0, "max": 1})
    seed: int = field(default=42, metadata={"min": 0})
    save_steps: int = field(default=500, metadata={"help": "Checkpoint interval.", "min": 1})
    logging_steps: int = field(default=10, metadata={"min": 1})
    resume: bool = field(
        default=False,
        metadata={"help": "Continue an interrupted run in --out from its last checkpoint.", "flag": True},
    )
    report_to: str = field(default="none", metadata={"help": "Passed to transformers, e.g. tensorboard."})
    eval_every: int | None = field(
        default=None,
        metadata={
            "help": "Every N steps, Tatoeba accuracy on --eval-langs (in the trainer's logs, eval_log.jsonl and "
            "run.json).",
            "min": 1,
        },
    )
    eval_data: str | None = field(default=None, metadata={"help": "Tatoeba folder for --eval-every.", "path": True})
    eval_langs: str = field(default="de,sw,jv", metadata={"help": "Languages for --eval-every."})
    eval_layer: int | None = field(
        default=None, metadata={"help": "Layer pooled for --eval-every. Default: rx's default layer."}
    )
    eval_prompt: str = field(default="", metadata={"help": 'Prompt for --eval-every, e.g. "query: ".'})
    precision: str = field(
        default="float32",
        metadata={
            "help": "Mixed precision (weights and optimizer stay float32): bfloat16 is the fast choice on a recent "
            "GPU or a CPU with native bfloat16; float16 needs a GPU; auto: bfloat16 where the hardware has it.",
            "choices": PRECISION_CHOICES,
        },
    )
    dataloader_workers: int = field(
        default=0,
        metadata={
            "help": "Processes that collate the next batches (pad; mask, for --mlm-file) while the model trains. "
            "Rows are tokenized once before training, so 0 (collate in the training process) suits most runs.",
            "min": 0,
        },
    )
    quiet: bool = field(default=False, metadata={"help": "No progress bar.", "flag": True})

    def __post_init__(self) -> None:
        check_fields(self)
        if self.max_steps == 0:
            raise RxError("--max-steps 0: give a positive number of steps, or leave it out to train --epochs")
