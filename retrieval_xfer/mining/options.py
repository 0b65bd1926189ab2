"""The settings of margin-based mining: one object that ``rx mine``, ``rx eval bucc``, ``--threshold auto`` and
experiment files pass around, resolved once against the task card."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.field_checks import check_fields
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.budget import DEFAULT_MAX_MEMORY

# The names of the choices, here so that reading options needs no numpy: the margin functions are
# ``margin.MARGINS`` (a test keeps the names equal), the retrieval rules ``candidates.mine_candidates``.
MARGIN_NAMES = ("ratio", "distance", "absolute")
RETRIEVALS = ("max", "fwd", "bwd", "intersect")
CENTER_CHOICES = ("none", "language")  # language: each side's (or each language's) mean vector removed
PAIR_FORMATS = ("tsv", "jsonl", "moses")  # mining.pair_formats writes them


def check_mining_names(margin: str | None = None, retrieval: str | None = None) -> None:
    """RxError in one line for a margin or retrieval rule that does not exist (None: not checked)."""
    if margin is not None and margin not in MARGIN_NAMES:
        raise RxError(f"unknown margin {margin!r}; choose one of {', '.join(MARGIN_NAMES)}")
    if retrieval is not None and retrieval not in RETRIEVALS:
        raise RxError(f"unknown retrieval {retrieval!r}; choose one of {', '.join(RETRIEVALS)}")


@dataclass(frozen=True)
class MiningOptions:
    """Everything a mining job needs besides its inputs: k neighbours for the margin, the margin function, the
    retrieval rule, the exact k-NN's memory budget, centering, the approximate ``index`` (``flat``: exact), where the
    k-NN runs (``device``; ``ray``: ``"local"`` or a cluster address) and whether exports' checksums are verified.
    ``None`` in k, margin and retrieval means "the default of the task" (``tasks/bucc2018.yaml``'s ``mining``:
    XTREME/LASER's k=4, ratio, max); ``resolved`` fills it.
    Field metadata (``help``, ``choices``, ``min``) is what the CLI options and experiment keys are made of
    (``nested``: the fields of another dataclass; ``cli: False``: set by the command, not an option of its own;
    ``experiment: False``: not an experiment file's key)."""

    k: int | None = field(default=None, metadata={"help": "Neighbours averaged in the margin.", "min": 1, "flag": "-k"})
    margin: str | None = field(
        default=None,
        metadata={
            "help": "ratio = cos / mean kNN cos (LASER's), distance = cos - mean kNN cos, absolute = cos.",
            "choices": MARGIN_NAMES,
        },
    )
    retrieval: str | None = field(
        default=None,
        metadata={
            "help": "max = best of both directions (XTREME's), fwd/bwd = one direction, intersect = mutual best.",
            "choices": RETRIEVALS,
        },
    )
    max_memory: str = field(
        default=DEFAULT_MAX_MEMORY,
        metadata={"help": "Memory for the exact k-NN's blocks and results, e.g. 512MB or 16GB."},
    )
    index: IndexOptions = field(default_factory=IndexOptions, metadata={"nested": True})
    ray: str | None = field(
        default=None,
        metadata={
            "help": "Run the exact k-NN's blocks as Ray tasks: on a cluster (HOST:PORT, ray://HOST:PORT) or, "
            "without an address, on a local Ray. Needs the ray extra.",
            "flag_value": "local",
            "metavar": "[ADDRESS]",
            "experiment": False,  # rx experiment --ray places whole steps
        },
    )
    center: str = field(
        default="none",
        metadata={
            "help": "language: remove each side's mean vector (estimated from that side) before mining; rx eval "
            "bucc scores both, the centered F1 in columns of its own (transductive: the means come from the "
            "sentences being mined).",
            "choices": CENTER_CHOICES,
        },
    )
    device: str | None = field(default=None, metadata={"cli": False})  # the encoder's --device
    verify: bool = field(default=True, metadata={"cli": False})  # --no-verify

    def __post_init__(self) -> None:
        check_fields(self)

    def resolved(self, defaults: dict[str, Any]) -> MiningOptions:
        """These options with every unset k, margin and retrieval taken from ``defaults`` (a card's ``mining``
        mapping); RxError when a value is unknown."""
        values = {
            name: getattr(self, name) if getattr(self, name) is not None else defaults[name] for name in TASK_DEFAULTS
        }
        check_mining_names(values["margin"], values["retrieval"])
        if not isinstance(values["k"], int) or values["k"] < 1:
            raise RxError(f"k must be a positive integer, not {values['k']!r}")
        return dataclasses.replace(self, **values)

    @property
    def exact(self) -> bool:
        """Whether the k-NN is exact (no approximate index)."""
        return self.index.index_type == "flat" and not self.index.index_factory

    def describe_knn(self) -> str | dict[str, Any]:
        """How a result file names the k-NN: ``"exact"`` or the approximate index's options."""
        return "exact" if self.exact else dataclasses.asdict(self.index)


TASK_DEFAULTS = ("k", "margin", "retrieval")  # the fields a task card's ``mining`` mapping fills


DEFAULT_MAX_DISTRACTORS = 50_000
AUTO_OBJECTIVES = ("precision", "f1")  # what --threshold auto chooses for: a precision target, or the best F1
MINE_OBJECTIVE, SCORE_OBJECTIVE = "precision", "f1"  # --objective when not given, by command


@dataclass(frozen=True)
class PostFilters:
    """Which post-filters ``rx mine`` applies (none by default: the pairs file is the margin's ranking)."""

    max_score: float | None = field(
        default=None,
        metadata={"help": "Drop pairs scoring above this: near-identical boilerplate (stopes: 1.25 with LASER)."},
    )
    length_ratio: str | None = field(
        default=None,
        metadata={
            "help": "MIN,MAX: keep pairs whose source/target length ratio is within, e.g. 0.5,2. Lengths in "
            "characters; in tokens (a CJK character is one) when either side is CJK."
        },
    )
    numbers_agree: bool = field(
        default=False,
        metadata={
            "help": "Drop a pair whose two sentences do not hold the same numbers (digit runs, in any order).",
            "flag": True,
        },
    )
    one_to_one: bool = field(
        default=False,
        metadata={"help": "Each source and target sentence in one pair at most (best first).", "flag": True},
    )
    dedup_pairs: bool = field(
        default=False,
        metadata={"help": "Drop a pair whose two sentences, normalised, equal an already kept pair's.", "flag": True},
    )

    def __post_init__(self) -> None:
        check_fields(self)
        self.ratio_bounds()

    def ratio_bounds(self) -> tuple[float, float] | None:
        """``length_ratio`` as ``(min, max)``; RxError in one line when it is not ``MIN,MAX`` with 0 < MIN <= MAX."""
        if self.length_ratio is None:
            return None
        try:
            low, high = (float(part) for part in self.length_ratio.split(","))
        except ValueError:
            raise RxError(f"--length-ratio {self.length_ratio!r}: give MIN,MAX, e.g. 0.5,2") from None
        if not 0 < low <= high:
            raise RxError(f"--length-ratio {self.length_ratio!r}: need 0 < MIN <= MAX")
        return low, high

    def needs_texts(self) -> bool:
        """Whether these filters read the sentences (length ratio, numbers, pair de-duplication)."""
        return self.length_ratio is not None or self.numbers_agree or self.dedup_pairs


@dataclass(frozen=True)
class AutoThresholdOptions:
    """Where ``--threshold auto`` takes its known parallel sample, and what it chooses for (a precision target, or
    the best expected F1)."""

    sample_src: Path | None = field(
        default=None, metadata={"help": "--threshold auto: source lines of a parallel sample (line i = sample-trg's)."}
    )
    sample_trg: Path | None = field(default=None, metadata={"help": "--threshold auto: the sample's target lines."})
    objective: str | None = field(
        default=None,
        metadata={
            "help": "--threshold auto: 'precision' picks the lowest threshold expected to reach --target-precision; "
            "'f1' the one with the best expected F1 (more pairs, no precision promise). Default: precision for rx "
            "mine, f1 for rx score (filtering wants the noise out).",
            "choices": AUTO_OBJECTIVES,
        },
    )
    target_precision: float = field(
        default=0.95,
        metadata={"help": "--threshold auto: the precision the chosen threshold should reach.", "above": 0, "max": 1},
    )
    max_distractors: int = field(
        default=DEFAULT_MAX_DISTRACTORS,
        metadata={
            "help": "--threshold auto: corpus rows per side the sample hides among (more: slower, closer).",
            "min": 1,
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class PairOutput:
    """The format ``rx mine`` and ``rx score`` write their pairs in (``mining.pair_formats``)."""

    pairs_format: str = field(
        default="tsv",
        metadata={
            "flag": "--format",
            "help": "tsv: tab-separated with escaped text columns; jsonl: one JSON object a pair; moses: OUT.<src> "
            "and OUT.<trg> line-aligned plain text plus OUT.scores (what fairseq, Marian and OpusFilter read).",
            "choices": PAIR_FORMATS,
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)
