"""The settings of ``rx score`` beside the mining and filtering options it shares with ``rx mine``: its checks and
which scored pairs it writes (light to import: the CLI builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from retrieval_xfer.field_checks import check_fields
from retrieval_xfer.prepare.options import identifier_field


@dataclass(frozen=True)
class ScoreChecks:
    """The checks of ``rx score`` that need settings: language ID of each side, and whether copies are dropped."""

    src_lang: str | None = field(
        default=None,
        metadata={"help": "Source language (ISO 639-1, e.g. de): drop pairs whose source language ID names another."},
    )
    trg_lang: str | None = field(
        default=None, metadata={"help": "Target language: drop pairs whose target language ID names another."}
    )
    lid: str = identifier_field(
        "Language identifier of --src-lang/--trg-lang (lid extra), or none. Texts under 20 letters are not judged."
    )
    drop_copies: bool = field(
        default=False,
        metadata={"help": "Drop pairs whose target is (nearly) its source: untranslated copies.", "flag": True},
    )


@dataclass(frozen=True)
class ScoreSelection:
    """Which scored pairs are written: the best fraction (beside ``--threshold``), and whether dropped ones too."""

    keep_top: float | None = field(
        default=None,
        metadata={
            "help": "Keep the best FRACTION (by margin) of the pairs that pass the checks, e.g. 0.8.",
            "above": 0,
            "max": 1,
            "metavar": "FRACTION",
        },
    )
    with_dropped: bool = field(
        default=False,
        metadata={
            "help": "Write every pair, with a 'drop' column saying why a dropped one was dropped (not with moses).",
            "flag": True,
        },
    )

    def __post_init__(self) -> None:
        check_fields(self)
