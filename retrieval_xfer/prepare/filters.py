"""Line filters before mining: length in characters and the share of letters (what is left of markup, tables,
numbers and code is not a sentence to mine)."""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval_xfer.field_checks import check_fields
from retrieval_xfer.prepare.normalise import is_letter


@dataclass(frozen=True)
class LineFilter:
    """Keep a line when its length and its share of letters are within these bounds."""

    min_chars: int = field(default=5, metadata={"help": "Drop lines shorter than this (characters).", "min": 0})
    max_chars: int = field(default=1000, metadata={"help": "Drop lines longer than this (characters).", "min": 1})
    min_letters: float = field(
        default=0.5,
        metadata={
            "help": "Drop lines whose share of letters among their visible characters is below this: numbers, "
            "code, tables. Letters are Unicode letters and marks (Indic vowel signs count) in any script; spaces "
            "do not count (scripts without spaces are not penalised).",
            "min": 0.0,
            "max": 1.0,
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)

    def reason(self, text: str) -> str | None:
        """Why ``text`` is dropped (``empty``, ``too short``, ``too long``, ``few letters``), or None to keep it."""
        n = len(text)
        if n == 0:
            return "empty"
        if n < self.min_chars:
            return "too short"
        if n > self.max_chars:
            return "too long"
        visible = n - sum(map(str.isspace, text))
        if sum(map(is_letter, text)) < self.min_letters * visible:
            return "few letters"
        return None
