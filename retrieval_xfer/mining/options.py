"""The settings of margin-based mining, shared by ``rx mine``, ``rx eval bucc`` and experiment files."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.budget import DEFAULT_MAX_MEMORY

# The names of the choices, here so that reading options needs no numpy: the margin functions are
# ``margin.MARGINS`` (a test keeps the names equal), the retrieval rules ``candidates.mine_candidates``.
MARGIN_NAMES = ("ratio", "distance", "absolute")
RETRIEVALS = ("max", "fwd", "bwd", "intersect")


@dataclass(frozen=True)
class MiningOptions:
    """k neighbours for the margin, the margin function, the retrieval rule and the exact k-NN's memory budget.
    ``None`` means "the default of the task" (``tasks/bucc2018.yaml``'s ``mining``: XTREME/LASER's k=4, ratio,
    max); ``resolved`` fills it.
    Field metadata (``help``, ``choices``, ``min``) is what the CLI options and experiment keys are made of."""

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

    def resolved(self, defaults: dict[str, Any]) -> MiningOptions:
        """These options with every ``None`` taken from ``defaults`` (a card's ``mining`` mapping); RxError when
        a value is unknown."""
        values = {
            f.name: getattr(self, f.name) if getattr(self, f.name) is not None else defaults[f.name]
            for f in dataclasses.fields(self)
        }
        if values["margin"] not in MARGIN_NAMES:
            raise RxError(f"unknown margin {values['margin']!r}; choose one of {', '.join(MARGIN_NAMES)}")
        if values["retrieval"] not in RETRIEVALS:
            raise RxError(f"unknown retrieval {values['retrieval']!r}; choose one of {', '.join(RETRIEVALS)}")
        if not isinstance(values["k"], int) or values["k"] < 1:
            raise RxError(f"k must be a positive integer, not {values['k']!r}")
        return MiningOptions(**values)
