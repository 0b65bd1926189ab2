"""What ``rx eval <task>`` takes for a zero-shot task, besides the run: one dataclass, from which the command's
options and an experiment file's evaluation keys are made (no model stack is imported here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from retrieval_xfer.encoding.precision import PRECISION_CHOICES
from retrieval_xfer.evaluation.confidence import BootstrapOptions


@dataclass(frozen=True)
class ZeroShotOptions:
    """Where the data is, which languages and split, which head, and how to run the model."""

    data_dir: Path | None = field(
        default=None, metadata={"help": "Folder with the files ({files}). Default: the hub.", "path": True}
    )
    data_files: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "One language's file (repeatable); the language comes from the name or LANG=.",
            "flag": "--data-file",
            "multiple": True,
            "metavar": "[LANG=]PATH",
        },
    )
    langs: str = field(
        default="all",
        metadata={"help": "'all' (every language with data), 'xtreme' (the card's list) or codes like de,sw."},
    )
    split: str = field(default="dev", metadata={"choices": ("dev", "test")})
    head: str | None = field(
        default=None, metadata={"help": "Which head of the run to use (default: the card's choice)."}
    )
    batch_size: int = field(default=32, metadata={"min": 1})
    max_length: int | None = field(default=None, metadata={"help": "Tokens per window. Default: the card's.", "min": 8})
    limit: int | None = field(
        default=None, metadata={"help": "First N examples per language (a quick look).", "min": 1}
    )
    device: str | None = field(default=None, metadata={"help": "cpu, cuda, ... Default: cuda if available."})
    precision: str = field(
        default="float32",
        metadata={
            "help": "Compute precision. auto: bfloat16 on a GPU or a CPU with native bfloat16 (avx512_bf16, "
            "amx_bf16), float32 elsewhere.",
            "choices": PRECISION_CHOICES,
        },
    )
    confidence: BootstrapOptions = field(default_factory=BootstrapOptions, metadata={"nested": True})
