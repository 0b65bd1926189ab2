"""``rx prepare``: raw monolingual text in, the lines worth mining out, with a map back and a report.

One streaming pass splits each line into sentences (``--split-sentences``; by default a line is one sentence),
then normalises, filters and identifies the language of each sentence, writing the survivors to a
temporary file and their hashes to ``DuplicateFinder``'s buckets; the duplicates are then found bucket by
bucket, and a last pass writes the kept lines. Memory does not grow with the input (two bits per line aside).
The output folder appears complete or not at all."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_directory
from retrieval_xfer.errors import RxError
from retrieval_xfer.output_lock import hold_output_lock
from retrieval_xfer.outputs import OutputKind, check_not_an_input, check_replaceable_folder
from retrieval_xfer.prepare.dedup import DuplicateFinder, is_set
from retrieval_xfer.prepare.language_id import LanguageIdentifier, is_language, load_identifier
from retrieval_xfer.prepare.languages import check_language
from retrieval_xfer.prepare.normalise import duplicate_key, normalise_text
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.prepare.sentences import SentenceSplitter, load_splitter

logger = logging.getLogger(__name__)

LINES_FILE = "lines.txt"
LINE_NUMBERS_FILE = "line_numbers.txt"
REPORT_FILE = "report.json"
# What rx prepare writes, recognised by its report's keys; --overwrite replaces nothing else.
PREPARE_OUTPUT = OutputKind(
    "rx prepare",
    REPORT_FILE,
    frozenset({"input", "input_lines", "kept", "dropped", "options"}),
    frozenset({LINES_FILE, LINE_NUMBERS_FILE, REPORT_FILE}),
)
EXAMPLES = 3
MAX_LID_SHARE = 0.5  # language identification dropping more than this share of the lines is said out loud
_LID_BATCH = 2048


@dataclass
class _Drops:
    """Counts and a few examples per reason a line was dropped."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[list[Any]]] = field(default_factory=dict)

    def add(self, reason: str, line_number: int, text: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append([line_number, text[:200]])


def _decoded_lines(path: Path, errors: str) -> Iterator[tuple[int, str, int, bool]]:
    """``(line number from 1, text without its line end, bytes read, whether bad bytes were replaced)`` of each
    line of ``path``."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            body = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as err:
                if errors != "replace":
                    raise RxError(
                        f"{path}: line {number} is not UTF-8 (byte {err.start + 1}); --errors replace to go on"
                    ) from None
                yield number, body.decode("utf-8", errors="replace"), len(raw), True
                continue
            yield number, text, len(raw), False


def prepare_file(
    input_path: Path, out: Path, options: PrepareOptions, overwrite: bool = False, quiet: bool = False
) -> dict[str, Any]:
    """Clean ``input_path`` into ``out`` (``lines.txt``, ``line_numbers.txt``, ``report.json``); returns the
    report. RxError (nothing written) for a missing or non-UTF-8 input, an unknown language, an ``out`` that may
    not be replaced (``outputs``: only with ``overwrite``, only an rx prepare folder holding nothing else), an
    ``out`` that holds the input, or when no line is left."""
    input_path, out = Path(input_path), Path(out)
    if not input_path.is_file():
        raise RxError(f"{input_path}: no such file")
    check_not_an_input([out], [input_path])
    check_replaceable_folder(out, PREPARE_OUTPUT, overwrite)
    check_language(options.lang)
    identifier, wanted = load_identifier(options.lid, options.lang) if options.lid != "none" else (None, options.lang)
    splitter = load_splitter(options.split_sentences, options.lang) if options.split_sentences != "none" else None
    with hold_output_lock(out), atomic_directory(out, overwrite=True, locked=True) as tmp:
        report = _prepare(input_path, tmp, options, identifier, wanted, splitter, quiet)
    logger.info(f"kept {report['kept']:,} of {_units(report)} -> {out}")
    return report


def _prepare(
    path: Path,
    folder: Path,
    options: PrepareOptions,
    identifier: LanguageIdentifier | None,
    wanted: str,
    splitter: SentenceSplitter | None,
    quiet: bool,
) -> dict[str, Any]:
    from tqdm.auto import tqdm

    drops = _Drops()
    identified_as: Counter[str] = Counter()  # what the identifier said of the lines it dropped
    seconds = {"split": 0.0, "normalise_filter_hash": 0.0, "language_id": 0.0, "deduplicate": 0.0, "write": 0.0}
    finder = DuplicateFinder(folder / "buckets")
    candidates = folder / "candidates.tmp"
    replaced = 0
    total = 0
    sentences = 0
    batch: list[tuple[int, str, str]] = []

    def flush(out) -> None:
        tic = time.perf_counter()
        found = identifier.identify([text for _, text, _ in batch]) if identifier else [wanted] * len(batch)
        seconds["language_id"] += time.perf_counter() - tic
        tic = time.perf_counter()
        for (number, text, original), lang in zip(batch, found):
            if not is_language(lang, wanted):
                drops.add("wrong language" if lang else "language not identified", number, original)
                identified_as[lang or "none"] += 1
                continue
            out.write(f"{number}\t{text}\n")
            finder.add(duplicate_key(text), original)
        batch.clear()
        seconds["normalise_filter_hash"] += time.perf_counter() - tic

    bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"prepare {path.name}", disable=quiet)
    with open(candidates, "w", encoding="utf-8", newline="\n") as out, bar:
        tic = time.perf_counter()
        for number, original, size, bad_bytes in _decoded_lines(path, options.errors):
            total = number
            bar.update(size)
            replaced += bad_bytes
            if splitter is not None:
                seconds["normalise_filter_hash"] += time.perf_counter() - tic
                tic = time.perf_counter()
                pieces = splitter.split(original) or [original]  # an empty line stays one, for the filters to count
                seconds["split"] += time.perf_counter() - tic
                tic = time.perf_counter()
            else:
                pieces = [original]
            for piece in pieces:
                sentences += 1
                text = normalise_text(piece)
                reason = options.line_filter.reason(text)
                if reason is not None:
                    drops.add(reason, number, piece)
                    continue
                batch.append((number, text, piece))
            if len(batch) >= _LID_BATCH:
                seconds["normalise_filter_hash"] += time.perf_counter() - tic
                flush(out)
                tic = time.perf_counter()
        seconds["normalise_filter_hash"] += time.perf_counter() - tic
        flush(out)

    tic = time.perf_counter()
    exact, near = finder.find()
    seconds["deduplicate"] = time.perf_counter() - tic

    tic = time.perf_counter()
    kept = 0
    with (
        open(candidates, encoding="utf-8", newline="\n") as read,
        open(folder / LINES_FILE, "w", encoding="utf-8", newline="\n") as lines,
        open(folder / LINE_NUMBERS_FILE, "w", encoding="utf-8", newline="\n") as numbers,
    ):
        for index, row in enumerate(read):
            number, text = row.rstrip("\n").split("\t", 1)
            if is_set(exact, index):
                drops.add("exact duplicate", int(number), text)
            elif is_set(near, index):
                drops.add("near duplicate", int(number), text)
            else:
                lines.write(text + "\n")
                numbers.write(number + "\n")
                kept += 1
    candidates.unlink()
    (folder / "buckets").rmdir()
    seconds["write"] = time.perf_counter() - tic
    if kept == 0:
        raise RxError(f"{path}: no line is left after filtering ({_summary(drops.counts)}); nothing written")
    report = {
        "input": str(path.resolve()),
        "input_lines": total,
        "sentences": sentences,
        "kept": kept,
        "dropped": {
            reason: drops.counts[reason] for reason in sorted(drops.counts, key=drops.counts.get, reverse=True)
        },
        "examples": drops.examples,
        "wrong_language_as": dict(identified_as.most_common(5)),
        "undecodable_lines_replaced": replaced,
        "identified_as": wanted if identifier is not None else None,  # the code the identifier knows --lang by
        "options": {**asdict(options)},
        "seconds": {phase: round(value, 3) for phase, value in seconds.items()},
    }
    (folder / REPORT_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lid_drops = sum(identified_as.values())
    if lid_drops > MAX_LID_SHARE * sentences:
        found = ", ".join(f"{code} {n:,}" for code, n in identified_as.most_common(3))
        logger.warning(
            f"{path}: language identification dropped {lid_drops:,} of {sentences:,} lines as not {wanted} (as {found})"
            f"; if the file is {wanted}, {options.lid} confuses it with those: --lid none keeps every line"
        )
    return report


def _units(report: dict[str, Any]) -> str:
    """What ``kept`` counts against: the input's lines, or the sentences they were split into."""
    if report["options"]["split_sentences"] == "none":
        return f"{report['input_lines']:,} lines"
    return f"{report['sentences']:,} sentences (from {report['input_lines']:,} lines)"


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason}: {n:,}" for reason, n in counts.items()) or "the file is empty"


def format_report(report: dict[str, Any]) -> str:
    """The report as the command prints it: kept, then each reason with its count and first example."""
    lines = [f"kept {report['kept']:,} of {_units(report)}"]
    for reason, n in report["dropped"].items():
        example = report["examples"].get(reason, [[None, ""]])[0]
        lines.append(f"  {reason:<24} {n:>10,}   e.g. line {example[0]}: {example[1][:60]!r}")
    rates = report["seconds"]
    lines.append("seconds: " + ", ".join(f"{phase} {value:.1f}" for phase, value in rates.items()))
    return "\n".join(lines)
