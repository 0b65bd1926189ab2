"""The ``rx`` command line: parse options, call one library function, print. No logic a Python user could not call.

Only click and the light core are imported at start; each command imports what it needs when it runs, so
``rx --help``, ``rx tasks list``, ``rx info`` and ``rx report`` never load torch.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.zero_shot_options import ZeroShotOptions
from retrieval_xfer.field_checks import check_field, field_kind
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.logs import show_on_stderr
from retrieval_xfer.mining.options import CENTER_CHOICES, AutoThresholdOptions, MiningOptions, PostFilters
from retrieval_xfer.prepare.filters import LineFilter
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.training.config import TrainConfig
from retrieval_xfer.version import __version__

if TYPE_CHECKING:
    from retrieval_xfer.data.cards import TaskCard

# What to do after Ctrl-C, for the commands that can pick up where they stopped.
RESUME_HINTS = {
    "export": "run the same command again to resume after the last complete shard",
    "mine": "run the same command again to resume after the last finished k-NN block",
    "experiment": "run the same command again: finished steps are skipped, training resumes from its checkpoint",
    "train": "add --resume to the same command to continue from the last checkpoint",
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (what a cluster scheduler sends before it kills a job), raised where the program is, so every
    clean-up that Ctrl-C runs (temporary files removed, the last good state kept) runs for it too."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


class RxGroup(click.Group):
    """A click group that turns library errors and OS errors (a full disk, a permission) into one-line messages and
    exit code 1 (never a traceback), and Ctrl-C or SIGTERM into exit code 130 or 143 with how to resume."""

    def invoke(self, ctx: click.Context) -> Any:
        top = ctx.parent is None
        previous = _on_sigterm(_raise_terminated) if top else None
        try:
            return super().invoke(ctx)
        except RxError as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            if not top:
                raise
            where = f"{err.filename}: " if err.filename else ""
            raise click.ClickException(f"{where}{err.strerror or err}") from None
        except KeyboardInterrupt as stop:
            if not top:
                raise
            hint = RESUME_HINTS.get(ctx.invoked_subcommand or "")
            terminated = isinstance(stop, Terminated)
            click.echo(f"{'terminated' if terminated else 'interrupted'}{'; ' + hint if hint else ''}", err=True)
            raise click.exceptions.Exit(143 if terminated else 130) from None
        finally:
            if top:
                _on_sigterm(previous)


def _on_sigterm(handler: Any) -> Any:
    """Install ``handler`` for SIGTERM (main thread only; elsewhere nothing changes); returns the previous one."""
    import signal
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


class _FieldChecked:
    """A click number type whose values go through ``field_checks.check_field`` (type, finite, bounds)."""

    field: dataclasses.Field

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return check_field(self.field, value)
        except RxError as err:
            self.fail(str(err), param, ctx)  # type: ignore[attr-defined]


class FieldType(_FieldChecked, click.ParamType):
    """A number option without bounds."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        self.name = "INTEGER" if field_kind(f) == "int" else "FLOAT"


class IntFieldRange(_FieldChecked, click.IntRange):
    """An integer option with bounds (shown in its help, as click does)."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        super().__init__(min=f.metadata.get("min"), max=f.metadata.get("max"))


class FloatFieldRange(_FieldChecked, click.FloatRange):
    """A float option with bounds (shown in its help, as click does)."""

    def __init__(self, f: dataclasses.Field) -> None:
        self.field = f
        above = f.metadata.get("above")
        low = above if above is not None else f.metadata.get("min")
        super().__init__(min=low, max=f.metadata.get("max"), min_open=above is not None)


def field_type(f: dataclasses.Field) -> click.ParamType:
    """The click type of a number field: bounded (its help shows the range) or not."""
    bounded = any(f.metadata.get(key) is not None for key in ("min", "max", "above"))
    if not bounded:
        return FieldType(f)
    return IntFieldRange(f) if field_kind(f) == "int" else FloatFieldRange(f)


def dataclass_options(
    cls: type, exclude: tuple[str, ...] = (), replace: dict[str, Callable] | None = None
) -> Callable[[Callable], Callable]:
    """Click options made from a dataclass's fields (help, choices, minimum, flag from each field's metadata).

    ``exclude`` leaves fields out; ``replace`` gives a field another option (e.g. a different default). The same
    dataclasses define what an experiment file accepts, so ``rx eval`` and ``rx experiment`` agree by construction.
    """
    options = []
    for f in dataclasses.fields(cls):
        if f.name in exclude:
            continue
        if replace and f.name in replace:
            options.append(replace[f.name])
            continue
        meta = f.metadata
        names = [meta["flag"]] if isinstance(meta.get("flag"), str) else [f"--{f.name.replace('_', '-')}"]
        kwargs: dict[str, Any] = {"help": meta.get("help")}
        if meta.get("flag") is True:
            kwargs["is_flag"] = True
        elif "choices" in meta:
            kwargs["type"] = click.Choice(list(meta["choices"]))
        elif field_kind(f) in ("int", "float"):
            kwargs["type"] = field_type(f)
        elif meta.get("path"):
            kwargs["type"] = click.Path(path_type=Path)
        if "metavar" in meta:
            kwargs["metavar"] = meta["metavar"]
        if meta.get("required"):
            kwargs["required"] = True
        elif f.default is not dataclasses.MISSING and not kwargs.get("is_flag"):
            kwargs["default"] = f.default
            kwargs["show_default"] = f.default is not None and meta.get("show_default", True) and f.default != ""
        options.append(click.option(*names, f.name, **kwargs))

    def decorate(func: Callable) -> Callable:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


encoder_options = dataclass_options(EncoderOptions)


def encoder_options_with_optional_model(needed_for: str) -> Callable[[Callable], Callable]:
    """The encoder options of a command that reads vectors too, so ``--model`` is needed only for ``needed_for``."""
    model = click.option("--model", default=None, help=f"Hub id or local folder: encodes {needed_for}.")
    return dataclass_options(EncoderOptions, replace={"model": model})


def ray_option(help_text: str) -> Callable[[Callable], Callable]:
    """``--ray [ADDRESS]`` (a cluster, or a local Ray without an address) of a command; ``help_text`` says what
    runs on it."""
    return click.option(
        "--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]", help=help_text
    )


def center_option(help_text: str) -> Callable[[Callable], Callable]:
    """``--center none|language`` of a command; ``help_text`` says what centering does there."""
    return click.option(
        "--center", type=click.Choice(list(CENTER_CHOICES)), default="none", show_default=True, help=help_text
    )


mining_ray_option = ray_option(
    "Run the exact k-NN's blocks as Ray tasks: on a cluster (HOST:PORT, ray://HOST:PORT) or, without "
    "an address, on a local Ray. Needs the ray extra."
)
no_verify_option = click.option(
    "--no-verify",
    "no_verify",
    is_flag=True,
    help="Skip the SHA-256 check of export shards and index files (for very large data you trust; by default a "
    "damaged file is an error, never a wrong result).",
)


class ThresholdType(click.ParamType):
    """A finite number, or ``auto``."""

    name = "FLOAT|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float | str:
        if value == "auto":
            return value
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor auto", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r}: a threshold must be a finite number (a NaN would keep every pair)", param, ctx)
        return number


def _take(cls: type, kwargs: dict[str, Any], **fixed: Any) -> Any:
    """Pop the fields of dataclass ``cls`` out of a command's ``kwargs`` and build it (``fixed`` overrides)."""
    values = {f.name: kwargs.pop(f.name) for f in dataclasses.fields(cls) if f.name in kwargs}
    return cls(**{**values, **fixed})


@click.group(cls=RxGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rx")
@click.option("-v", "--verbose", is_flag=True, help="Also show debug lines.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors (no progress lines).")
def main(verbose: bool, quiet: bool) -> None:
    """retrieval_xfer: encode with a multilingual encoder at a chosen layer, index with FAISS, and evaluate
    zero-shot cross-lingual retrieval (BUCC, Tatoeba) as XTREME does.

    \b
    Typical use:
      rx eval tatoeba --model intfloat/multilingual-e5-small --langs xtreme --prompt "query: "
      rx eval bucc --model xlm-roberta-large --data-dir bucc2018 --pairs zh-en
      rx build-index --model MODEL --input corpus.txt --out indices/news
      rx search indices/news --model MODEL "a query sentence" -k 5
    """
    if verbose and quiet:
        raise click.UsageError("give -v/--verbose or -q/--quiet, not both")
    show_on_stderr(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


corpus_options = [
    click.option(
        "--input-format",
        type=click.Choice(["lines", "tsv"]),
        default="lines",
        show_default=True,
        help="lines: one sentence per line, id = line number. tsv: id<TAB>sentence (BUCC layout).",
    ),
    click.option(
        "--skip-blank",
        is_flag=True,
        help="Drop blank lines (default: a blank line is an error). Ids stay line numbers.",
    ),
]


def with_corpus_options(func: Callable) -> Callable:
    """The options that say how a corpus file is read."""
    for option in reversed(corpus_options):
        func = option(func)
    return func


with_index_options = dataclass_options(IndexOptions)  # rx build-index, rx mine, rx eval bucc


def _index_params(kwargs: dict[str, Any]):
    """IndexParams from the index options in a command's ``kwargs`` (popped)."""
    from retrieval_xfer.indexing.factory import IndexParams

    return IndexParams.from_options(_take(IndexOptions, kwargs))


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
@with_index_options
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
    from retrieval_xfer.workflows.index import build_index_folder

    out = out or Path("indices") / input_path.name
    params = _index_params(kwargs)
    options = _take(EncoderOptions, kwargs)
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
    options = _take(EncoderOptions, kwargs, prompt="")
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


def _train_files(values: tuple[str, ...]) -> dict[str, str]:
    files = {}
    for value in values:
        task, sep, path = value.partition("=")
        if not sep or not task or not path:
            raise click.UsageError(f"--train-file {value!r}: expected TASK=PATH, e.g. mnli=multinli_1.0_train.jsonl")
        files[task] = path
    return files


@main.command("train")
@dataclass_options(
    TrainConfig,
    replace={
        "tasks": click.option(
            "--tasks",
            required=True,
            help="Comma list of task cards, e.g. mnli or anli_plus,mnli,qqp (rx tasks list).",
        ),
        "train_files": click.option(
            "--train-file",
            "train_files",
            multiple=True,
            metavar="TASK=PATH",
            help="A local file in the task's original format instead of the hub (repeatable).",
        ),
    },
)
def train_command(tasks: str, train_files: tuple[str, ...], **kwargs: Any) -> None:
    """Train an encoder on English intermediate task(s) or a target task; writes a run folder that every rx
    command accepts as MODEL (a sentence-transformers model + heads/ + run.json)."""
    from retrieval_xfer.training.distributed import is_main_process
    from retrieval_xfer.workflows.train import train_phase

    config = TrainConfig(
        tasks=[t.strip() for t in tasks.split(",") if t.strip()], train_files=_train_files(train_files), **kwargs
    )
    run = train_phase(config).run
    if run["distributed"]["world_size"] > 1 and not is_main_process():
        return  # one summary line per run, from the main process
    click.echo(
        f"trained {', '.join(run['tasks'])} for {run['steps']} steps in {run['train_seconds']:.0f}s "
        f"(mean loss {run['train_loss']:.4f}) -> {config.out}"
    )


@main.group("tasks", cls=RxGroup)
def tasks_group() -> None:
    """The task cards in tasks/ (one YAML file per task)."""


@tasks_group.command("list")
@click.option("--wide", is_flag=True, help="Every column in full, with every hub source (wider than 100 columns).")
def tasks_list(wide: bool) -> None:
    """Every task with its kind, format, head and data sources (the first hub source and how many more)."""
    from retrieval_xfer.data.cards import describe_sources, list_cards
    from retrieval_xfer.evaluation.results import format_table

    def fit(text: str, width: int = 28) -> str:
        return text if wide or len(text) <= width else text[: width - 1] + "…"

    if wide:
        rows = [
            [c.name, c.kind, c.format, c.head or c.evaluator or "-", *describe_sources(c, True)] for c in list_cards()
        ]
        click.echo(format_table(["task", "kind", "format", "head", "hub", "local format"], rows))
        return
    rows = [
        [
            c.name,
            c.kind,
            c.head or c.evaluator or "-",
            fit(describe_sources(c)[0]),
            fit(describe_sources(c)[1], 22),
        ]
        for c in list_cards()
    ]
    click.echo(format_table(["task", "kind", "head", "hub (--wide: all)", "local format"], rows))


class EvalGroup(RxGroup):
    """``rx eval``: tatoeba and bucc, plus one command per zero-shot card, made when first asked for.

    A card that breaks its schema is reported (one line, exit 1) when ``rx eval`` is used; it never silently
    removes commands, and ``rx --help`` does not read the cards at all."""

    def _card_commands(self) -> dict[str, click.Command]:
        from retrieval_xfer.data.cards import list_cards

        try:
            return {c.name: _zero_shot_command(c) for c in list_cards() if c.kind == "zero-shot"}
        except RxError as err:
            raise click.ClickException(str(err)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._card_commands()])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._card_commands().get(cmd_name)


@main.group("eval", cls=EvalGroup)
def eval_group() -> None:
    """Evaluate zero-shot on an XTREME task: retrieval (tatoeba, bucc) with an encoder, the other seven with a
    run's task head. Prints a table and writes a JSON result file."""


scoring_center_option = center_option(
    "language: also score with each language's mean vector removed (transductive: the means come from the "
    "sentences being retrieved), in columns of their own."
)

layers_option = click.option(
    "--layers",
    default=None,
    metavar="all|K,K,...",
    help="Layer sweep: score every listed layer ('all' = 0..N) from one forward pass per corpus; the result "
    "file gets a layer_sweep section (rx report plots it). The headline scores are those of --layer if "
    "given, else of the layer the command would use without a sweep. Needs memory for one corpus x all layers.",
)


result_overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace an existing --output (only a result file rx wrote)."
)


def _finish(result: dict[str, Any], table: str, output: Path | None, task: str) -> None:
    from retrieval_xfer.evaluation.results import default_result_path, layer_sweep_table, write_results

    if "layer_sweep" in result:
        table = f"{table}\n\n{layer_sweep_table(result)}"
    path = write_results(output or default_result_path(task, result), result)
    click.echo(table)
    click.echo(f"results written to {path}")


@eval_group.command("tatoeba")
@encoder_options
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with the LASER files tatoeba.XXX-eng.{XXX,eng}. Default: the Hugging Face Hub.",
)
@click.option(
    "--langs",
    default="xtreme",
    show_default=True,
    help="'xtreme' (36 languages), 'demo' (8: de fr zh ar af sw jv te), 'all' (112), or codes like "
    "de,fr,swh (ISO 639-1 or 639-3).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="First N sentence pairs per language (a quick look; not comparable with full scores).",
)
@scoring_center_option
@layers_option
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Result JSON. Default: results/tatoeba-<model>-L<layer>-<time>.json",
)
@result_overwrite_option
def eval_tatoeba(
    data_dir: Path | None,
    langs: str,
    limit: int | None,
    center: str,
    layers: str | None,
    output: Path | None,
    overwrite: bool,
    **kwargs: Any,
) -> None:
    """Tatoeba accuracy per language in both directions (en->xx is XTREME's number, xx->en MTEB's)."""
    from retrieval_xfer.evaluation.results import check_result_path
    from retrieval_xfer.evaluation.tatoeba import run_tatoeba, tatoeba_table

    check_result_path(output, overwrite)  # before the model loads
    result = run_tatoeba(_take(EncoderOptions, kwargs), langs, data_dir, layers, limit=limit, center=center)
    _finish(result, tatoeba_table(result), output, "tatoeba")


@eval_group.command("bucc")
@encoder_options
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with BUCC files (PAIR.sample.*/PAIR.dev.*, PAIR.training.*/PAIR.test.*). Default: hub "
    "copy, which holds only the gold pairs.",
)
@click.option("--pairs", default=None, help="Comma list, e.g. zh-en,de-en. Default: every pair found in --data-dir.")
@dataclass_options(MiningOptions)
@with_index_options
@mining_ray_option
@click.option(
    "--predictions-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write predicted pairs of the scored split. Default: next to the result JSON.",
)
@scoring_center_option
@click.option(
    "--allow-missing-gold",
    is_flag=True,
    help="Leave out (with a warning, counted in the result) gold pairs whose ids are not in the corpora; "
    "by default they are an error.",
)
@layers_option
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Result JSON. Default: results/bucc2018-<model>-L<layer>-<time>.json",
)
@result_overwrite_option
def eval_bucc(
    data_dir: Path | None,
    pairs: str | None,
    predictions_dir: Path | None,
    ray_address: str | None,
    center: str,
    allow_missing_gold: bool,
    layers: str | None,
    output: Path | None,
    overwrite: bool,
    **kwargs: Any,
) -> None:
    """BUCC 2018 mining F1: threshold tuned on the sample split, applied to the training/test split. Mining
    options not given take the card's (tasks/bucc2018.yaml: k=4, ratio margin, max retrieval, as XTREME)."""
    from retrieval_xfer.evaluation.bucc import bucc_table, run_bucc
    from retrieval_xfer.evaluation.results import check_result_path

    check_result_path(output, overwrite)  # before the model loads
    mining = _take(MiningOptions, kwargs)
    index = _index_params(kwargs)
    predictions = predictions_dir or (output.parent if output else Path("results")) / "bucc-predictions"
    result = run_bucc(
        _take(EncoderOptions, kwargs),
        mining,
        pairs,
        data_dir,
        layers,
        predictions,
        index,
        allow_missing_gold,
        center,
        ray=ray_address,
    )
    _finish(result, bucc_table(result), output, "bucc2018")


def _zero_shot_command(card: TaskCard) -> click.Command:
    """``rx eval <task>`` for a zero-shot card: one command per card, so a new card is a new command."""
    name = card.name

    @click.command(
        name,
        help=f"Zero-shot {name} ({card.format}, {card.metric}): scores a run's "
        f"{card.head} head ({' or '.join(card.trained_by)}) on each language and "
        f"their average. Writes a JSON result file.",
    )
    @click.option(
        "--model",
        required=True,
        type=click.Path(path_type=Path),
        help="A run folder written by rx train, with a head for this task.",
    )
    @dataclass_options(
        ZeroShotOptions,
        replace={
            "data_dir": click.option(
                "--data-dir",
                type=click.Path(path_type=Path),
                default=None,
                help=f"Folder with the files ({', '.join(card.sources['local']['files'])}). Default: the hub.",
            ),
            "data_files": click.option(
                "--data-file",
                "data_files",
                multiple=True,
                metavar="[LANG=]PATH",
                help="One language's file (repeatable); the language comes from the name or LANG=.",
            ),
        },
    )
    @click.option(
        "--output",
        type=click.Path(path_type=Path),
        default=None,
        help=f"Result JSON. Default: results/{name}-<run>-<time>.json",
    )
    @result_overwrite_option
    @click.option("--quiet", is_flag=True, help="No progress bars.")
    def command(model: Path, output: Path | None, overwrite: bool, quiet: bool, **kwargs: Any) -> None:
        from retrieval_xfer.evaluation.results import check_result_path, output_path, write_results
        from retrieval_xfer.evaluation.zero_shot import evaluate_run, zero_shot_table

        check_result_path(output, overwrite)  # before the model loads
        options = _take(ZeroShotOptions, kwargs)
        result = evaluate_run(model, name, options, show_progress=not quiet)
        split = options.split
        click.echo(
            f"model: {model} | head {result['head']} | {len(result['scores'])} language(s), split {split}", err=True
        )
        path = write_results(output or output_path(name, str(model)), result)
        click.echo(zero_shot_table(result))
        click.echo(f"results written to {path}")

    return command


@main.command()
@encoder_options
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with the LASER Tatoeba files. Default: the Hugging Face Hub.",
)
@click.option(
    "--langs",
    default="xtreme",
    show_default=True,
    help="'xtreme' (36), 'demo' (8), 'all' (112) or codes (two at least; English is always there).",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N sentence pairs per language.")
@layers_option
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Result JSON. Default: results/diagnose-<model>-L<layers>-<time>.json",
)
@result_overwrite_option
def diagnose(
    data_dir: Path | None,
    langs: str,
    limit: int | None,
    layers: str | None,
    output: Path | None,
    overwrite: bool,
    **kwargs: Any,
) -> None:
    """How aligned the languages are, per layer and language (Tatoeba): retrieval raw and with each language's
    mean removed (the gain says how much misalignment is a constant shift), a language-ID probe, alignment,
    uniformity and hubness. rx report shows it beside the XTREME table."""
    from retrieval_xfer.evaluation.diagnostics import diagnose_table, run_diagnose
    from retrieval_xfer.evaluation.results import check_result_path, output_path, write_results

    check_result_path(output, overwrite)  # before the model loads
    result = run_diagnose(_take(EncoderOptions, kwargs), langs, data_dir, layers, limit)
    numbers = sorted(int(layer) for layer in result["layers"])
    path = write_results(output or output_path("diagnose", result["model"], f"L{numbers[0]}-{numbers[-1]}"), result)
    click.echo(diagnose_table(result))
    click.echo(f"results written to {path}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--baseline",
    default=None,
    help="The run to compare with: a run name or its folder (e.g. results/xlmr-base/). Adds deltas, the "
    "low-resource view and the gain plots.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("report"),
    show_default=True,
    help="Folder for report.md, the CSV files and the PNG pictures.",
)
@click.option("--overwrite", is_flag=True, help="Redraw an existing --out (only a folder of rx report's own files).")
def report(paths: tuple[Path, ...], baseline: str | None, out: Path, overwrite: bool) -> None:
    """Collect result files (PATHS: folders or files; results/<run>/*.json names the run) into the XTREME
    table, per-language tables, deltas against --baseline, gain by resource level, and layer sweeps."""

    from retrieval_xfer.evaluation.report import (
        build_report,
        collect_diagnostics,
        collect_results,
        resolve_baseline,
        xtreme_table,
    )
    from retrieval_xfer.evaluation.report_files import check_report_folder, write_report

    check_report_folder(out, overwrite)  # before reading the results
    search, baseline_name = resolve_baseline(list(paths), baseline)
    built = build_report(collect_results(search), baseline_name, collect_diagnostics(search))
    written = write_report(built, out, overwrite)
    click.echo(xtreme_table(built))
    click.echo(f"report written to {out}: {', '.join(p.name for p in written)}")


@main.command()
@click.argument("experiment_file", type=click.Path(path_type=Path))
@click.option(
    "--dry-run",
    is_flag=True,
    help="List the steps, which are done, and what each training step will train on (examples x epochs); run nothing.",
)
@click.option("--quiet", is_flag=True, help="No progress bars (step lines are still printed).")
@ray_option(
    "Run the steps as Ray tasks, each as soon as the steps it needs are done, with the file's "
    "'resources' per step kind: on a cluster (HOST:PORT, ray://HOST:PORT) or, without an address, on "
    "a local Ray. runs_dir must be storage every node sees. Needs the ray extra."
)
def experiment(experiment_file: Path, dry_run: bool, quiet: bool, ray_address: str | None) -> None:
    """Run a grid (base models x intermediate task sets x target tasks) from a YAML file: training phases,
    zero-shot and retrieval evaluations, then the report. Steps whose output exists are skipped, so running
    it again after a crash picks up where it stopped. See experiments/xstilts-small.yaml."""
    from retrieval_xfer.experiment.runner import run_experiment
    from retrieval_xfer.experiment.spec import load_spec

    spec = load_spec(experiment_file)
    click.echo(
        f"experiment {spec.name}: runs -> {spec.runs_dir}, results -> {spec.results_dir}, report -> {spec.report_dir}"
    )
    if ray_address and not dry_run:
        from retrieval_xfer.experiment.ray_executor import run_experiment_on_ray

        grid = run_experiment_on_ray(spec, None if ray_address == "local" else ray_address, quiet=True)
        counts = {s: sum(1 for _, status in grid.statuses if status == s) for s in ("ran", "done", "failed", "blocked")}
        click.echo(
            f"{counts['ran']} step(s) run, {counts['done']} already done, {counts['failed']} failed, "
            f"{counts['blocked']} not run (a step they need failed)"
        )
        for step, error, log in grid.failures:
            click.echo(f"FAILED {step.label}: {error} (log: {log})")
        if grid.failures:
            raise SystemExit(1)
        click.echo(f"report in {spec.report_dir}/report.md")
        return
    statuses = run_experiment(spec, dry_run=dry_run, quiet=quiet)
    counts = {s: sum(1 for _, status in statuses if status == s) for s in ("ran", "done", "to run")}
    click.echo(
        f"{counts['ran']} step(s) run, {counts['done']} already done"
        + (f", {counts['to run']} to run" if dry_run else f"; report in {spec.report_dir}/report.md")
    )


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
def export(
    input_path: Path,
    input_format: str,
    skip_blank: bool,
    out: Path,
    shard_size: int,
    dtype: str,
    ray_address: str | None,
    **kwargs: Any,
) -> None:
    """Write embeddings as .npy shards + ids + manifest.json, streaming the input. Re-running after an
    interruption resumes from the last complete shard."""
    from retrieval_xfer.export.shards import export_corpus

    manifest = export_corpus(
        _take(EncoderOptions, kwargs),
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
@encoder_options_with_optional_model("a text side (not needed for exports or .npy)")
@click.option(
    "--src",
    required=True,
    type=click.Path(path_type=Path),
    help="Source side: a text corpus, an rx export folder, or a .npy matrix (float32/float16).",
)
@click.option("--trg", required=True, type=click.Path(path_type=Path), help="Target side: same kinds as --src.")
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
@with_index_options
@mining_ray_option
@center_option("language: remove each side's mean vector (estimated from that side) before mining.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out (never an input).")
@no_verify_option
def mine(
    src: Path,
    trg: Path,
    input_format: str,
    skip_blank: bool,
    out: Path,
    threshold: float | str | None,
    ray_address: str | None,
    center: str,
    overwrite: bool,
    no_verify: bool,
    **kwargs: Any,
) -> None:
    """Margin-based bitext mining between two sides (the BUCC machinery), best pairs first. Mining options not
    given take BUCC's (k=4, ratio margin, max retrieval). Exports are mined without re-encoding; the exact k-NN
    runs out of core under --max-memory and resumes after a kill (run the same command again)."""
    from retrieval_xfer.workflows import mine as mining_workflow

    mining = _take(MiningOptions, kwargs)
    post = _take(PostFilters, kwargs)
    auto = _take(AutoThresholdOptions, kwargs)
    index = _index_params(kwargs)
    options = _take(EncoderOptions, kwargs)
    job = mining_workflow.MineJob(
        src,
        trg,
        out,
        mining,
        threshold,
        index,
        input_format,
        "skip" if skip_blank else "error",
        device=options.device,
        ray=ray_address,
        center=center,
        overwrite=overwrite,
        verify=not no_verify,
        post=post,
        auto=auto,
    )
    summary = mining_workflow.mine(job, options if options.model else None, quiet=options.quiet)
    click.echo(mining_workflow.format_summary(summary, out))


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

    line_filter = _take(LineFilter, kwargs)
    options = _take(PrepareOptions, kwargs, line_filter=line_filter)
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


if __name__ == "__main__":
    main()
