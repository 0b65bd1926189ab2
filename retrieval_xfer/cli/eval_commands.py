"""``rx eval <task>`` (one command per evaluated task card, made from its evaluator in ``evaluation.registry``),
``rx diagnose`` and ``rx report``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from retrieval_xfer.cli.group import RxGroup, main
from retrieval_xfer.cli.options import dataclass_options, encoder_options, overwrite_result_option
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.confidence import BootstrapOptions
from retrieval_xfer.evaluation.retrieval_options import TatoebaOptions
from retrieval_xfer.field_checks import take_options

if TYPE_CHECKING:
    from retrieval_xfer.data.cards import TaskCard


class EvalGroup(RxGroup):
    """``rx eval``: one command per task card with an evaluator, named by the card (or its ``cli_name``), made when
    first asked for. A card that breaks its schema is reported (one line, exit 1) when ``rx eval`` is used; it never
    silently removes commands, and ``rx --help`` does not read the cards at all."""

    def _cards(self) -> dict[str, TaskCard]:
        from retrieval_xfer.evaluation.registry import evaluated_cards

        try:
            return {card.cli_name or card.name: card for card in evaluated_cards()}
        except RxError as err:
            raise click.ClickException(str(err)) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._cards())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        card = self._cards().get(cmd_name)
        try:
            return eval_command(card, cmd_name) if card is not None else None
        except RxError as err:
            raise click.ClickException(str(err)) from None


@main.group("eval", cls=EvalGroup)
def eval_group() -> None:
    """Evaluate zero-shot on an XTREME task: retrieval (tatoeba, bucc) with an encoder, the other seven with a
    run's task head. Prints a table and writes a JSON result file."""


def _model_options(model: str) -> list[Any]:
    """What ``--model`` is: an encoder (with its options) or a run folder with a head (``--quiet`` is added last)."""
    if model == "encoder":
        return [encoder_options]
    run = click.option(
        "--model",
        required=True,
        type=click.Path(path_type=Path),
        help="A run folder written by rx train, with a head for this task.",
    )
    return [run]


def eval_command(card: TaskCard, name: str) -> click.Command:
    """``rx eval <name>`` for ``card``: its evaluator's options (``evaluation.registry``), ``--output`` and
    ``--overwrite``; runs the evaluator, prints its table and writes the result file."""
    from retrieval_xfer.evaluation.registry import EvalContext, evaluator_for

    evaluator = evaluator_for(card)
    local_files = ", ".join((card.sources.get("local") or {}).get("files", []))

    def command(output: Path | None, overwrite: bool, **kwargs: Any) -> None:
        from retrieval_xfer.evaluation.results import check_result_path

        check_result_path(output, overwrite)  # before the model loads
        if evaluator.model == "encoder":
            model: EncoderOptions | Path = take_options(EncoderOptions, kwargs)
            quiet = model.quiet
        else:
            model, quiet = Path(kwargs.pop("model")), kwargs.pop("quiet")
        options = take_options(evaluator.options, kwargs)
        context = EvalContext(output.parent if output else Path("results"), quiet)
        result = evaluator.load("run")(card, model, options, context)
        _finish(result, evaluator.load("table")(result), output, card.name)

    decorators = [
        *_model_options(evaluator.model),
        dataclass_options(evaluator.options, help_values={"files": local_files}),
        click.option(
            "--output",
            type=click.Path(path_type=Path),
            default=None,
            help=f"Result JSON. Default: results/{card.name}-<model>-L<layer>-<time>.json"
            if evaluator.model == "encoder"
            else f"Result JSON. Default: results/{card.name}-<run>-<time>.json",
        ),
        overwrite_result_option,
    ]
    if evaluator.model == "run":
        decorators.append(click.option("--quiet", is_flag=True, help="No progress bars."))
    for decorate in reversed(decorators):
        command = decorate(command)
    return click.command(name, help=evaluator.describe(card))(command)


def _finish(result: dict[str, Any], table: str, output: Path | None, task: str) -> None:
    from retrieval_xfer.evaluation.results import default_result_path, layer_sweep_table, write_results

    if "layer_sweep" in result:
        table = f"{table}\n\n{layer_sweep_table(result)}"
    path = write_results(output or default_result_path(task, result), result)
    click.echo(table)
    click.echo(f"results written to {path}")


@main.command()
@encoder_options
@dataclass_options(TatoebaOptions, exclude=("center", "bootstrap", "bootstrap_seed"))
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Result JSON. Default: results/diagnose-<model>-L<layers>-<time>.json",
)
@overwrite_result_option
def diagnose(output: Path | None, overwrite: bool, **kwargs: Any) -> None:
    """How aligned the languages are, per layer and language (Tatoeba): retrieval raw and with each language's
    mean removed (the gain says how much misalignment is a constant shift), a language-ID probe, alignment,
    uniformity and hubness. rx report shows it beside the XTREME table."""
    from retrieval_xfer.evaluation.diagnostics import diagnose_table, run_diagnose
    from retrieval_xfer.evaluation.results import check_result_path, output_path, write_results

    check_result_path(output, overwrite)  # before the model loads
    result = run_diagnose(take_options(EncoderOptions, kwargs), take_options(TatoebaOptions, kwargs))
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
    """Collect result files (PATHS: folders or files; results/<run>/*.json names the run, results/<run>/seed-<n>/
    its seeds) into the XTREME
    table, per-language tables, deltas against --baseline, gain by resource level, and layer sweeps."""

    from retrieval_xfer.evaluation.report import build_report, resolve_baseline, xtreme_table
    from retrieval_xfer.evaluation.report_files import check_report_folder, write_report
    from retrieval_xfer.evaluation.report_results import collect_diagnostics, collect_results

    check_report_folder(out, overwrite)  # before reading the results
    search, baseline_name = resolve_baseline(list(paths), baseline)
    built = build_report(collect_results(search), baseline_name, collect_diagnostics(search))
    written = write_report(built, out, overwrite)
    click.echo(xtreme_table(built))
    click.echo(f"report written to {out}: {', '.join(p.name for p in written)}")


@main.command()
@click.argument("result_a", type=click.Path(path_type=Path))
@click.argument("result_b", type=click.Path(path_type=Path))
@click.option("--task", default=None, help="With run folders as A and B: the task whose results to compare.")
@dataclass_options(BootstrapOptions)
def compare(result_a: Path, result_b: Path, task: str | None, bootstrap: int, bootstrap_seed: int) -> None:
    """Is B better than A? Each score's delta B - A between two results of one task on the same data, with its
    paired bootstrap 95 % interval (the same resampled queries or pairs score both), marked "holds" when the
    interval excludes 0. Needs the per-example outcomes rx eval keeps beside each result.

    A and B are result files, or run folders with --task: a run trained with several seeds (its seed-<n>/TASK.json
    files) counts as the mean over its seeds, and the interval draws the seeds too."""
    from retrieval_xfer.evaluation.compare import compare_results, compare_table
    from retrieval_xfer.evaluation.seeds import run_results

    if bootstrap == 0:
        raise RxError("--bootstrap 0: rx compare needs resamples to say whether a delta holds")
    paths_a, paths_b = run_results(result_a, task), run_results(result_b, task)
    deltas, notes = compare_results(paths_a, paths_b, bootstrap, bootstrap_seed)
    seeds = [f"{name}: {len(paths)} seeds" for name, paths in (("A", paths_a), ("B", paths_b)) if len(paths) > 1]
    click.echo(compare_table(deltas, notes + ([f"means over seeds ({'; '.join(seeds)})"] if seeds else [])))
