"""The commands on corpora and vectors: ``rx build-index``, ``rx search``, ``rx info``, ``rx export``, ``rx mine``
(both with ``--dry-run``), ``rx score``, ``rx calibrate-speed``, ``rx prepare`` and ``rx tune-threshold``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retrieval_xfer.cli.group import main
from retrieval_xfer.cli.options import (
    ThresholdType,
    dataclass_options,
    dry_run_option,
    encoder_options,
    encoder_options_with_optional_model,
    no_verify_option,
    ray_option,
    with_corpus_options,
)
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.field_checks import take_options
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.options import AutoThresholdOptions, MiningOptions, PairOutput, PostFilters
from retrieval_xfer.prepare.filters import LineFilter
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.workflows.score_options import ScoreChecks, ScoreSelection


def sides_options(src_help: str) -> Callable[[Callable], Callable]:
    """The encoder options of a text side and ``--src``/``--trg`` (text, an export folder or ``.npy``) of a command
    on two sides (rx mine, rx score)."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "--trg", required=True, type=click.Path(path_type=Path), help="Target side: same kinds as --src."
        )(func)
        func = click.option("--src", required=True, type=click.Path(path_type=Path), help=src_help)(func)
        return encoder_options_with_optional_model("a text side (not needed for exports or .npy)")(func)

    return decorate


@main.command("build-index")
@encoder_options_with_optional_model("a text corpus (not needed for an export or .npy)")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="A text corpus (UTF-8), an rx export folder, or a .npy matrix (added shard by shard).",
)
@with_corpus_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Index folder to create. Default: indices/<input file name>.",
)
@dataclass_options(IndexOptions)
@click.option("--no-sentences", is_flag=True, help="Do not store the sentences (search then shows ids only).")
@click.option("--overwrite", is_flag=True, help="Replace an existing index folder (only one rx built).")
@no_verify_option
def build_index(
    input_path: Path,
    input_format: str,
    skip_blank: bool,
    out: Path | None,
    no_sentences: bool,
    overwrite: bool,
    no_verify: bool,
    **kwargs: Any,
) -> None:
    """Encode a corpus and save a FAISS index folder (index.faiss, ids.txt, sentences.txt, meta.json)."""
    from retrieval_xfer.indexing.factory import IndexParams
    from retrieval_xfer.workflows.index import build_index_folder

    out = out or Path("indices") / input_path.name
    params = IndexParams.from_options(take_options(IndexOptions, kwargs))
    options = take_options(EncoderOptions, kwargs)
    meta = build_index_folder(
        options if options.model else None,
        input_path,
        out,
        params,
        input_format,
        "skip" if skip_blank else "error",
        store_sentences=not no_sentences,
        overwrite=overwrite,
        verify=not no_verify,
    )
    click.echo(
        f"indexed {meta.count} sentences ({meta.index['kind']}, dim {meta.spec.dimension}) "
        f"in {meta.build_seconds:.1f}s -> {out}"
    )


def _query_lines(stream: Any) -> list[str]:
    """The non-blank lines of ``--queries-file``; RxError naming the file and line of the first bad UTF-8."""
    if stream is None:
        return []
    lines = []
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise RxError(f"{stream.name}:{number}: not valid UTF-8 (byte {err.start})") from None
        if text:
            lines.append(text.removeprefix("\ufeff") if number == 1 else text)
    return lines


@main.command()
@click.argument("index_dir", type=click.Path(path_type=Path))
@click.argument("queries", nargs=-1)
@click.option(
    "--queries-file",
    type=click.File("rb"),
    default=None,
    metavar="FILE|-",
    help="More queries, one per line (blank lines skipped); - reads standard input. One model load for all.",
)
@dataclass_options(
    EncoderOptions,
    replace={
        "prompt": click.option(
            "--prompt",
            default=None,
            help='Text prepended to every query. Default: the prompt the index was built with; --prompt "" for none.',
        )
    },
)
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Results per query.")
@click.option("--nprobe", type=click.IntRange(min=1), default=None, help="Override the index's nprobe (ivf types).")
@click.option("--ef-search", type=click.IntRange(min=1), default=None, help="Override the index's efSearch (hnsw).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON lines.")
@no_verify_option
def search(
    index_dir: Path,
    queries: tuple[str, ...],
    queries_file: Any,
    k: int,
    nprobe: int | None,
    ef_search: int | None,
    as_json: bool,
    prompt: str | None,
    no_verify: bool,
    **kwargs: Any,
) -> None:
    """Find the sentences of INDEX_DIR nearest to each QUERY (arguments and/or --queries-file). The encoder must
    match the one that built the index.

    --layer, --pool-skip-special and --prompt default to the index's own settings.
    """
    from retrieval_xfer.workflows.search import hits_record, search_index

    queries = (*queries, *_query_lines(queries_file))
    if not queries:
        raise click.UsageError("give QUERIES as arguments or --queries-file FILE (- for standard input)")
    options = take_options(EncoderOptions, kwargs, prompt="")
    results = search_index(
        index_dir,
        queries,
        options,
        k=k,
        prompt=prompt,
        nprobe=nprobe,
        ef_search=ef_search,
        verify=not no_verify,
    )
    for query, hits in zip(queries, results):
        if as_json:
            click.echo(json.dumps(hits_record(query, hits), ensure_ascii=False))
            continue
        click.echo(f"query: {query}")
        for hit in hits:
            click.echo(f"  {hit.rank:>3}  {hit.score:.4f}  {hit.id}  {hit.sentence or ''}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@no_verify_option
def info(folder: Path, no_verify: bool) -> None:
    """Describe an index folder (or an export folder): model, layer, pooling, count, dimension, build time; its
    files' checksums are verified (a damaged file is an error, as in every other command)."""
    from retrieval_xfer.workflows.describe import describe_folder

    click.echo(describe_folder(folder, verify=not no_verify))


@main.command()
@encoder_options
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path), help="Corpus file (UTF-8).")
@with_corpus_options
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Export folder (created or resumed).")
@click.option("--shard-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--dtype", type=click.Choice(["float32", "float16"]), default="float32", show_default=True)
@ray_option(
    "Encode shards on a pool of Ray actors (one model each, a GPU each when there are GPUs): on a "
    "cluster (HOST:PORT, ray://HOST:PORT) or, without an address, on a local Ray. Needs the ray extra."
)
@dry_run_option
def export(
    input_path: Path,
    input_format: str,
    skip_blank: bool,
    out: Path,
    shard_size: int,
    dtype: str,
    ray_address: str | None,
    dry_run: bool,
    **kwargs: Any,
) -> None:
    """Write embeddings as .npy shards + ids + manifest.json, streaming the input. Re-running after an
    interruption resumes from the last complete shard."""
    from retrieval_xfer.export.shards import export_corpus

    if dry_run:
        from retrieval_xfer.workflows.plan import plan_export

        fmt, blank = input_format, "skip" if skip_blank else "error"
        click.echo(plan_export(take_options(EncoderOptions, kwargs), input_path, shard_size, fmt, blank))  # type: ignore[arg-type]
        return
    manifest = export_corpus(
        take_options(EncoderOptions, kwargs),
        input_path,
        out,
        shard_size=shard_size,
        dtype=dtype,
        fmt=input_format,
        blank="skip" if skip_blank else "error",
        ray=ray_address,
    )
    click.echo(f"exported {manifest['count']} embeddings in {len(manifest['shards'])} shard(s) -> {out}")


@main.command()
@sides_options("Source side: a text corpus, an rx export folder, or a .npy matrix (float32/float16).")
@with_corpus_options
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Pairs file: score<TAB>src_id<TAB>trg_id[<TAB>src<TAB>trg], best first; OUT.json says what ran.",
)
@click.option(
    "--threshold",
    type=ThresholdType(),
    default=None,
    help="Keep pairs scoring at least this. It depends on the model: tune it on a small gold set "
    "(README: choosing a threshold), or give auto to estimate it from a parallel sample (--sample-src, "
    "--sample-trg). Default: keep all.",
)
@dataclass_options(AutoThresholdOptions)
@dataclass_options(PostFilters)
@dataclass_options(MiningOptions)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=None,
    help="Write up to K candidates per source sentence (its K nearest targets, each with its margin), grouped by "
    "source, best first: for alignment tools and review. Instead of the retrieval rule's one pair per sentence.",
)
@dataclass_options(PairOutput)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out (never an input).")
@no_verify_option
@dry_run_option
def mine(
    src: Path,
    trg: Path,
    input_format: str,
    skip_blank: bool,
    out: Path,
    threshold: float | str | None,
    top_k: int | None,
    overwrite: bool,
    no_verify: bool,
    dry_run: bool,
    **kwargs: Any,
) -> None:
    """Margin-based bitext mining between two sides (the BUCC machinery), best pairs first. Mining options not
    given take BUCC's (k=4, ratio margin, max retrieval). Exports are mined without re-encoding; the exact k-NN
    runs out of core under --max-memory and resumes after a kill (run the same command again)."""
    from retrieval_xfer.workflows import mine as mining_workflow

    options = take_options(EncoderOptions, kwargs)
    job = mining_workflow.MineJob(
        src,
        trg,
        out,
        take_options(MiningOptions, kwargs, device=options.device, verify=not no_verify),
        threshold,
        input_format,
        "skip" if skip_blank else "error",
        overwrite=overwrite,
        post=take_options(PostFilters, kwargs),
        auto=take_options(AutoThresholdOptions, kwargs),
        top_k=top_k,
        output=take_options(PairOutput, kwargs),
    )
    if dry_run:
        from retrieval_xfer.workflows.plan import plan_mine

        click.echo(plan_mine(job, options))
        return
    summary = mining_workflow.mine(job, options if options.model else None, quiet=options.quiet)
    click.echo(mining_workflow.format_summary(summary, out))


@main.command()
@sides_options("Source side, line i translating --trg's line i: a text file, an rx export folder, or a .npy matrix.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The kept pairs in line order (tsv: line, score, cosine, flags[, src, trg] under a header); OUT.json "
    "counts every drop by reason.",
)
@click.option(
    "--threshold",
    type=ThresholdType(),
    default=None,
    help="Keep pairs whose margin is at least this (rx mine's scale), or auto: estimated from the given pairs "
    "against random pairings of the same sentences (README: Scoring a corpus you already have). Default: keep all.",
)
@dataclass_options(ScoreChecks)
@dataclass_options(PostFilters, exclude=("one_to_one",))
@dataclass_options(AutoThresholdOptions, exclude=("sample_src", "sample_trg", "max_distractors"))
@dataclass_options(ScoreSelection)
@dataclass_options(PairOutput)
@dataclass_options(MiningOptions, exclude=("retrieval",))
@click.option("--overwrite", is_flag=True, help="Replace an existing --out written by rx score (never an input).")
@no_verify_option
def score(
    src: Path, trg: Path, out: Path, threshold: float | str | None, overwrite: bool, no_verify: bool, **kwargs: Any
) -> None:
    """Score and filter a parallel corpus you already have (line i of --src translating line i of --trg): each
    pair's margin against both sentences' nearest neighbours in the other side (rx mine's margin, from one k-NN
    pass each way), its cosine, and rule-based checks (language ID, copies, numbers, length ratio, repeated
    pairs); writes the pairs that pass. Out of core under --max-memory, resumable, --ray, as rx mine."""
    from retrieval_xfer.workflows import score as scoring

    options = take_options(EncoderOptions, kwargs)
    job = scoring.ScoreJob(
        src,
        trg,
        out,
        take_options(MiningOptions, kwargs, device=options.device, verify=not no_verify),
        threshold,
        checks=take_options(ScoreChecks, kwargs),
        post=take_options(PostFilters, kwargs),
        selection=take_options(ScoreSelection, kwargs),
        output=take_options(PairOutput, kwargs),
        auto=take_options(AutoThresholdOptions, kwargs),
        overwrite=overwrite,
    )
    summary = scoring.score(job, options if options.model else None, quiet=options.quiet)
    click.echo(scoring.format_summary(summary, out))


@main.command("calibrate-speed")
@encoder_options_with_optional_model("--input's sentences, to time the encoder")
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Sentences to time --model on (the first 2,000; text like the corpora you will encode).",
)
@with_corpus_options
def calibrate_speed(input_path: Path | None, input_format: str, skip_blank: bool, **kwargs: Any) -> None:
    """Measure this machine's k-NN speeds and, with --model and --input, the encoder's (seconds each), and cache
    them for the dry runs of rx export and rx mine. A cache measured on another machine is ignored."""
    from retrieval_xfer.workflows.speed import measure_now

    options = take_options(EncoderOptions, kwargs)
    if bool(options.model) != (input_path is not None):
        raise RxError("give --model and --input together (the encoder is timed on --input's sentences)")
    fmt, blank = input_format, "skip" if skip_blank else "error"
    click.echo(measure_now(options if options.model else None, input_path, fmt, blank))  # type: ignore[arg-type]


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Output folder (created whole or not at all)."
)
@dataclass_options(PrepareOptions, exclude=("line_filter",))
@dataclass_options(LineFilter)
@click.option("--overwrite", is_flag=True, help="Replace an existing --out made by rx prepare.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def prepare(input_path: Path, out: Path, overwrite: bool, quiet: bool, **kwargs: Any) -> None:
    """Clean raw monolingual text before mining: Unicode NFKC, whitespace and punctuation normalisation, length
    and letter filters, per-line language identification, exact and near-duplicate removal. Writes OUT/lines.txt,
    OUT/line_numbers.txt (each kept line's number in INPUT) and OUT/report.json (what each step dropped, with
    examples). Streams: memory does not grow with INPUT."""
    from retrieval_xfer.prepare.pipeline import format_report, prepare_file

    line_filter = take_options(LineFilter, kwargs)
    options = take_options(PrepareOptions, kwargs, line_filter=line_filter)
    report = prepare_file(input_path, out, options, overwrite=overwrite, quiet=quiet)
    click.echo(format_report(report))


@main.command("tune-threshold")
@click.argument("pairs_file", type=click.Path(path_type=Path))
@click.option(
    "--gold",
    required=True,
    type=click.Path(path_type=Path),
    help="Gold pairs src_id<TAB>trg_id (a small hand-checked sample of the same corpora).",
)
@click.option("--points", type=click.IntRange(min=2), default=20, show_default=True, help="Rows of the curve.")
def tune_threshold_command(pairs_file: Path, gold: Path, points: int) -> None:
    """Choose rx mine's --threshold: precision, recall and F1 against a gold sample at thresholds spread over the
    scores of PAIRS_FILE (written by rx mine without --threshold), and the best one (BUCC's rule)."""
    from retrieval_xfer.evaluation.results import format_table
    from retrieval_xfer.workflows.threshold import tune_threshold

    report = tune_threshold(pairs_file, gold, points)
    rows = [[f"{t:.4f}", prf.precision, prf.recall, prf.f1, prf.n_predicted] for t, prf in report.curve]
    click.echo(format_table(["threshold", "precision", "recall", "F1", "pairs kept"], rows))
    best = report.at_best
    click.echo(
        f"best threshold {report.best:.4f}: F1 {best.f1:.2f} (precision {best.precision:.2f}, recall "
        f"{best.recall:.2f}); {report.gold_missing} of {report.gold_pairs} gold pairs are not among the "
        f"candidates at all"
    )
