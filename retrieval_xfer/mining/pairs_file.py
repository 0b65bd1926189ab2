"""The pairs file of ``rx mine``: one pair per line, best first, ``score<TAB>src_id<TAB>trg_id[<TAB>src<TAB>trg]``.

Text columns escape backslash, tab, newline and carriage return as ``\\``, ``\t``, ``\n``, ``\r`` (PostgreSQL's
text format), so a row always has its columns whatever the sentences hold; ``read_pairs`` undoes it. A score is
always a finite number (``mining/margin.py``), written with six decimals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.errors import RxError

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class PairRow:
    """One mined pair: its margin ``score``, the two ids, and the two sentences (None when the sides had none)."""

    score: float
    src_id: str
    trg_id: str
    src: str | None = None
    trg: str | None = None


def escape_field(text: str) -> str:
    """A text column: backslash, tab, newline and carriage return escaped."""
    return text.translate(_ESCAPES)


def unescape_field(field: str) -> str:
    """The text ``escape_field`` escaped."""
    return _ESCAPED.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(0)), field)


def format_row(row: PairRow) -> str:
    """One line of the pairs file, with its newline; ValueError for a non-finite score."""
    if not math.isfinite(row.score):
        raise ValueError(f"a pair's score must be finite, not {row.score}")
    cells = [f"{row.score:.6f}", row.src_id, row.trg_id]
    if row.src is not None and row.trg is not None:
        cells += [escape_field(row.src), escape_field(row.trg)]
    return "\t".join(cells) + "\n"


def format_rows(rows: Iterable[PairRow]) -> str:
    """The pairs file's text for ``rows``."""
    return "".join(format_row(row) for row in rows)


def read_pairs(path: Path) -> list[PairRow]:
    """The rows of a pairs file; RxError naming the file and line for a row that is not one rx writes (3 or 5
    columns, a finite score)."""
    rows = []
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            for number, line in enumerate(f, 1):
                cells = line.rstrip("\n").split("\t")
                if len(cells) not in (3, 5):
                    raise RxError(f"{path}:{number}: {len(cells)} columns; a pairs file has 3 or 5")
                try:
                    score = float(cells[0])
                except ValueError:
                    raise RxError(f"{path}:{number}: score {cells[0]!r} is not a number") from None
                if not math.isfinite(score):
                    raise RxError(f"{path}:{number}: score {cells[0]!r} is not finite")
                texts = [unescape_field(cell) for cell in cells[3:]] or [None, None]
                rows.append(PairRow(score, cells[1], cells[2], *texts))
    except FileNotFoundError:
        raise RxError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RxError(f"{path}: not UTF-8") from None
    return rows
