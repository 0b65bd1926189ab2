"""Which ``--lang`` codes exist: ISO 639-1 and ISO 639-3 (``resources/iso639.txt``), so a typo such as ``xx`` is
refused in one line even where nothing else reads the code (``rx prepare --lid none``); and the codes under which
a language identifier may know a language given by another code (``kor`` is ``ko``; Mandarin ``cmn`` is within
the macrolanguage ``zh``)."""

from __future__ import annotations

import functools
from pathlib import Path

from retrieval_xfer.errors import RxError

CODES_FILE = Path(__file__).resolve().parent.parent / "resources" / "iso639.txt"


# ISO 639-3 individual languages and the ISO 639-1 macrolanguage that language identifiers name them by.
MACROLANGUAGE_OF = {
    **dict.fromkeys(("cmn", "yue", "wuu", "hak", "nan", "gan", "hsn"), "zh"),
    **dict.fromkeys(("pes", "prs"), "fa"),
    **dict.fromkeys(("swh", "swc"), "sw"),
    **dict.fromkeys(("nob", "nno"), "no"),
    **dict.fromkeys(("ckb", "kmr", "sdh"), "ku"),
    **dict.fromkeys(("azj", "azb"), "az"),
    "zsm": "ms",
    "lvs": "lv",
    "ekk": "et",
    "arb": "ar",
    "uzn": "uz",
    "khk": "mn",
    "plt": "mg",
    "ydd": "yi",
    "quz": "qu",
    "fil": "tl",
}


@functools.cache
def _codes_table() -> tuple[tuple[str, ...], ...]:
    """The rows of ``resources/iso639.txt``: ``(alpha_3,)`` or ``(alpha_3, alpha_2)``, read once."""
    lines = CODES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(tuple(line.split("\t")) for line in lines if line and not line.startswith("#"))


def _base(lang: str) -> str:
    """``lang`` without a region or script subtag (``pt-BR``, ``zh_Hant``)."""
    return lang.replace("_", "-").split("-", 1)[0]


def candidate_codes(lang: str) -> list[str]:
    """The codes ``lang`` may go by, most specific first: itself (without a subtag), its ISO 639-1 code, and the
    ISO 639-1 code of its macrolanguage."""
    base = _base(lang)
    two_letter = next((row[1] for row in _codes_table() if row[0] == base and len(row) == 2), None)
    codes = [base, two_letter, MACROLANGUAGE_OF.get(base)]
    return [code for i, code in enumerate(codes) if code and code not in codes[:i]]


@functools.cache
def language_codes() -> frozenset[str]:
    """Every ISO 639-3 code and every ISO 639-1 code of ``resources/iso639.txt``."""
    return frozenset(code for row in _codes_table() for code in row)


def check_language(lang: str) -> None:
    """RxError unless ``lang`` is an ISO 639-1 or 639-3 code (a region or script subtag after ``-`` or ``_``, as
    in ``pt-BR`` or ``zh_Hant``, is allowed and not checked)."""
    base = _base(lang)
    if base.lower() != base or base not in language_codes():
        raise RxError(f"--lang {lang!r}: not an ISO 639-1 or ISO 639-3 language code (e.g. de, hi, kor, jav)")
