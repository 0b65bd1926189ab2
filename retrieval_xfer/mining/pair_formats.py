"""The files ``rx mine`` and ``rx score`` write pairs to, in the format the next tool reads (``--format``):

- ``tsv``: one pair a line, tab-separated, text columns escaped (``pairs_file.escape_field``). ``rx mine``'s
  columns are ``score, src_id, trg_id[, src, trg]`` with no header (what ``read_pairs`` and ``rx tune-threshold``
  read); ``rx score``'s start with a header line naming them.
- ``jsonl``: one JSON object a line, the same fields by name (texts as they are: JSON escapes what it must).
- ``moses``: what Moses, fairseq and Marian train on: ``OUT.<src>`` and ``OUT.<trg>`` (the language codes when
  known, else ``src`` and ``trg``), line i of one translating line i of the other, plain text, and
  ``OUT.scores`` with each pair's score on its line. A line break inside a sentence (possible only in ``tsv``
  input) would split a line in two, so it becomes a space; the sidecar counts such sentences.

Every file is written whole or not at all (``atomic``); the caller writes its sidecar after them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_text
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.options import PAIR_FORMATS as FORMATS
from retrieval_xfer.mining.pairs_file import escape_field, unescape_field

SCORES_SUFFIX = ".scores"
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class PairTable:
    """Pairs to write: ``columns`` names the fields of each row of ``rows``; ``score`` names the column the moses
    scores file holds; ``header``: whether a tsv starts with the column names."""

    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    score: str = "score"
    header: bool = True


def moses_paths(out: Path, langs: tuple[str | None, str | None]) -> tuple[Path, Path, Path]:
    """The moses format's three files for ``out``: source text, target text, scores."""
    out = Path(out)
    src, trg = (lang or name for lang, name in zip(langs, ("src", "trg")))
    if src == trg:
        src, trg = f"{src}.src", f"{trg}.trg"
    return (
        out.with_name(f"{out.name}.{src}"),
        out.with_name(f"{out.name}.{trg}"),
        out.with_name(out.name + SCORES_SUFFIX),
    )


def output_paths(out: Path, fmt: str, langs: tuple[str | None, str | None] = (None, None)) -> list[Path]:
    """Every file a table in format ``fmt`` is written to."""
    check_format(fmt)
    return list(moses_paths(out, langs)) if fmt == "moses" else [Path(out)]


def check_format(fmt: str) -> None:
    """RxError in one line for a format that is not one of ``FORMATS``."""
    if fmt not in FORMATS:
        raise RxError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a score must be finite, not {value}")
        return f"{value:.6f}"
    if value is None:
        return ""
    return escape_field(str(value))


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a score must be finite, not {value}")
        return round(value, 6)
    return value


def one_line(text: str) -> str:
    """``text`` with each line break a space (for a format with one sentence a line)."""
    return _LINE_BREAK.sub(" ", text)


def write_table(
    table: PairTable, out: Path, fmt: str, langs: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    """Write ``table`` to ``out`` in ``fmt``; returns what the sidecar records (files, and for moses the number of
    sentences whose line breaks became spaces). ValueError for a non-finite score (never written)."""
    check_format(fmt)
    out = Path(out)
    if fmt == "tsv":
        lines = ["\t".join(table.columns)] if table.header else []
        lines += ["\t".join(_cell(value) for value in row) for row in table.rows]
        atomic_write_text(out, "".join(line + "\n" for line in lines))
        return {"format": fmt, "files": [str(out)]}
    if fmt == "jsonl":
        text = "".join(
            json.dumps(dict(zip(table.columns, map(_json_value, row))), ensure_ascii=False) + "\n" for row in table.rows
        )
        atomic_write_text(out, text)
        return {"format": fmt, "files": [str(out)]}
    src_at, trg_at, score_at = table.columns.index("src"), table.columns.index("trg"), table.columns.index(table.score)
    src_path, trg_path, score_path = moses_paths(out, langs)
    broken = sum(_LINE_BREAK.search(row[i]) is not None for row in table.rows for i in (src_at, trg_at))
    scores = "".join(_cell(float(row[score_at])) + "\n" for row in table.rows)
    atomic_write_text(score_path, scores)
    atomic_write_text(src_path, "".join(one_line(row[src_at]) + "\n" for row in table.rows))
    atomic_write_text(trg_path, "".join(one_line(row[trg_at]) + "\n" for row in table.rows))
    return {"format": fmt, "files": [str(src_path), str(trg_path), str(score_path)], "line_breaks_replaced": broken}


def read_table(out: Path, fmt: str, langs: tuple[str | None, str | None] = (None, None)) -> list[dict[str, Any]]:
    """The rows a ``write_table`` wrote, as dicts (tsv: strings by the header's names; jsonl: as written; moses:
    ``src``, ``trg`` and ``score``); RxError naming the file and line of a row that is not one rx writes."""
    check_format(fmt)
    out = Path(out)
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(out.read_text(encoding="utf-8").split("\n")[:-1], 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise RxError(f"{out}:{number}: not a JSON object") from None
        return rows
    if fmt == "tsv":
        lines = out.read_text(encoding="utf-8").split("\n")[:-1]
        if not lines:
            raise RxError(f"{out}: empty (no header line)")
        columns = lines[0].split("\t")
        rows = []
        for number, line in enumerate(lines[1:], 2):
            cells = line.split("\t")
            if len(cells) != len(columns):
                raise RxError(f"{out}:{number}: {len(cells)} columns, the header names {len(columns)}")
            rows.append(dict(zip(columns, map(unescape_field, cells))))
        return rows
    paths = moses_paths(out, langs)
    src, trg, scores = (path.read_text(encoding="utf-8").split("\n")[:-1] for path in paths)
    if not len(src) == len(trg) == len(scores):
        raise RxError(f"{paths[0]}: {len(src)} lines, {paths[1]} {len(trg)}, {paths[2]} {len(scores)}: not aligned")
    return [{"src": s, "trg": t, "score": float(v)} for s, t, v in zip(src, trg, scores)]
