"""The commands on training and grids: ``rx train``, ``rx tasks list`` and ``rx experiment``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from retrieval_xfer.cli.group import RxGroup, main
from retrieval_xfer.cli.options import dataclass_options, ray_option
from retrieval_xfer.training.config import TrainConfig


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
