"""Row readers for JSON-lines and delimited (CSV/TSV) files: each yields ``(line_number, row dict)``."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval_xfer.data.text_files import iter_lines
from retrieval_xfer.errors import RxError


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """One JSON object per line (blank lines ignored); RxError naming the line of malformed JSON."""
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise RxError(f"{path}:{number}: malformed JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise RxError(f"{path}:{number}: expected a JSON object per line")
        yield number, row


def iter_delimited(
    path: Path, delimiter: str, columns: list[str] | None = None, quoting: bool = True
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file as dicts keyed by the header (or by ``columns`` when the file has no header).

    ``quoting``: honour CSV double quotes (PAWS-X and CosmosQA need it; GLUE's TSVs must not, they contain
    stray quotes). A row with the wrong number of fields is an RxError naming its line.
    """
    lines = (text for _, text in iter_lines(path))
    reader = csv.reader(lines, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
    try:
        names = columns or next(reader)
    except StopIteration:
        raise RxError(f"{path}: empty file") from None
    for row in reader:
        number = reader.line_num
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise RxError(f"{path}:{number}: {len(row)} fields, expected {len(names)} ({', '.join(names)})")
        yield number, dict(zip(names, row))
