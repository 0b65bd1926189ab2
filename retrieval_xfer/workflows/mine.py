"""Bitext mining (``rx mine``): two sides, each a text corpus, an ``rx export`` folder or a ``.npy`` matrix;
k-NN in both directions (exact and blockwise under a memory budget, or through a FAISS index), margins,
candidates, and a pairs file written atomically with a JSON sidecar saying what ran.

Text sides are read and checked before any model loads; each distinct sentence is encoded once (its ids are all
the lines it occurs on). Export sides are never re-encoded: they must come from an encoder compatible with the
other side's (same weights, layer, pooling, dimension). ``.npy`` sides cannot be checked, and the sidecar says so.
The exact k-NN is checkpointed block by block next to the output, so the same command after a kill resumes and
writes a byte-identical file; a changed input or setting is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_json
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, read_corpus
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.reader import is_export, open_export
from retrieval_xfer.memory import Phases
from retrieval_xfer.mining.auto_threshold import ThresholdEstimate, check_sample_size, estimate_threshold
from retrieval_xfer.mining.budget import format_size, parse_size
from retrieval_xfer.mining.candidates import Candidates, candidates_from_neighbours, top_k_candidates
from retrieval_xfer.mining.margin import RATIO_FLOOR
from retrieval_xfer.mining.neighbours import FoundNeighbours, find_neighbours
from retrieval_xfer.mining.options import AutoThresholdOptions, MiningOptions, PairOutput, PostFilters
from retrieval_xfer.mining.pair_formats import PairTable, write_table
from retrieval_xfer.mining.post_filters import apply_post_filters
from retrieval_xfer.mining.sentences import unique_texts
from retrieval_xfer.output_lock import hold_output_lock
from retrieval_xfer.outputs import OutputKind
from retrieval_xfer.prepare.normalise import line_key
from retrieval_xfer.specs import EncoderSpec, check_compatible
from retrieval_xfer.vectors import ArrayVectors, NpyVectors, VectorSet
from retrieval_xfer.workflows.pair_output import check_pair_outputs

logger = logging.getLogger(__name__)


@dataclass
class MiningSide:
    """One side of a mining job once its vectors exist: row i has ``ids[i]`` (one or more ids, comma-joined) and,
    when known, ``texts[i]``. ``spec`` is None for a ``.npy`` matrix (nothing to check it against)."""

    kind: str
    path: Path
    vectors: VectorSet
    ids: list[str]
    texts: list[str] | None
    spec: EncoderSpec | None
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass
class MiningSummary:
    """What ``mine`` wrote: ``written`` pairs of ``candidates``, the total ``seconds``, the peak memory of the
    job's phases, the sidecar path, and whether the k-NN resumed from a checkpoint."""

    written: int
    candidates: int
    seconds: float
    peak_rss: int
    sidecar: Path
    resumed: bool
    options: MiningOptions


def file_identity(path: Path) -> dict[str, Any]:
    """A file's absolute path, size and SHA-256 (what a sidecar records of a text input)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path.resolve()), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


@dataclass
class _TextSide:
    path: Path
    texts: list[str]
    ids: list[str]


def _read_text_side(path: Path, fmt: CorpusFormat, blank: BlankPolicy) -> _TextSide:
    ids, sentences = read_corpus(path, fmt, blank)
    by_text: dict[str, list[str]] = {}
    for sid, text in zip(ids, sentences):
        by_text.setdefault(text.strip(), []).append(sid)
    texts = unique_texts(sentences)
    return _TextSide(Path(path), texts, [",".join(by_text[t]) for t in texts])


def export_side(path: Path, verify: bool) -> MiningSide:
    """An ``rx export`` folder as a side: its vectors, ids, encoder spec, and its sentences when its input file is
    still there (checksums verified with ``verify``)."""
    corpus = open_export(path, verify)
    source = corpus.input_file()
    texts = None
    if source is not None:
        _, sentences = read_corpus(
            source, corpus.manifest.get("format", "lines"), corpus.manifest.get("blank", "error")
        )
        texts = sentences if len(sentences) == len(corpus.ids) else None
    identity = {
        "kind": "export",
        "path": str(Path(path).resolve()),
        "count": len(corpus.ids),
        "input_sha256": corpus.manifest["input"]["sha256"],
        "encoder": corpus.spec.to_dict(),
    }
    return MiningSide("export", Path(path), corpus.vectors, corpus.ids, texts, corpus.spec, identity)


def npy_side(path: Path) -> MiningSide:
    """A ``.npy`` matrix as a side: row i has id ``i``; no sentences, no spec."""
    vectors = NpyVectors(path)
    stat = Path(path).stat()
    identity = {"kind": "npy", "path": str(Path(path).resolve()), "bytes": stat.st_size, "mtime": stat.st_mtime_ns}
    return MiningSide("npy", Path(path), vectors, [str(i) for i in range(len(vectors))], None, None, identity)


def classify(path: Path) -> str:
    """``export`` (a folder with manifest.json), ``npy`` (a ``.npy`` file) or ``text`` (anything else)."""
    path = Path(path)
    if is_export(path):
        return "export"
    if path.is_dir():
        raise RxError(f"{path}: a folder that is not an rx export (no manifest.json)")
    return "npy" if path.suffix == ".npy" else "text"


def encoder_for(options: EncoderOptions | None, reference: EncoderSpec | None) -> EncoderOptions:
    """The encoder of a text side: the user's options, with layer, pooling and prompt defaulting to those of an
    export on the other side (so the two are comparable without repeating them)."""
    if options is None:
        raise RxError("a text corpus needs --model to encode it (or give rx export folders / .npy files)")
    if reference is None:
        return options
    own = reference.pooling.startswith("own:")
    return dataclasses.replace(
        options,
        layer=options.layer if options.layer is not None else (None if own else reference.layer),
        pool_skip_special=options.pool_skip_special or reference.pooling == "mean-no-special",
        prompt=options.prompt or (reference.prompt if options.prompt_name is None else ""),
    ).quantized_like(reference)


def check_pair(src: MiningSide, trg: MiningSide) -> str:
    """What the sidecar says of the two sides' compatibility; RxError when their encoders differ."""
    if src.spec is None or trg.spec is None:
        return "not checked: a .npy side carries no encoder spec"
    check_compatible(src.spec, trg.spec, str(trg.path), stored=f"{src.kind} {src.path}", given=f"{trg.kind}")
    return "checked: same weights, layer, pooling and dimension"


CHECKPOINT_SUFFIX = ".rx-mine"  # OUT.rx-mine/: the k-NN checkpoint of a run that has not finished


def _write_pairs(job: MineJob, src: MiningSide, trg: MiningSide, candidates: Candidates) -> dict[str, Any]:
    """The candidates in ``job``'s format (``mining.pair_formats``); what the sidecar records of the files."""
    with_text = src.texts is not None and trg.texts is not None
    fmt = job.output.pairs_format
    if fmt == "moses" and not with_text:
        lacking = src.path if src.texts is None else trg.path
        raise RxError(f"{lacking}: holds no sentences, and --format moses writes them: mine text or rx exports")
    columns = ("score", "src_id", "trg_id", *(("src", "trg") if with_text else ()))
    rows = [
        (score, src.ids[s], trg.ids[t], *((src.texts[s], trg.texts[t]) if with_text else ()))  # type: ignore[index]
        for s, t, score in zip(candidates.src.tolist(), candidates.trg.tolist(), candidates.score.tolist())
    ]
    try:  # refuses a non-finite score; margins are finite by construction (mining/margin.py)
        written = write_table(PairTable(columns, rows, header=False), Path(job.out), fmt)
    except ValueError as err:
        raise RxError(f"{job.out}: {err}; nothing written (please report this as a bug)") from None
    return {"pairs_written": len(rows), **written}


def _check_threshold(job: MineJob, options: EncoderOptions | None) -> None:
    """RxError in one line, before any work, for a ``--threshold`` that cannot run."""
    if job.threshold is None or isinstance(job.threshold, (int, float)):
        if job.auto.sample_src is not None or job.auto.sample_trg is not None:
            raise RxError("--sample-src and --sample-trg are for --threshold auto; add it, or leave them out")
        return
    if job.threshold != "auto":
        raise RxError(f"--threshold {job.threshold!r}: give a number or auto")
    if job.auto.sample_src is None or job.auto.sample_trg is None:
        raise RxError(
            "--threshold auto needs a parallel sample of this language pair: --sample-src and --sample-trg "
            "(line i of one translates line i of the other; a few hundred pairs of the corpus's kind of text)"
        )
    if options is None or not options.model:
        raise RxError("--threshold auto encodes the parallel sample: give --model (the sides' encoder)")
    if any(classify(Path(side)) == "npy" for side in (job.src, job.trg)):
        raise RxError("--threshold auto cannot check that a .npy side comes from --model: mine rx exports or text")


def _check_top_k(job: MineJob) -> None:
    """RxError in one line for ``--top-k`` with settings that assume one pair per sentence."""
    if job.top_k is None:
        return
    if job.top_k < 1:
        raise RxError(f"--top-k {job.top_k}: give 1 or more")
    if job.threshold == "auto":
        raise RxError("--threshold auto estimates the precision of one pair per sentence; with --top-k give a number")
    if job.post.one_to_one:
        raise RxError("--one-to-one keeps one pair per sentence; --top-k keeps several: give one of them")
    if job.auto.sample_src is not None or job.auto.sample_trg is not None:
        raise RxError("--sample-src and --sample-trg are for --threshold auto; leave them out with --top-k")


def _read_sample(auto: AutoThresholdOptions) -> tuple[list[str], list[str]]:
    _, src = read_corpus(Path(auto.sample_src), "lines", "error")
    _, trg = read_corpus(Path(auto.sample_trg), "lines", "error")
    if len(src) != len(trg):
        raise RxError(
            f"{auto.sample_trg}: {len(trg)} lines, but {auto.sample_src} has {len(src)}: a parallel sample pairs "
            "line i with line i"
        )
    same = sum(line_key(a) == line_key(b) for a, b in zip(src, trg))
    if same > len(src) * MAX_SAME_SAMPLE_LINES:
        raise RxError(
            f"{auto.sample_trg}: {same} of its {len(trg)} lines equal {auto.sample_src}'s: a parallel sample pairs "
            "each sentence with its translation in the other language (the same file twice promises a precision "
            "the corpus will not have)"
        )
    return src, trg


MAX_SAME_SAMPLE_LINES = 0.2  # names, numbers and loanwords are the same in both languages; a fifth is not a sample

# What rx mine writes: OUT and its sidecar OUT.json, recognised by these keys.
MINE_OUTPUT = OutputKind("rx mine", ".json", frozenset({"pairs_file", "columns", "mining", "threshold"}))


def check_output(job: MineJob) -> None:
    """RxError when an output of ``job`` (the ``--format`` files or the ``.json`` sidecar) is an input or lies
    inside an input folder (the sides and the threshold sample alike), is a folder, or exists and may not be
    replaced (``outputs``: only with ``overwrite``, and only an rx mine output). An unfinished run (its checkpoint
    folder is still there) resumes."""
    out = Path(job.out)
    inputs = [Path(job.src), Path(job.trg), job.auto.sample_src, job.auto.sample_trg]
    unfinished = out.with_name(out.name + CHECKPOINT_SUFFIX).is_dir()  # killed after writing it: resumes
    check_pair_outputs(out, job.output.pairs_format, (None, None), MINE_OUTPUT, inputs, job.overwrite, unfinished)


@dataclass(frozen=True)
class MineJob:
    """One ``rx mine`` run, besides the encoder that a text side needs: the two sides (text corpus, export folder
    or ``.npy``), the pairs file ``out``, the ``mining`` options (k, margin, retrieval, memory budget, index,
    centering, device, Ray, checksums; unset k, margin and retrieval take BUCC's protocol), the ``threshold``
    (None: keep all; ``"auto"``: estimated from the parallel sample of ``auto``), the ``post`` filters, how text is
    read (``fmt``, ``blank``), whether an existing ``out`` may be replaced (``overwrite``), ``top_k`` (up to K
    candidates per source sentence instead of the retrieval rule's pairs) and the ``output`` format."""

    src: Path
    trg: Path
    out: Path
    mining: MiningOptions = field(default_factory=MiningOptions)
    threshold: float | str | None = None
    fmt: CorpusFormat = "lines"
    blank: BlankPolicy = "error"
    overwrite: bool = False
    post: PostFilters = field(default_factory=PostFilters)
    auto: AutoThresholdOptions = field(default_factory=AutoThresholdOptions)
    top_k: int | None = None
    output: PairOutput = field(default_factory=PairOutput)


def mine(
    job: MineJob,
    options: EncoderOptions | None = None,
    quiet: bool = False,
) -> MiningSummary:
    """Run ``job``: mine its source side against its target side and write ``job.out``
    (``score<TAB>src_id<TAB>trg_id[<TAB>src<TAB>trg]``, best first) and ``out.json`` (inputs, what ran, times and
    peak memory per phase). ``options`` encodes a text side (an export's or the other side's settings otherwise).

    RxError, before any work, when ``out`` is one of the inputs (or inside one), or exists without ``overwrite``
    (unless its run did not finish); the output is locked for the whole run.
    """
    check_output(job)
    _check_threshold(job, options)
    _check_top_k(job)
    with hold_output_lock(Path(job.out)):  # the pairs file and its checkpoint folder belong to this run
        return _mine_locked(job, options, quiet)


def _mine_locked(job: MineJob, options: EncoderOptions | None, quiet: bool) -> MiningSummary:
    """The job as named phases, each timed with its peak memory: read and encode, k-NN, candidates, threshold
    auto (with a sample), write; then the sidecar."""
    started, phases = time.perf_counter(), Phases()
    job = dataclasses.replace(job, mining=job.mining.resolved(load_card("bucc2018").mining))  # resolved once
    settings = job.mining
    with phases("read and encode"):
        sides = _read_and_encode(job, options)
    compatibility = check_pair(sides.src, sides.trg)
    top_k = _capped_top_k(job.top_k, len(sides.trg.vectors))
    with phases("k-NN"):
        found = _knn(job, sides, quiet, k=max(settings.k or 1, top_k or 0))
    with phases("candidates"):
        if top_k is None:
            candidates = candidates_from_neighbours(found.neighbours, settings.margin, settings.retrieval)
        else:
            candidates = top_k_candidates(found.neighbours, settings.k, top_k, settings.margin)  # type: ignore[arg-type]
    estimate = None
    if sides.sample is not None:
        with phases("threshold auto"):
            estimate = _auto_threshold(job, sides, candidates, quiet)
    threshold = estimate.threshold if estimate is not None else job.threshold
    with phases("write"):
        kept, dropped = apply_post_filters(candidates, threshold, job.post, sides.src.texts, sides.trg.texts, line_key)
        written = _write_pairs(job, sides.src, sides.trg, kept)
    record = {
        "top_k": {"asked": job.top_k, "used": top_k} if job.top_k is not None else None,
        "compatibility": compatibility,
        "threshold": threshold,
        "threshold_auto": estimate.to_dict() if estimate is not None else None,
        "dropped": dropped,
        "knn": found.knn,
        "resumed": found.resumed,
        **written,
        "candidates": len(candidates),
        "phases": phases.record,
        "total_seconds": round(time.perf_counter() - started, 3),
        "peak_rss_bytes": phases.peak(),
    }
    sidecar = _write_sidecar(job, sides, record)
    if found.checkpoint is not None:
        shutil.rmtree(found.checkpoint.folder, ignore_errors=True)
    seconds = time.perf_counter() - started
    return MiningSummary(
        written["pairs_written"], len(candidates), seconds, phases.peak(), sidecar, found.resumed, settings
    )


def _capped_top_k(top_k: int | None, targets: int) -> int | None:
    """``--top-k`` at most the number of target sentences (a note when capped)."""
    if top_k is not None and top_k > targets:
        logger.warning(f"--top-k {top_k}: the target side has {targets} sentences; writing up to {targets} per source")
        return targets
    return top_k


def _write_sidecar(job: MineJob, sides: _Sides, record: dict[str, Any]) -> Path:
    """``OUT.json``: the inputs and settings of ``job`` with what the run measured (``record``); returns its path."""
    out = Path(job.out)
    sidecar = out.with_name(out.name + ".json")
    with_text = sides.src.texts is not None and sides.trg.texts is not None
    atomic_write_json(
        sidecar,
        {
            "pairs_file": str(out),
            "columns": ["score", "src_id", "trg_id"] + (["src", "trg"] if with_text else []),
            "src": {**sides.src.identity, "count": len(sides.src.vectors)},
            "trg": {**sides.trg.identity, "count": len(sides.trg.vectors)},
            "mining": {name: getattr(job.mining, name) for name in ("k", "margin", "retrieval", "max_memory")},
            "post_filters": dataclasses.asdict(job.post),
            "center": job.mining.center,
            "score_scale": (
                "centered margins (a translation scores about 4-5 with ratio): a threshold chosen without --center "
                "does not carry over"
                if job.mining.center == "language"
                else "raw margins (a translation scores about 1.1 with ratio)"
            ),
            "ratio_floor": RATIO_FLOOR,
            "max_memory_bytes": parse_size(job.mining.max_memory),
            **record,
        },
    )
    return sidecar


@dataclass
class _Sides:
    """Both sides as vectors (text sides encoded), the ``--threshold auto`` sample's lines and the encoder that
    encodes it (None without text sides or a sample)."""

    src: MiningSide
    trg: MiningSide
    sample: tuple[list[str], list[str]] | None
    encoder: Any


def _read_and_encode(job: MineJob, options: EncoderOptions | None) -> _Sides:
    """Read both sides and the sample, check what the inputs alone decide (before any model loads), then encode
    the text sides."""
    src, trg = Path(job.src), Path(job.trg)
    sample = _read_sample(job.auto) if job.threshold == "auto" else None
    kinds = {"src": classify(src), "trg": classify(trg)}
    texts = {
        name: _read_text_side(path, job.fmt, job.blank)
        for name, path in (("src", src), ("trg", trg))
        if kinds[name] == "text"
    }
    sides: dict[str, MiningSide] = {}
    for name, path in (("src", src), ("trg", trg)):
        if kinds[name] == "export":
            sides[name] = export_side(path, job.mining.verify)
        elif kinds[name] == "npy":
            sides[name] = npy_side(path)
    _check_before_encoding(job, sample, texts, sides)
    encoder = None
    if texts or sample is not None:
        reference = next((s.spec for s in sides.values() if s.spec is not None), None)
        encoder = encoder_for(options, reference).load(corpus=[t for side in texts.values() for t in side.texts])
        if reference is not None and not texts:  # only the sample is encoded: it must match the exports
            where = next(s.path for s in sides.values() if s.spec is not None)
            check_compatible(reference, encoder.spec, str(where), stored="export", given="encoder of --model")
        for name, side in texts.items():
            sides[name] = _encoded_text_side(job, encoder, name, side)
    if sides["src"].vectors.dimension != sides["trg"].vectors.dimension:
        raise RxError(
            f"{sides['trg'].path}: dimension {sides['trg'].vectors.dimension} differs from {sides['src'].path}'s "
            f"{sides['src'].vectors.dimension}"
        )
    return _Sides(sides["src"], sides["trg"], sample, encoder)


def _check_before_encoding(
    job: MineJob, sample: tuple[list[str], list[str]] | None, texts: dict[str, _TextSide], sides: dict[str, MiningSide]
) -> None:
    """RxError for a sample the corpus cannot judge, or text-only post-filters on a side without sentences."""
    rows = {name: len(side.texts) for name, side in texts.items()} | {n: len(s.vectors) for n, s in sides.items()}
    if sample is not None:
        check_sample_size(len(sample[0]), (rows["src"], rows["trg"]), f"{job.auto.sample_src} (the sample)")
    without_text = [str(s.path) for s in sides.values() if s.texts is None]
    if job.post.needs_texts() and without_text:
        raise RxError(
            f"{without_text[0]}: holds no sentences, and --length-ratio, --numbers-agree and --dedup-pairs read "
            "them: mine text files or rx exports whose input file is still there"
        )


def _encoded_text_side(job: MineJob, encoder: Any, name: str, side: _TextSide) -> MiningSide:
    vectors = encoder.encode(side.texts, desc=f"encoding {name} ({len(side.texts)} unique)")
    identity = {
        "kind": "text",
        **file_identity(side.path),
        "format": job.fmt,
        "blank": job.blank,
        "encoder": encoder.spec.to_dict(),
    }
    vector_set = ArrayVectors(vectors, f"{side.path} (encoder output)")
    return MiningSide("text", side.path, vector_set, side.ids, side.texts, encoder.spec, identity)


def _knn(job: MineJob, sides: _Sides, quiet: bool, k: int) -> FoundNeighbours:
    """The ``k`` nearest neighbours of both sides (exact and checkpointed next to the output, or approximate)."""
    out = Path(job.out)
    return find_neighbours(
        sides.src.vectors,
        sides.trg.vectors,
        dataclasses.replace(job.mining, k=k),
        checkpoint_folder=out.with_name(out.name + CHECKPOINT_SUFFIX),
        identity={"src": sides.src.identity, "trg": sides.trg.identity},
        desc=None if quiet else f"{k}-NN",
    )


def _auto_threshold(job: MineJob, sides: _Sides, candidates: Candidates, quiet: bool) -> ThresholdEstimate:
    """``--threshold auto``: the sample encoded and hidden among the corpus (``mining.auto_threshold``)."""
    vectors = [
        sides.encoder.encode(lines, desc=None if quiet else f"encoding the sample's {name}")
        for name, lines in zip(("src", "trg"), sides.sample)
    ]
    estimate = estimate_threshold(
        vectors[0], vectors[1], sides.src.vectors, sides.trg.vectors, candidates, job.mining, job.auto
    )
    logger.info(
        f"--threshold auto: {estimate.threshold:.4f} (expected precision {estimate.expected_precision:.3f}, recall "
        f"{estimate.expected_recall:.3f} on {estimate.sample_pairs} sample pairs)"
    )
    return estimate


def format_summary(summary: MiningSummary, out: Path) -> str:
    """The final line of ``rx mine``."""
    return (
        f"mined {summary.written} pairs (of {summary.candidates} candidates) in {summary.seconds:.1f}s, peak "
        f"memory {format_size(summary.peak_rss)}{' (resumed)' if summary.resumed else ''} -> {out} "
        f"(details: {summary.sidecar})"
    )
