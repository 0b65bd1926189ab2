"""The ``rx`` command line: parse options, call the library, print. No logic a Python user could not call."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from retrieval_xfer.errors import RxError
from retrieval_xfer.version import __version__


class RxGroup(click.Group):
    """A click group that turns library errors into one-line messages and exit code 1 (never a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RxError as err:
            raise click.ClickException(str(err)) from None


def encoder_options(func: Callable) -> Callable:
    """The options shared by every command that encodes text."""
    options = [
        click.option("--model", required=True, help="Hub id or local folder (sentence-transformers or transformers)."),
        click.option("--layer", type=int, default=None,
                     help="hidden_states index to mean-pool: 0 = embeddings, N = last, -1 = last. Default: "
                          "min(N, N//2+2) for a transformers model; a sentence-transformers model keeps its own pipeline."),
        click.option("--pool-skip-special", is_flag=True, help="Leave special tokens (<s>, </s>) out of the mean."),
        click.option("--prompt", default="", show_default=True, help='Text prepended to every sentence, e.g. "query: ".'),
        click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True),
        click.option("--max-length", type=click.IntRange(min=1), default=None,
                     help="Tokens per sentence (longer ones are truncated). Default: the model's."),
        click.option("--device", default=None, help="cpu, cuda, cuda:1, mps... Default: cuda if available, else cpu."),
        click.option("--precision", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32",
                     show_default=True, help="Compute precision (bfloat16 is fast on GPUs; keep float32 on CPU)."),
        click.option("--quiet", is_flag=True, help="No progress bars."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _load_encoder(opts: dict[str, Any], layer: int | None = None, pool_skip_special: bool | None = None,
                  prompt: str | None = None):
    from retrieval_xfer.encoding import load_encoder

    encoder = load_encoder(
        opts["model"], opts["layer"] if layer is None else layer,
        pool_skip_special=opts["pool_skip_special"] if pool_skip_special is None else pool_skip_special,
        prompt=opts["prompt"] if prompt is None else prompt, max_length=opts["max_length"], device=opts["device"],
        precision=opts["precision"], batch_size=opts["batch_size"], show_progress=not opts["quiet"],
    )
    spec = encoder.spec
    click.echo(f"encoder: {spec.model} | layer {spec.layer} of {spec.num_layers} | pooling {spec.pooling} | "
               f"prompt {spec.prompt!r} | dim {spec.dimension}", err=True)
    return encoder


def _split_encoder_opts(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("model", "layer", "pool_skip_special", "prompt", "batch_size", "max_length", "device", "precision", "quiet")
    return {key: kwargs.pop(key) for key in keys}


@click.group(cls=RxGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="rx")
def main() -> None:
    """retrieval_xfer: encode with a multilingual encoder at a chosen layer, index with FAISS, and evaluate
    zero-shot cross-lingual retrieval (BUCC, Tatoeba) as XTREME does.

    \b
    Typical use:
      rx eval tatoeba --model intfloat/multilingual-e5-small --langs xtreme --prompt "query: "
      rx eval bucc --model xlm-roberta-large --data-dir bucc2018 --pairs zh-en
      rx build-index --model MODEL --input corpus.txt --out indices/news
      rx search indices/news --model MODEL "a query sentence" -k 5
    """


corpus_options = [
    click.option("--input-format", type=click.Choice(["lines", "tsv"]), default="lines", show_default=True,
                 help="lines: one sentence per line, id = line number. tsv: id<TAB>sentence (BUCC layout)."),
    click.option("--skip-blank", is_flag=True,
                 help="Drop blank lines (default: a blank line is an error). Ids stay line numbers."),
]


def with_corpus_options(func: Callable) -> Callable:
    """The options that say how a corpus file is read."""
    for option in reversed(corpus_options):
        func = option(func)
    return func


@main.command("build-index")
@encoder_options
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path), help="Corpus file (UTF-8).")
@with_corpus_options
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Index folder to create. Default: indices/<input file name>.")
@click.option("--index-type", type=click.Choice(["flat", "ivf", "hnsw", "ivfpq"]), default="flat", show_default=True,
              help="flat = exact; ivf/ivfpq = clustered (faster, approximate); hnsw = graph.")
@click.option("--nlist", type=click.IntRange(min=1), default=None, help="ivf/ivfpq cells. Default: ~4*sqrt(n).")
@click.option("--nprobe", type=click.IntRange(min=1), default=16, show_default=True, help="ivf/ivfpq cells searched.")
@click.option("--hnsw-m", type=click.IntRange(min=2), default=32, show_default=True, help="hnsw links per node.")
@click.option("--ef-search", type=click.IntRange(min=1), default=128, show_default=True, help="hnsw search breadth.")
@click.option("--pq-m", type=click.IntRange(min=1), default=None, help="ivfpq sub-vectors. Default: dimension/8.")
@click.option("--pq-bits", type=click.IntRange(min=1, max=16), default=8, show_default=True)
@click.option("--no-sentences", is_flag=True, help="Do not store the sentences (search then shows ids only).")
@click.option("--overwrite", is_flag=True, help="Replace an existing index folder.")
def build_index(input_path: Path, input_format: str, skip_blank: bool, out: Path | None, index_type: str,
                nlist: int | None, nprobe: int, hnsw_m: int, ef_search: int, pq_m: int | None, pq_bits: int,
                no_sentences: bool, overwrite: bool, **kwargs: Any) -> None:
    """Encode a corpus and save a FAISS index folder (index.faiss, ids.txt, sentences.txt, meta.json)."""
    from retrieval_xfer.data.text_files import read_corpus
    from retrieval_xfer.indexing import IndexParams
    from retrieval_xfer.indexing.build import build_index_folder

    opts = _split_encoder_opts(kwargs)
    out = out or Path("indices") / input_path.name
    if out.exists() and not overwrite:
        raise RxError(f"{out}: already exists (pass --overwrite to replace it)")
    ids, sentences = read_corpus(input_path, input_format, "skip" if skip_blank else "error")
    encoder = _load_encoder(opts)
    params = IndexParams(kind=index_type, nlist=nlist, nprobe=nprobe, hnsw_m=hnsw_m, ef_search=ef_search,
                         pq_m=pq_m, pq_bits=pq_bits)
    meta = build_index_folder(encoder, ids, sentences, out, params, source=str(input_path),
                              store_sentences=not no_sentences, overwrite=overwrite)
    click.echo(f"indexed {meta.count} sentences ({meta.index['kind']}, dim {meta.spec.dimension}) "
               f"in {meta.build_seconds:.1f}s -> {out}")


@main.command()
@click.argument("index_dir", type=click.Path(path_type=Path))
@click.argument("queries", nargs=-1, required=True)
@encoder_options
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="Results per query.")
@click.option("--nprobe", type=click.IntRange(min=1), default=None, help="Override the index's nprobe (ivf types).")
@click.option("--ef-search", type=click.IntRange(min=1), default=None, help="Override the index's efSearch (hnsw).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON lines.")
def search(index_dir: Path, queries: tuple[str, ...], k: int, nprobe: int | None, ef_search: int | None,
           as_json: bool, **kwargs: Any) -> None:
    """Find the sentences of INDEX_DIR nearest to each QUERY. The encoder must match the one that built it.

    --layer, --pool-skip-special and --prompt default to the index's own settings.
    """
    from retrieval_xfer.indexing import check_compatible, load_index
    from retrieval_xfer.indexing.factory import IndexParams, apply_search_params

    opts = _split_encoder_opts(kwargs)
    saved = load_index(index_dir)
    built = saved.meta.spec
    own = built.pooling.startswith("own:")
    layer = opts["layer"] if opts["layer"] is not None else (None if own else built.layer)
    skip = opts["pool_skip_special"] or built.pooling == "mean-no-special"
    encoder = _load_encoder(opts, layer=layer, pool_skip_special=skip, prompt=opts["prompt"] or built.prompt)
    check_compatible(built, encoder.spec, str(index_dir))
    params = IndexParams(**saved.meta.index)
    params.nprobe = nprobe or params.nprobe
    params.ef_search = ef_search or params.ef_search
    apply_search_params(saved.index, params)
    scores, rows = saved.search(encoder.encode(list(queries), desc="queries"), k)
    for query, query_scores, query_rows in zip(queries, scores, rows):
        hits = [{"rank": r + 1, "score": float(s), "id": saved.ids[i],
                 "sentence": saved.sentences[i] if saved.sentences else None}
                for r, (s, i) in enumerate(zip(query_scores, query_rows)) if i >= 0]
        if as_json:
            click.echo(json.dumps({"query": query, "hits": hits}, ensure_ascii=False))
            continue
        click.echo(f"query: {query}")
        for hit in hits:
            click.echo(f"  {hit['rank']:>3}  {hit['score']:.4f}  {hit['id']}  {hit['sentence'] or ''}")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def info(folder: Path) -> None:
    """Describe an index folder (or an export folder): model, layer, pooling, count, dimension, build time."""
    from retrieval_xfer.info import describe_folder

    click.echo(describe_folder(folder))


def _train_files(values: tuple[str, ...]) -> dict[str, str]:
    files = {}
    for value in values:
        task, sep, path = value.partition("=")
        if not sep or not task or not path:
            raise click.UsageError(f"--train-file {value!r}: expected TASK=PATH, e.g. mnli=multinli_1.0_train.jsonl")
        files[task] = path
    return files


@main.command("train")
@click.option("--tasks", required=True, help="Comma list of task cards, e.g. mnli or anli_plus,mnli,qqp (rx tasks list).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Run folder to create.")
@click.option("--base", default=None, help="Model to start from: hub id or folder (e.g. xlm-roberta-large).")
@click.option("--init", type=click.Path(path_type=Path), default=None,
              help="Continue from a previous run folder (its encoder, and the heads of tasks trained again).")
@click.option("--train-file", "train_files", multiple=True, metavar="TASK=PATH",
              help="A local file in the task's original format instead of the hub (repeatable).")
@click.option("--mlm-file", type=click.Path(path_type=Path), default=None,
              help="One sentence per line, any languages: adds a masked-LM task to the mixture.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Use the first N examples of each task.")
@click.option("--max-examples-per-task", type=click.IntRange(min=1), default=None,
              help="Cap on training rows per task (after QA windowing), for the sampler's sizes too.")
@click.option("--sampling", type=click.Choice(["proportional", "round-robin", "temperature"]), default="proportional",
              show_default=True, help="How tasks interleave; one task per batch.")
@click.option("--temperature", type=float, default=2.0, show_default=True, help="T of p ∝ n^(1/T) for --sampling temperature.")
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--max-steps", type=int, default=-1, help="Stop after this many optimizer steps (overrides --epochs).")
@click.option("--lr", type=float, default=1e-5, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--grad-accum", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--max-length", type=click.IntRange(min=8), default=None, help="Tokens per example. Default: each card's.")
@click.option("--warmup", type=float, default=0.1, show_default=True, help="Warm-up, as a fraction of the steps.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--save-steps", type=click.IntRange(min=1), default=500, show_default=True, help="Checkpoint interval.")
@click.option("--logging-steps", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in --out from its last checkpoint.")
@click.option("--report-to", default="none", show_default=True, help="Passed to transformers, e.g. tensorboard.")
@click.option("--eval-every", type=click.IntRange(min=1), default=None,
              help="Every N steps, Tatoeba accuracy on --eval-langs (logged to eval_log.jsonl and run.json).")
@click.option("--eval-data", type=click.Path(path_type=Path), default=None, help="Tatoeba folder for --eval-every.")
@click.option("--eval-langs", default="de,sw,jv", show_default=True, help="Languages for --eval-every.")
@click.option("--eval-layer", type=int, default=None, help="Layer pooled for --eval-every. Default: rx's default layer.")
@click.option("--eval-prompt", default="", help='Prompt for --eval-every, e.g. "query: ".')
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train_command(tasks: str, train_files: tuple[str, ...], **kwargs: Any) -> None:
    """Train an encoder on English intermediate task(s) or a target task; writes a run folder that every rx
    command accepts as MODEL (a sentence-transformers model + heads/ + run.json)."""
    from retrieval_xfer.training.runner import TrainConfig, train

    config = TrainConfig(tasks=[t.strip() for t in tasks.split(",") if t.strip()],
                         train_files=_train_files(train_files), **kwargs)
    result = train(config)
    run = result.run
    click.echo(f"trained {', '.join(run['tasks'])} for {run['steps']} steps in {run['train_seconds']:.0f}s "
               f"(mean loss {run['train_loss']:.4f}) -> {config.out}")


@main.group("tasks", cls=RxGroup)
def tasks_group() -> None:
    """The task cards in tasks/ (one YAML file per task)."""


@tasks_group.command("list")
def tasks_list() -> None:
    """Every task with its kind, format, head and data sources."""
    from retrieval_xfer.evaluation.results import format_table
    from retrieval_xfer.tasks import describe_sources, list_cards

    rows = [[c["name"], c["kind"], c["format"], c.get("head") or c.get("evaluator", "-"), *describe_sources(c)]
            for c in list_cards()]
    click.echo(format_table(["task", "kind", "format", "head", "hub", "local format"], rows))


@main.group("eval", cls=RxGroup)
def eval_group() -> None:
    """Evaluate zero-shot on an XTREME task: retrieval (tatoeba, bucc) with an encoder, the other seven with a
    run's task head. Prints a table and writes a JSON result file."""


layers_option = click.option(
    "--layers", default=None, metavar="all|K,K,...",
    help="Layer sweep: score every listed layer ('all' = 0..N) from one forward pass per corpus; the result "
         "file gets a layer_sweep section (rx report plots it). Needs memory for one corpus x all layers.")


def _load_encoder_or_sweep(opts: dict[str, Any], layers: str | None):
    if layers is None:
        return _load_encoder(opts)
    from retrieval_xfer.encoding import load_layer_sweep

    if opts["layer"] is not None:
        raise click.UsageError("give --layer or --layers, not both")
    sweep = load_layer_sweep(
        opts["model"], layers, pool_skip_special=opts["pool_skip_special"], prompt=opts["prompt"],
        max_length=opts["max_length"], device=opts["device"], precision=opts["precision"],
        batch_size=opts["batch_size"], show_progress=not opts["quiet"])
    click.echo(f"encoder: {sweep.spec.model} | layers {', '.join(map(str, sweep.layers))} of {sweep.spec.num_layers} "
               f"(one forward) | pooling {sweep.spec.pooling} | prompt {sweep.spec.prompt!r}", err=True)
    return sweep


def _finish(result: dict[str, Any], table: str, output: Path | None, task: str, encoder: Any) -> None:
    from retrieval_xfer.encoding import LayerSweepEncoder
    from retrieval_xfer.evaluation.results import layer_sweep_table, output_path, write_results

    if isinstance(encoder, LayerSweepEncoder):
        tag = f"L{encoder.layers[0]}-{encoder.layers[-1]}"
        table = f"{table}\n\n{layer_sweep_table(result)}"
    else:
        tag = f"L{encoder.spec.layer}"
    path = write_results(output or output_path(task, encoder.spec.model, tag), result)
    click.echo(table)
    click.echo(f"results written to {path}")


@eval_group.command("tatoeba")
@encoder_options
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder with the LASER files tatoeba.XXX-eng.{XXX,eng}. Default: the Hugging Face Hub.")
@click.option("--langs", default="xtreme", show_default=True,
              help="'xtreme' (36 languages), 'all' (112), or codes like de,fr,swh (ISO 639-1 or 639-3).")
@layers_option
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Result JSON. Default: results/tatoeba-<model>-L<layer>-<time>.json")
def eval_tatoeba(data_dir: Path | None, langs: str, layers: str | None, output: Path | None, **kwargs: Any) -> None:
    """Tatoeba accuracy per language in both directions (en->xx is XTREME's number, xx->en MTEB's)."""
    from retrieval_xfer.data.tatoeba import resolve_languages
    from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, tatoeba_table
    from retrieval_xfer.tasks import load_card

    opts = _split_encoder_opts(kwargs)
    card = load_card("tatoeba")
    languages = resolve_languages(langs, card)
    encoder = _load_encoder_or_sweep(opts, layers)
    result = evaluate_tatoeba(encoder, languages, card, data_dir)
    _finish(result, tatoeba_table(result), output, "tatoeba", encoder)


@eval_group.command("bucc")
@encoder_options
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Folder with BUCC files (PAIR.sample.*/PAIR.dev.*, PAIR.training.*/PAIR.test.*). Default: hub "
                   "copy, which holds only the gold pairs.")
@click.option("--pairs", default=None, help="Comma list, e.g. zh-en,de-en. Default: every pair found in --data-dir.")
@click.option("-k", "k", type=click.IntRange(min=1), default=None, help="Neighbours for the margin. Default: the card's (4).")
@click.option("--margin", type=click.Choice(["ratio", "distance", "absolute"]), default=None,
              help="Default: the card's (ratio).")
@click.option("--retrieval", type=click.Choice(["max", "fwd", "bwd", "intersect"]), default=None,
              help="Default: the card's (max).")
@click.option("--predictions-dir", type=click.Path(path_type=Path), default=None,
              help="Where to write predicted pairs of the scored split. Default: next to the result JSON.")
@layers_option
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Result JSON. Default: results/bucc2018-<model>-L<layer>-<time>.json")
def eval_bucc(data_dir: Path | None, pairs: str | None, k: int | None, margin: str | None, retrieval: str | None,
              predictions_dir: Path | None, layers: str | None, output: Path | None, **kwargs: Any) -> None:
    """BUCC 2018 mining F1: threshold tuned on the sample split, applied to the training/test split."""
    from retrieval_xfer.data.bucc import resolve_pairs
    from retrieval_xfer.evaluation.bucc import bucc_table, evaluate_bucc
    from retrieval_xfer.tasks import load_card

    opts = _split_encoder_opts(kwargs)
    card = load_card("bucc2018")
    pair_list = resolve_pairs(pairs, data_dir, card)
    encoder = _load_encoder_or_sweep(opts, layers)
    predictions = predictions_dir or (output.parent if output else Path("results")) / "bucc-predictions"
    mining = card["mining"]  # the protocol lives in tasks/bucc2018.yaml; options override it
    result = evaluate_bucc(encoder, pair_list, card, data_dir, k=k or mining["k"], margin=margin or mining["margin"],
                           retrieval=retrieval or mining["retrieval"], predictions_dir=predictions)
    _finish(result, bucc_table(result), output, "bucc2018", encoder)


def _zero_shot_command(card: dict[str, Any]) -> click.Command:
    """``rx eval <task>`` for a zero-shot card: one command per card, so a new card is a new command."""
    name = card["name"]

    @click.command(name, help=f"Zero-shot {name} ({card['format']}, {card['metric']}): scores a run's "
                              f"{card['head']} head ({' or '.join(card['trained_by'])}) on each language and "
                              f"their average. Writes a JSON result file.")
    @click.option("--model", required=True, type=click.Path(path_type=Path),
                  help="A run folder written by rx train, with a head for this task.")
    @click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                  help=f"Folder with the files ({', '.join(card['sources']['local']['files'])}). Default: the hub.")
    @click.option("--data-file", "data_files", multiple=True, metavar="[LANG=]PATH",
                  help="One language's file (repeatable); the language comes from the name or LANG=.")
    @click.option("--langs", default="all", show_default=True,
                  help="'all' (every language with data), 'xtreme' (the card's list) or codes like de,sw.")
    @click.option("--split", type=click.Choice(["dev", "test"]), default="dev", show_default=True)
    @click.option("--head", "head_task", default=None, help="Which head of the run to use (default: the card's choice).")
    @click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
    @click.option("--max-length", type=click.IntRange(min=8), default=None, help="Tokens per window. Default: the card's.")
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="First N examples per language (a quick look).")
    @click.option("--device", default=None, help="cpu, cuda, ... Default: cuda if available.")
    @click.option("--precision", type=click.Choice(["float32", "bfloat16", "float16"]), default="float32",
                  show_default=True, help="Compute precision (bfloat16 is fast on GPUs; keep float32 on CPU).")
    @click.option("--output", type=click.Path(path_type=Path), default=None,
                  help=f"Result JSON. Default: results/{name}-<run>-<time>.json")
    @click.option("--quiet", is_flag=True, help="No progress bars.")
    def command(model: Path, data_dir: Path | None, data_files: tuple[str, ...], langs: str, split: str,
                head_task: str | None, batch_size: int, max_length: int | None, limit: int | None,
                device: str | None, precision: str, output: Path | None, quiet: bool) -> None:
        from retrieval_xfer.evaluation.results import output_path, write_results
        from retrieval_xfer.evaluation.zero_shot import evaluate_run, zero_shot_table

        result = evaluate_run(model, name, data_dir=data_dir, data_files=data_files, langs=langs, split=split,
                              head=head_task, batch_size=batch_size, max_length=max_length, limit=limit,
                              device=device, precision=precision, show_progress=not quiet)
        click.echo(f"model: {model} | head {result['head']} | {len(result['scores'])} language(s), split {split}", err=True)
        path = write_results(output or output_path(name, str(model)), result)
        click.echo(zero_shot_table(result))
        click.echo(f"results written to {path}")

    return command


def _add_zero_shot_commands() -> None:
    from retrieval_xfer.tasks import list_cards

    try:
        cards = [c for c in list_cards() if c["kind"] == "zero-shot"]
    except RxError:
        return  # no task cards installed: `rx tasks list` says so
    for card in cards:
        eval_group.add_command(_zero_shot_command(card))


_add_zero_shot_commands()


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", default=None,
              help="The run to compare with: a run name or its folder (e.g. results/xlmr-base/). Adds deltas, the "
                   "low-resource view and the gain plots.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("report"), show_default=True,
              help="Folder for report.md, the CSV files and the PNG pictures.")
def report(paths: tuple[Path, ...], baseline: str | None, out: Path) -> None:
    """Collect result files (PATHS: folders or files; results/<run>/*.json names the run) into the XTREME
    table, per-language tables, deltas against --baseline, gain by resource level, and layer sweeps."""
    import warnings

    from retrieval_xfer.evaluation.report import build_report, collect_results, write_report, xtreme_table

    search = list(paths)
    baseline_name = baseline
    if baseline is not None and Path(baseline).is_dir():
        baseline_name = Path(baseline).resolve().name
        if not any(Path(baseline).resolve().is_relative_to(Path(p).resolve()) for p in paths):
            search.append(Path(baseline))
    built = build_report(collect_results(search), baseline_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = write_report(built, out)
    for warning in caught:
        click.echo(f"note: {warning.message}", err=True)
    click.echo(xtreme_table(built))
    click.echo(f"report written to {out}: {', '.join(p.name for p in written)}")


@main.command()
@click.argument("experiment_file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="List the steps and which are done; run nothing.")
@click.option("--quiet", is_flag=True, help="No progress bars (step lines are still printed).")
def experiment(experiment_file: Path, dry_run: bool, quiet: bool) -> None:
    """Run a grid (base models x intermediate task sets x target tasks) from a YAML file: training phases,
    zero-shot and retrieval evaluations, then the report. Steps whose output exists are skipped, so running
    it again after a crash picks up where it stopped. See experiments/xstilts-small.yaml."""
    from retrieval_xfer.experiment import load_spec, run_experiment

    spec = load_spec(experiment_file)
    click.echo(f"experiment {spec.name}: runs -> {spec.runs_dir}, results -> {spec.results_dir}, "
               f"report -> {spec.report_dir}")
    statuses = run_experiment(spec, dry_run=dry_run, quiet=quiet, echo=click.echo)
    counts = {s: sum(1 for _, status in statuses if status == s) for s in ("ran", "done", "to run")}
    click.echo(f"{counts['ran']} step(s) run, {counts['done']} already done"
               + (f", {counts['to run']} to run" if dry_run else f"; report in {spec.report_dir}/report.md"))


@main.command()
@encoder_options
@click.option("--input", "input_path", required=True, type=click.Path(path_type=Path), help="Corpus file (UTF-8).")
@with_corpus_options
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Export folder (created or resumed).")
@click.option("--shard-size", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--dtype", type=click.Choice(["float32", "float16"]), default="float32", show_default=True)
def export(input_path: Path, input_format: str, skip_blank: bool, out: Path, shard_size: int, dtype: str,
           **kwargs: Any) -> None:
    """Write embeddings as .npy shards + ids + manifest.json, streaming the input. Re-running after an
    interruption resumes from the last complete shard."""
    from retrieval_xfer.export.shards import export_embeddings

    opts = _split_encoder_opts(kwargs)
    encoder = _load_encoder(opts)
    manifest = export_embeddings(encoder, input_path, out, shard_size=shard_size, dtype=dtype, fmt=input_format,
                                 blank="skip" if skip_blank else "error")
    click.echo(f"exported {manifest['count']} embeddings in {len(manifest['shards'])} shard(s) -> {out}")


@main.command()
@encoder_options
@click.option("--src", required=True, type=click.Path(path_type=Path), help="Source corpus, one sentence per line.")
@click.option("--trg", required=True, type=click.Path(path_type=Path), help="Target corpus, one sentence per line.")
@with_corpus_options
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output: score<TAB>src<TAB>trg lines.")
@click.option("--threshold", type=float, default=None,
              help="Keep pairs scoring at least this (ratio margin: ~1.04-1.10 is typical). Default: keep all.")
@click.option("-k", "k", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--margin", type=click.Choice(["ratio", "distance", "absolute"]), default="ratio", show_default=True)
@click.option("--retrieval", type=click.Choice(["max", "fwd", "bwd", "intersect"]), default="max", show_default=True)
def mine(src: Path, trg: Path, input_format: str, skip_blank: bool, out: Path, threshold: float | None, k: int,
         margin: str, retrieval: str, **kwargs: Any) -> None:
    """Margin-based bitext mining between two corpora (the BUCC machinery), best pairs first."""
    from retrieval_xfer.atomic import atomic_write_text
    from retrieval_xfer.data.text_files import read_corpus
    from retrieval_xfer.mining.sentences import mine_sentences

    opts = _split_encoder_opts(kwargs)
    blank = "skip" if skip_blank else "error"
    _, src_sentences = read_corpus(src, input_format, blank)
    _, trg_sentences = read_corpus(trg, input_format, blank)
    encoder = _load_encoder(opts)
    tic = time.perf_counter()
    mined = mine_sentences(encoder, src_sentences, trg_sentences, k=k, margin=margin, retrieval=retrieval)
    cands = mined.candidates
    lines = [f"{score:.6f}\t{mined.src_texts[s]}\t{mined.trg_texts[t]}\n"
             for s, t, score in zip(cands.src.tolist(), cands.trg.tolist(), cands.score.tolist())
             if threshold is None or score >= threshold]
    atomic_write_text(out, "".join(lines))
    click.echo(f"mined {len(lines)} pairs (of {len(cands)} candidates) in {time.perf_counter() - tic:.1f}s -> {out}")


if __name__ == "__main__":
    main()
