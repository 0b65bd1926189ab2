"""What ``rx eval tatoeba`` and ``rx eval bucc`` take besides the encoder: one dataclass per task, from which the
command's options and an experiment file's evaluation keys are made (no model stack is imported here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.evaluation.confidence import BootstrapOptions
from retrieval_xfer.field_checks import check_fields
from retrieval_xfer.mining.options import CENTER_CHOICES, MiningOptions


def layers_field() -> Any:
    """``--layers``: a layer sweep, the same option for every encoder-based evaluation."""
    return field(
        default=None,
        metadata={
            "help": "Layer sweep: score every listed layer ('all' = 0..N) from one forward pass per corpus; the "
            "result file gets a layer_sweep section (rx report plots it). The headline scores are those of --layer "
            "if given, else of the layer the command would use without a sweep. Needs memory for one corpus x all "
            "layers.",
            "metavar": "all|K,K,...",
        },
    )


@dataclass(frozen=True)
class TatoebaOptions:
    """Where the LASER files are, which languages, how many pairs, centering, and a layer sweep."""

    data_dir: Path | None = field(
        default=None,
        metadata={
            "help": "Folder with the LASER files tatoeba.XXX-eng.{XXX,eng}. Default: the Hugging Face Hub.",
            "path": True,
        },
    )
    langs: str = field(
        default="xtreme",
        metadata={
            "help": "'xtreme' (36 languages), 'demo' (8: de fr zh ar af sw jv te), 'all' (112), or codes like "
            "de,fr,swh (ISO 639-1 or 639-3)."
        },
    )
    limit: int | None = field(
        default=None,
        metadata={
            "help": "First N sentence pairs per language (a quick look; not comparable with full scores).",
            "min": 1,
        },
    )
    center: str = field(
        default="none",
        metadata={
            "help": "language: also score with each language's mean vector removed (transductive: the means come "
            "from the sentences being retrieved), in columns of their own.",
            "choices": CENTER_CHOICES,
        },
    )
    layers: str | None = layers_field()
    confidence: BootstrapOptions = field(default_factory=BootstrapOptions, metadata={"nested": True})

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class BuccOptions:
    """Where the BUCC files are, which pairs, how to mine (one ``MiningOptions``), where predictions go, whether
    missing gold ids are tolerated, and a layer sweep."""

    data_dir: Path | None = field(
        default=None,
        metadata={
            "help": "Folder with BUCC files (PAIR.sample.*/PAIR.dev.*, PAIR.training.*/PAIR.test.*). Default: hub "
            "copy, which holds only the gold pairs.",
            "path": True,
        },
    )
    pairs: str | None = field(
        default=None, metadata={"help": "Comma list, e.g. zh-en,de-en. Default: every pair found in --data-dir."}
    )
    mining: MiningOptions = field(default_factory=MiningOptions, metadata={"nested": True})
    predictions_dir: Path | None = field(
        default=None,
        metadata={
            "help": "Where to write predicted pairs of the scored split. Default: bucc-predictions/ next to the "
            "result JSON.",
            "path": True,
            "experiment": False,  # an experiment writes them beside each step's result
        },
    )
    allow_missing_gold: bool = field(
        default=False,
        metadata={
            "help": "Leave out (with a warning, counted in the result) gold pairs whose ids are not in the corpora; "
            "by default they are an error.",
            "flag": True,
        },
    )
    layers: str | None = layers_field()
    confidence: BootstrapOptions = field(default_factory=BootstrapOptions, metadata={"nested": True})

    def __post_init__(self) -> None:
        check_fields(self)
