"""Which ``--lang`` codes exist: ISO 639-1 and ISO 639-3 (``resources/iso639.txt``), so a typo such as ``xx`` is
refused in one line even where nothing else reads the code (``rx prepare --lid none``)."""

from __future__ import annotations

import functools
from pathlib import Path

from retrieval_xfer.errors import RxError

CODES_FILE = Path(__file__).resolve().parent.parent / "resources" / "iso639.txt"


@functools.cache
def language_codes() -> frozenset[str]:
    """Every ISO 639-3 code and every ISO 639-1 code of ``resources/iso639.txt``."""
    codes = set()
    for line in CODES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            codes.update(line.split("\t"))
    return frozenset(codes)


def check_language(lang: str) -> None:
    """RxError unless ``lang`` is an ISO 639-1 or 639-3 code (a region or script subtag after ``-`` or ``_``, as
    in ``pt-BR`` or ``zh_Hant``, is allowed and not checked)."""
    base = lang.replace("_", "-").split("-", 1)[0]
    if base.lower() != base or base not in language_codes():
        raise RxError(f"--lang {lang!r}: not an ISO 639-1 or ISO 639-3 language code (e.g. de, hi, kor, jav)")
