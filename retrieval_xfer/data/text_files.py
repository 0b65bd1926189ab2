"""Streaming readers for sentence files: one sentence per line, or ``id<TAB>sentence`` (BUCC layout).

Policy for blank lines (empty or whitespace only): an error by default, naming file and line, because an
empty sentence has no meaningful embedding and silently keeping it shifts nothing but pollutes retrieval.
``blank="skip"`` drops them; ids stay the original line numbers, so results still point into the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from retrieval_xfer.errors import RxError

BlankPolicy = Literal["error", "skip"]
CorpusFormat = Literal["lines", "tsv"]


def _open(path: Path):
    path = Path(path)
    if not path.exists():
        raise RxError(f"{path}: no such file")
    if path.is_dir():
        raise RxError(f"{path}: is a directory, expected a text file")
    return path.open("rb")


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every line of a UTF-8 file, 1-based, without the line ending.

    Reads as a stream. A UTF-8 byte-order mark on the first line is dropped; CRLF endings are accepted.
    Raises RxError naming the file, line and byte offset of the first undecodable byte.
    """
    with _open(path) as f:
        for number, raw in enumerate(f, start=1):
            raw = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise RxError(
                    f"{path}:{number}: not valid UTF-8 (byte 0x{raw[err.start]:02x} at column {err.start + 1}); "
                    "convert the file to UTF-8, e.g. with iconv"
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text


def iter_corpus(path: Path, fmt: CorpusFormat = "lines", blank: BlankPolicy = "error") -> Iterator[tuple[str, str]]:
    """Yield ``(id, sentence)`` pairs from a corpus file, as a stream.

    ``fmt="lines"``: one sentence per line, the id is the 1-based line number.
    ``fmt="tsv"``: ``id<TAB>sentence`` per line (BUCC's ``.en``/``.zh`` files); ids must be unique.
    Raises RxError on blank lines (unless ``blank="skip"``), a missing tab, a duplicate id, an id with a comma, or
    an empty corpus.
    """
    seen_ids: set[str] = set()
    count = 0
    for number, line in iter_lines(path):
        if fmt == "tsv" and line.strip():
            if "\t" not in line:
                raise RxError(f"{path}:{number}: expected 'id<TAB>sentence', found no tab")
            sid, text = line.split("\t", 1)
            if not sid:
                raise RxError(f"{path}:{number}: empty id before the tab")
            if sid in seen_ids:
                raise RxError(f"{path}:{number}: duplicate id {sid!r}")
            if "," in sid:
                raise RxError(
                    f"{path}:{number}: id {sid!r} contains a comma (rx mine joins the ids of a repeated "
                    "sentence with commas, so ids may not hold one)"
                )
            seen_ids.add(sid)
        else:
            sid, text = str(number), line
        if not text.strip():
            if blank == "skip":
                continue
            raise RxError(f"{path}:{number}: blank line (pass --skip-blank to drop blank lines; ids stay line numbers)")
        count += 1
        yield sid, text
    if count == 0:
        raise RxError(f"{path}: empty corpus (no sentences)")


def read_corpus(path: Path, fmt: CorpusFormat = "lines", blank: BlankPolicy = "error") -> tuple[list[str], list[str]]:
    """Read a whole corpus into ``(ids, sentences)``; see ``iter_corpus`` for formats and errors."""
    ids: list[str] = []
    sentences: list[str] = []
    for sid, text in iter_corpus(path, fmt, blank):
        ids.append(sid)
        sentences.append(text)
    return ids, sentences


def read_parallel(src: Path, trg: Path) -> tuple[list[str], list[str]]:
    """Read two line-aligned files (line i of one translates line i of the other).

    Raises RxError when the line counts differ (naming both files and counts), on blank lines, on bad UTF-8,
    or when the files are empty.
    """
    src_lines, trg_lines = _parallel_side(src, trg), _parallel_side(trg, src)
    if len(src_lines) != len(trg_lines):
        raise RxError(
            f"{src}: {len(src_lines)} lines but {trg} has {len(trg_lines)}; parallel files must be line-aligned"
        )
    return src_lines, trg_lines


def _parallel_side(path: Path, other: Path) -> list[str]:
    """The lines of one side of a line-aligned pair of files; a blank line is an error that says how to mend it
    (skipping it would pair every later line with the wrong translation)."""
    lines = []
    for number, line in iter_lines(path):
        if not line.strip():
            raise RxError(
                f"{path}:{number}: blank line; line i pairs with line i of {other}, so delete line {number} from "
                "both files (or fill it in)"
            )
        lines.append(line)
    if not lines:
        raise RxError(f"{path}: empty corpus (no sentences)")
    return lines


def read_gold_pairs(path: Path) -> set[tuple[str, str]]:
    """Read a BUCC gold file (``src_id<TAB>trg_id`` per line) into a set of id pairs."""
    gold: set[tuple[str, str]] = set()
    for number, line in iter_lines(path):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(parts):
            raise RxError(f"{path}:{number}: expected 'src_id<TAB>trg_id'")
        gold.add((parts[0], parts[1]))
    if not gold:
        raise RxError(f"{path}: empty gold file")
    return gold
