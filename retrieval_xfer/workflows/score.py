"""``rx score``: score and filter a parallel corpus someone already aligned, line i of one side translating line i
of the other (the opposite of ``rx mine``, which finds the pairs).

Each side is a text file, an ``rx export`` folder or a ``.npy`` matrix. Every pair gets its cosine and its margin
against both sentences' k nearest neighbours in the other side's corpus (``mining.given_pairs``: the margin rx
mines with, from one k-NN pass each way, exact under ``--max-memory`` and resumable, on Ray, or approximate), and
the rule-based checks (``mining.pair_checks``; language ID of each side with ``--src-lang``/``--trg-lang``). A pair
is dropped, for the first reason that applies and counted by it in the sidecar: an empty side; a side in another
language; a copy (``--drop-copies``); different numbers (``--numbers-agree``); the length ratio
(``--length-ratio``); a repeated pair (``--dedup-pairs``); a margin above ``--max-score``; below ``--threshold``
(a number, or ``auto``: ``mining.score_threshold``); outside the best ``--keep-top`` fraction. The kept pairs are
written in line order in ``--format`` (``--with-dropped``: every pair, with why); ``OUT.json`` says what ran.
Text is read and checked before any model loads; line counts must agree.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.atomic import atomic_write_json
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.text_files import iter_lines
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.memory import Phases
from retrieval_xfer.mining.budget import format_size
from retrieval_xfer.mining.given_pairs import neighbourhood_means, pair_cosines, pair_margins
from retrieval_xfer.mining.neighbours import FoundNeighbours, find_neighbours
from retrieval_xfer.mining.options import (
    SCORE_OBJECTIVE,
    AutoThresholdOptions,
    MiningOptions,
    PairOutput,
    PostFilters,
)
from retrieval_xfer.mining.pair_checks import copy_flags, duplicate_flags, language_flags, length_flags, numbers_flags
from retrieval_xfer.mining.pair_formats import PairTable, write_table
from retrieval_xfer.mining.score_threshold import (
    NULL_PAIRS,
    GivenPairsThreshold,
    estimate_given_threshold,
    null_pairs,
)
from retrieval_xfer.output_lock import hold_output_lock
from retrieval_xfer.outputs import OutputKind
from retrieval_xfer.prepare.language_id import LanguageIdentifier, is_language, load_identifier
from retrieval_xfer.prepare.normalise import line_key
from retrieval_xfer.specs import EncoderSpec
from retrieval_xfer.vectors import ArrayVectors, CenteredVectors, VectorSet, mean_vector
from retrieval_xfer.workflows.mine import check_pair, classify, encoder_for, export_side, file_identity, npy_side
from retrieval_xfer.workflows.pair_output import check_pair_outputs, sidecar_path
from retrieval_xfer.workflows.score_options import ScoreChecks, ScoreSelection

logger = logging.getLogger(__name__)

SCORE_OUTPUT = OutputKind("rx score", ".json", frozenset({"scored_file", "columns", "dropped", "pairs"}))
CHECKPOINT_SUFFIX = ".rx-score"  # OUT.rx-score/: the k-NN checkpoint of a run that has not finished
# Why a pair is dropped, in the order the reasons are tried (the sidecar counts each pair under its first)
DROP_REASONS = (
    "empty",
    "source language",
    "target language",
    "copy",
    "numbers differ",
    "length ratio",
    "duplicate pair",
    "above max score",
    "below threshold",
    "not in the top fraction",
)


@dataclass(frozen=True)
class ScoreJob:
    """One ``rx score`` run besides the encoder of a text side: the two line-aligned sides, the output, the
    margin's ``mining`` options (k, margin, memory, index, centering, Ray), the ``threshold`` (None, a number, or
    ``"auto"``, whose objective and target precision ``auto`` gives; rx score needs no sample), the ``checks`` and
    ``post`` filters that drop pairs, the ``selection``, the output format, and whether an existing output may be
    replaced."""

    src: Path
    trg: Path
    out: Path
    mining: MiningOptions = field(default_factory=MiningOptions)
    threshold: float | str | None = None
    checks: ScoreChecks = field(default_factory=ScoreChecks)
    post: PostFilters = field(default_factory=PostFilters)
    selection: ScoreSelection = field(default_factory=ScoreSelection)
    output: PairOutput = field(default_factory=PairOutput)
    auto: AutoThresholdOptions = field(default_factory=AutoThresholdOptions)
    overwrite: bool = False


@dataclass
class ScoreSummary:
    """What ``score`` wrote: ``kept`` of ``pairs``, the drops by reason, seconds, peak memory, the sidecar."""

    pairs: int
    kept: int
    dropped: dict[str, int]
    seconds: float
    peak_rss: int
    sidecar: Path
    threshold: float | None


@dataclass
class _Side:
    """One side, line by line: each line's id and text (None: a side without sentences), its row in ``vectors``
    (-1: a blank line, never encoded), the vectors (a text side's after encoding), its spec and identity."""

    kind: str
    path: Path
    ids: list[str]
    texts: list[str] | None
    rows: np.ndarray
    vectors: VectorSet | None
    spec: EncoderSpec | None
    identity: dict[str, Any]
    unique: list[str] = field(default_factory=list)  # a text side's distinct sentences, row by row


def _text_side(path: Path) -> _Side:
    lines = [text for _, text in iter_lines(path)]
    if not lines:
        raise RxError(f"{path}: empty file (no lines to score)")
    where: dict[str, int] = {}
    rows = np.full(len(lines), -1, dtype=np.int64)
    for i, text in enumerate(lines):
        if text.strip():
            rows[i] = where.setdefault(text.strip(), len(where))
    ids = [str(i + 1) for i in range(len(lines))]
    return _Side("text", Path(path), ids, lines, rows, None, None, {}, list(where))


def _vector_side(path: Path, kind: str, verify: bool) -> _Side:
    side = export_side(path, verify) if kind == "export" else npy_side(path)
    ids = side.ids if kind == "export" else [str(i + 1) for i in range(len(side.ids))]  # row i is line i + 1
    rows = np.arange(len(ids), dtype=np.int64)
    return _Side(kind, Path(path), ids, side.texts, rows, side.vectors, side.spec, side.identity)


def _line_number(ids: list[str]) -> list[int] | None:
    return [int(i) for i in ids] if all(i.isdigit() for i in ids) else None


def _aligned(src: _Side, trg: _Side) -> tuple[_Side, _Side]:
    """The two sides over the same lines: as they are when their ids agree; else by line number (an export made
    with --skip-blank lacks its blank lines: they count as empty here). RxError naming both counts when the sides
    have different numbers of lines, or ids that are not the same lines."""
    if src.ids == trg.ids:
        return src, trg
    numbers = [_line_number(side.ids) for side in (src, trg)]
    counts = [max(n) if n else len(side.ids) for n, side in zip(numbers, (src, trg))]
    if counts[0] != counts[1]:
        raise RxError(
            f"{trg.path}: {counts[1]} lines, but {src.path} has {counts[0]}: rx score pairs line i of one with line i "
            "of the other"
        )
    if numbers[0] is None or numbers[1] is None:
        raise RxError(f"{trg.path}: its ids are not {src.path}'s (first differing: line {_first_difference(src, trg)})")
    return tuple(_over_lines(side, lines, counts[0]) for side, lines in zip((src, trg), numbers))  # type: ignore[return-value]


def _first_difference(src: _Side, trg: _Side) -> int:
    return next((i + 1 for i, (a, b) in enumerate(zip(src.ids, trg.ids)) if a != b), min(len(src.ids), len(trg.ids)))


def _over_lines(side: _Side, lines: list[int], count: int) -> _Side:
    """``side`` re-indexed over lines 1..count (a line it lacks: blank, no row)."""
    rows = np.full(count, -1, dtype=np.int64)
    texts = [""] * count if side.texts is not None else None
    for position, line in enumerate(lines):
        rows[line - 1] = side.rows[position]
        if texts is not None:
            texts[line - 1] = side.texts[position]  # type: ignore[index]
    ids = [str(i + 1) for i in range(count)]
    return dataclasses.replace(side, ids=ids, texts=texts, rows=rows)


def _check_job(job: ScoreJob, kinds: dict[str, str]) -> None:
    """RxError in one line, before anything is read, for settings that cannot run together."""
    if job.post.one_to_one:
        raise RxError("--one-to-one is for mining; rx score keeps each given pair as it is")
    if job.threshold is not None and not isinstance(job.threshold, (int, float)) and job.threshold != "auto":
        raise RxError(f"--threshold {job.threshold!r}: give a number or auto")
    if job.auto.sample_src is not None or job.auto.sample_trg is not None:
        raise RxError("--sample-src/--sample-trg are rx mine's: rx score's --threshold auto needs no sample")
    fmt = job.output.pairs_format
    if fmt == "moses" and job.selection.with_dropped:
        raise RxError("--with-dropped writes a 'drop' column; --format moses has none: use tsv or jsonl")
    needs = _reading_texts(job)
    if "npy" in kinds.values() and needs:
        npy = job.src if kinds["src"] == "npy" else job.trg
        raise RxError(f"{npy}: a .npy side holds no sentences, and {needs[0]} reads them: score text or exports")


def _reading_texts(job: ScoreJob) -> list[str]:
    """The options of ``job`` that read the sentences (a side without them cannot run them)."""
    return [
        name
        for name, on in (
            ("--format moses", job.output.pairs_format == "moses"),
            ("--src-lang", job.checks.src_lang is not None),
            ("--trg-lang", job.checks.trg_lang is not None),
            ("--drop-copies", job.checks.drop_copies),
            ("--numbers-agree, --length-ratio, --dedup-pairs", job.post.needs_texts()),
        )
        if on
    ]


def score(job: ScoreJob, options: EncoderOptions | None = None, quiet: bool = False) -> ScoreSummary:
    """Run ``job`` (see the module): write the kept pairs to ``job.out`` in ``job.output.pairs_format`` and
    ``OUT.json``. RxError, before any model loads, for inputs or outputs that cannot be used."""
    out = Path(job.out)
    kinds = {"src": classify(Path(job.src)), "trg": classify(Path(job.trg))}
    _check_job(job, kinds)
    langs = (job.checks.src_lang, job.checks.trg_lang)
    resuming = out.with_name(out.name + CHECKPOINT_SUFFIX).is_dir()
    check_pair_outputs(out, job.output.pairs_format, langs, SCORE_OUTPUT, [job.src, job.trg], job.overwrite, resuming)
    with hold_output_lock(out):
        return _score_locked(job, kinds, options, quiet)


def _read_sides(job: ScoreJob, kinds: dict[str, str]) -> tuple[_Side, _Side]:
    """Both sides, line by line, over the same lines; RxError for an export whose sentences are gone when an
    option reads them."""
    sides = [
        _text_side(path) if kinds[name] == "text" else _vector_side(path, kinds[name], job.mining.verify)
        for name, path in (("src", Path(job.src)), ("trg", Path(job.trg)))
    ]
    needs = _reading_texts(job)
    for side in sides:
        if side.texts is None and needs:
            raise RxError(
                f"{side.path}: an export whose input file is no longer where it was, so it holds no sentences, and "
                f"{needs[0]} reads them: put the input back or score the text"
            )
    return _aligned(sides[0], sides[1])


def _encode(sides: tuple[_Side, _Side], options: EncoderOptions | None, quiet: bool) -> None:
    """Encode the text sides' distinct sentences (with an export's settings where the other side is one)."""
    texts = [side for side in sides if side.kind == "text"]
    if not texts:
        return
    reference = next((s.spec for s in sides if s.spec is not None), None)
    encoder = encoder_for(options, reference).load(corpus=[t for side in texts for t in side.unique])
    for name, side in zip(("src", "trg"), sides):
        if side.kind != "text":
            continue
        if not side.unique:
            raise RxError(f"{side.path}: every line is blank; nothing to score")
        vectors = encoder.encode(side.unique, desc=None if quiet else f"encoding {name} ({len(side.unique)} unique)")
        side.vectors = ArrayVectors(vectors, f"{side.path} (encoder output)")
        side.spec = encoder.spec
        side.identity = {"kind": "text", **file_identity(side.path), "encoder": encoder.spec.to_dict()}


def _identifiers(job: ScoreJob) -> dict[str, tuple[LanguageIdentifier, str]]:
    """The language identifier and the code it names the wanted language by, per side given one (``source
    language``, ``target language``); loaded before any model, so a missing extra or an unknown language fails
    first."""
    if job.checks.lid == "none":
        return {}
    wanted = (("source language", job.checks.src_lang), ("target language", job.checks.trg_lang))
    return {reason: load_identifier(job.checks.lid, lang) for reason, lang in wanted if lang is not None}


def _identifier_flags(
    identifiers: dict[str, tuple[LanguageIdentifier, str]], sides: tuple[_Side, _Side]
) -> dict[str, np.ndarray]:
    """Language-ID flags of each side given a language, each distinct text identified once."""
    flags = {}
    for reason, side in (("source language", sides[0]), ("target language", sides[1])):
        if reason not in identifiers:
            continue
        identifier, code = identifiers[reason]
        texts = side.texts or []
        distinct = list(dict.fromkeys(texts))
        found = dict(zip(distinct, identifier.identify(distinct)))
        flags[reason] = language_flags(
            texts, [found[text] for text in texts], lambda lang, code=code: is_language(lang, code)
        )
    return flags


def _check_flags(
    job: ScoreJob,
    identifiers: dict[str, tuple[LanguageIdentifier, str]],
    sides: tuple[_Side, _Side],
    empty: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every rule-based check's flags per pair (a pair with an empty side is flagged ``empty`` alone)."""
    src, trg = sides[0].texts, sides[1].texts
    if src is None or trg is None:
        return {"empty": empty}
    flags = {"empty": empty, **_identifier_flags(identifiers, sides)}
    keys: dict[str, str] = {}  # each distinct text's key, computed once
    src_keys, trg_keys = _line_keys(src, keys), _line_keys(trg, keys)
    flags["copy"] = copy_flags(src_keys, trg_keys)
    flags["numbers differ"] = numbers_flags(src, trg)
    bounds = job.post.ratio_bounds()
    if bounds is not None:
        flags["length ratio"] = length_flags(src, trg, bounds)
    flags["duplicate pair"] = duplicate_flags(src_keys, trg_keys)
    return {reason: np.where(empty, reason == "empty", flag) for reason, flag in flags.items()}


def _line_keys(texts: list[str], keys: dict[str, str]) -> list[str]:
    """Each text's normalised form (``line_key``), each distinct text normalised once (``keys`` caches them)."""
    for text in texts:
        if text not in keys:
            keys[text] = line_key(text)
    return [keys[text] for text in texts]


def _dropping(job: ScoreJob) -> set[str]:
    """The check flags that drop a pair under ``job``'s settings (the others are columns only)."""
    on = {"empty", "source language", "target language"}
    on |= {"copy"} if job.checks.drop_copies else set()
    on |= {"numbers differ"} if job.post.numbers_agree else set()
    on |= {"length ratio"} if job.post.length_ratio is not None else set()
    on |= {"duplicate pair"} if job.post.dedup_pairs else set()
    return on


@dataclass
class _Scored:
    """Every pair's cosine and margin (NaN for a pair with an empty side, never written as such), the vectors they
    were computed on (centered with ``--center language``), each scored pair's rows, and the k-NN."""

    cosines: np.ndarray
    margins: np.ndarray
    x: VectorSet
    y: VectorSet
    scored: np.ndarray
    src_rows: np.ndarray
    trg_rows: np.ndarray
    found: FoundNeighbours


def _score_pairs(job: ScoreJob, settings: MiningOptions, src: _Side, trg: _Side, quiet: bool) -> _Scored:
    """One k-NN pass each way (k + 1 with ``--threshold auto``: its null leaves out the nearest), then each
    scored pair's cosine and margin."""
    x, y = src.vectors, trg.vectors
    assert x is not None and y is not None and settings.k is not None  # encoded and resolved by now
    if x.dimension != y.dimension:
        raise RxError(f"{trg.path}: dimension {y.dimension} differs from {src.path}'s {x.dimension}")
    scored = np.flatnonzero((src.rows >= 0) & (trg.rows >= 0))
    if not len(scored):
        raise RxError(f"{src.path}: no line has text on both sides; nothing to score")
    out = Path(job.out)
    found = find_neighbours(
        x,
        y,
        dataclasses.replace(settings, k=settings.k + 1) if job.threshold == "auto" else settings,
        checkpoint_folder=out.with_name(out.name + CHECKPOINT_SUFFIX),
        identity={"src": src.identity, "trg": trg.identity},
        desc=None if quiet else f"{settings.k}-NN",
    )
    if settings.center == "language":
        x, y = CenteredVectors(x, mean_vector(x)), CenteredVectors(y, mean_vector(y))
    src_rows, trg_rows = src.rows[scored], trg.rows[scored]
    cosines, margins = np.full(len(src.rows), np.nan), np.full(len(src.rows), np.nan)
    cosines[scored] = pair_cosines(x, y, src_rows, trg_rows)
    means = neighbourhood_means(found.neighbours, settings.k)
    margins[scored] = pair_margins(cosines[scored], src_rows, trg_rows, means, str(settings.margin))
    return _Scored(cosines, margins, x, y, scored, src_rows, trg_rows, found)


def _auto_threshold(job: ScoreJob, settings: MiningOptions, pairs: _Scored, drop: np.ndarray) -> GivenPairsThreshold:
    """``--threshold auto`` over the pairs the checks kept, against random pairings of the scored pairs."""
    first, second = null_pairs(len(pairs.scored), NULL_PAIRS)
    src_rows, trg_rows = pairs.src_rows[first], pairs.trg_rows[second]
    null_cosines = pair_cosines(pairs.x, pairs.y, src_rows, trg_rows)
    apart = neighbourhood_means(pairs.found.neighbours, int(settings.k or 1), skip_nearest=True)
    null = pair_margins(null_cosines, src_rows, trg_rows, apart, str(settings.margin))
    estimate = estimate_given_threshold(
        pairs.margins[drop == ""], null, job.auto.objective or SCORE_OBJECTIVE, job.auto.target_precision
    )
    logger.info(
        f"--threshold auto: {estimate.threshold:.4f} (expected precision {estimate.expected_precision:.3f}, recall "
        f"{estimate.expected_recall:.3f}; noise share estimated {estimate.noise_share:.3f} of {estimate.pairs} pairs)"
    )
    return estimate


def _score_locked(job: ScoreJob, kinds: dict[str, str], options: EncoderOptions | None, quiet: bool) -> ScoreSummary:
    """The job as named phases, each timed with its peak memory; then the sidecar."""
    started, phases = time.perf_counter(), Phases()
    settings = job.mining.resolved(load_card("bucc2018").mining)
    with phases("read and encode"):
        sides = _read_sides(job, kinds)
        identifiers = _identifiers(job)
        _encode(sides, options, quiet)
    compatibility = check_pair(*sides)  # type: ignore[arg-type]  # a _Side has what it reads of a MiningSide
    with phases("k-NN and pair scores"):
        pairs = _score_pairs(job, settings, sides[0], sides[1], quiet)
    with phases("checks"):
        flags = _check_flags(job, identifiers, sides, ~np.isfinite(pairs.margins))
        drop, counts = _drops(job, flags, pairs.margins)
    with phases("selection"):
        estimate = _auto_threshold(job, settings, pairs, drop) if job.threshold == "auto" else None
        threshold = estimate.threshold if estimate is not None else job.threshold
        _select(job, drop, counts, pairs.margins, threshold)
    with phases("write"):
        written = _write(job, sides, drop, flags, pairs.margins, pairs.cosines)
    kept = int((drop == "").sum())
    record = {
        "compatibility": compatibility,
        "pairs": len(drop),
        "kept": kept,
        "dropped": counts,
        "flagged": {reason: int(flag.sum()) for reason, flag in flags.items()},
        "threshold": threshold,
        "threshold_auto": estimate.to_dict() if estimate is not None else None,
        "knn": pairs.found.knn,
        "resumed": pairs.found.resumed,
        "phases": phases.record,
        "total_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_bytes": phases.peak(),
        **written,
    }
    sidecar = _write_sidecar(job, settings, sides, record)
    if pairs.found.checkpoint is not None:
        shutil.rmtree(pairs.found.checkpoint.folder, ignore_errors=True)
    seconds = time.perf_counter() - started
    return ScoreSummary(len(drop), kept, counts, seconds, phases.peak(), sidecar, threshold)  # type: ignore[arg-type]


def _drops(job: ScoreJob, flags: dict[str, np.ndarray], margins: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Each pair's drop reason ("" kept so far) after the checks that drop and ``--max-score``, and the counts."""
    drop = np.full(len(margins), "", dtype=object)
    counts = {}
    dropping = _dropping(job)
    for reason in DROP_REASONS:
        if reason in flags and reason in dropping:
            newly = (drop == "") & flags[reason]
        elif reason == "above max score" and job.post.max_score is not None:
            newly = (drop == "") & (np.nan_to_num(margins, nan=-np.inf) > job.post.max_score)
        else:
            continue
        drop[newly] = reason
        counts[reason] = int(newly.sum())
    return drop, counts


def _select(
    job: ScoreJob, drop: np.ndarray, counts: dict[str, int], margins: np.ndarray, threshold: float | str | None
) -> None:
    """``--threshold`` and ``--keep-top`` on the pairs still kept (in place)."""
    if threshold is not None:
        newly = (drop == "") & (margins < float(threshold))
        drop[newly] = "below threshold"
        counts["below threshold"] = int(newly.sum())
    if job.selection.keep_top is not None:
        alive = np.flatnonzero(drop == "")
        keep = int(np.ceil(job.selection.keep_top * len(alive)))
        order = alive[np.argsort(-margins[alive], kind="stable")]
        drop[order[keep:]] = "not in the top fraction"
        counts["not in the top fraction"] = len(alive) - keep


def _write(
    job: ScoreJob,
    sides: tuple[_Side, _Side],
    drop: np.ndarray,
    flags: dict[str, np.ndarray],
    margins: np.ndarray,
    cosines: np.ndarray,
) -> dict[str, Any]:
    """The kept pairs (every pair with ``--with-dropped``) in line order, in the job's format."""
    src, trg = sides
    with_text = src.texts is not None and trg.texts is not None
    columns = ["line", "score", "cosine", "flags"]
    columns += ["drop"] if job.selection.with_dropped else []
    columns += ["src", "trg"] if with_text else []
    reasons = list(flags)
    rows = []
    for i in np.flatnonzero((drop == "") | job.selection.with_dropped):
        row: list[Any] = [
            src.ids[i],
            None if np.isnan(margins[i]) else float(margins[i]),
            None if np.isnan(cosines[i]) else float(cosines[i]),
            [reason for reason in reasons if flags[reason][i]],
        ]
        row += [drop[i]] if job.selection.with_dropped else []
        row += [src.texts[i], trg.texts[i]] if with_text else []  # type: ignore[index]
        rows.append(row)
    table = PairTable(tuple(columns), rows, score="score", header=True)
    try:
        return write_table(table, Path(job.out), job.output.pairs_format, (job.checks.src_lang, job.checks.trg_lang))
    except ValueError as err:
        raise RxError(f"{job.out}: {err}; nothing written (please report this as a bug)") from None


def _write_sidecar(job: ScoreJob, settings: MiningOptions, sides: tuple[_Side, _Side], record: dict[str, Any]) -> Path:
    sidecar = sidecar_path(Path(job.out), SCORE_OUTPUT)
    src, trg = sides
    atomic_write_json(
        sidecar,
        {
            "scored_file": str(job.out),
            "columns": ["line", "score", "cosine", "flags"]
            + (["drop"] if job.selection.with_dropped else [])
            + (["src", "trg"] if src.texts is not None and trg.texts is not None else []),
            "src": {**src.identity, "lines": len(src.ids)},
            "trg": {**trg.identity, "lines": len(trg.ids)},
            "mining": {name: getattr(settings, name) for name in ("k", "margin", "max_memory", "center")},
            "checks": dataclasses.asdict(job.checks),
            "post_filters": {k: v for k, v in dataclasses.asdict(job.post).items() if k != "one_to_one"},
            "selection": dataclasses.asdict(job.selection),
            "score": "the margin of each given pair against both sentences' k nearest neighbours (rx mine's), "
            "cosine beside it; flags: every check the pair fails, dropping or not",
            **record,
        },
    )
    return sidecar


def format_summary(summary: ScoreSummary, out: Path) -> str:
    """The final line of ``rx score``."""
    dropped = ", ".join(f"{reason} {count}" for reason, count in summary.dropped.items() if count)
    return (
        f"kept {summary.kept} of {summary.pairs} pairs"
        + (f" (dropped: {dropped})" if dropped else "")
        + f" in {summary.seconds:.1f}s, peak memory {format_size(summary.peak_rss)} -> {out} "
        f"(details: {summary.sidecar})"
    )
