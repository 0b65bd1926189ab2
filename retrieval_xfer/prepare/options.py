"""What ``rx prepare`` does to a file: one options object (the click options are made from its fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retrieval_xfer.prepare.filters import LineFilter

IDENTIFIERS = ("py3langid", "lingua")


def identifier_field(help_text: str) -> Any:
    """The ``--lid`` field of a command that identifies languages: one of ``IDENTIFIERS`` (py3langid by default,
    README: Preparing raw text) or none."""
    return field(default="py3langid", metadata={"help": help_text, "choices": (*IDENTIFIERS, "none")})


SPLITTERS = ("moses", "pysbd")


@dataclass(frozen=True)
class PrepareOptions:
    """How ``rx prepare`` cleans a file (the click options and experiment keys are made from these fields)."""

    lang: str = field(
        default="", metadata={"help": "The language the file should be in (ISO 639-1, e.g. de).", "required": True}
    )
    lid: str = identifier_field(
        "Language identifier: py3langid (fast; the default, README: Preparing raw text), lingua, or none (keep "
        "every language)."
    )
    split_sentences: str = field(
        default="none",
        metadata={
            "help": "Split each line into sentences first (for paragraphs): moses (Moses' rules, 24 European "
            "languages), pysbd (23 languages, zh and ja among them), or none (a line is a sentence).",
            "choices": (*SPLITTERS, "none"),
        },
    )
    errors: str = field(
        default="strict",
        metadata={
            "help": "strict: a line that is not UTF-8 is an error naming it; replace: decode it with U+FFFD "
            "and go on (counted in the report).",
            "choices": ("strict", "replace"),
        },
    )
    line_filter: LineFilter = field(default_factory=LineFilter)
