"""Run one step of an experiment (``run_step``), and the whole experiment in order in this process
(``run_experiment``), skipping steps whose output exists, so a re-run after a crash picks up where it stopped (an
interrupted training phase continues from its last checkpoint). ``experiment.ray_executor`` runs the same steps
as Ray tasks."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_json
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.encoding.loader import default_layer, model_num_layers
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.registry import EvalContext, evaluator_for
from retrieval_xfer.evaluation.report import build_report
from retrieval_xfer.evaluation.report_files import write_report
from retrieval_xfer.evaluation.report_results import collect_diagnostics, collect_results
from retrieval_xfer.evaluation.results import write_results
from retrieval_xfer.experiment.plan import Step, plan_steps
from retrieval_xfer.experiment.sizing import training_size
from retrieval_xfer.experiment.spec import ENCODER_KEYS, ExperimentSpec
from retrieval_xfer.field_checks import take_options
from retrieval_xfer.modeling.run_folder import latest_checkpoint, unstarted_run
from retrieval_xfer.training.config import TrainConfig
from retrieval_xfer.workflows.train import train_phase


def train_config(spec: ExperimentSpec, step: Step, quiet: bool) -> TrainConfig:
    """The ``rx train`` settings of a training step; ``resume`` when it has a checkpoint. A folder left by an
    attempt that stopped before its first checkpoint is cleared; any other existing folder is an error."""
    resume = latest_checkpoint(step.output) is not None
    if step.output.exists() and not resume and not unstarted_run(step.output):
        raise RxError(
            f"{step.output}: exists and is not an unfinished rx training run; move it away or point runs_dir elsewhere"
        )  # rx train clears an attempt that stopped before its first checkpoint
    files = {t: spec.train_files[t] for t in step.tasks if t in spec.train_files}
    return TrainConfig(
        tasks=step.tasks,
        out=step.output,
        base=step.base,
        init=step.init,
        train_files=files,
        resume=resume,
        quiet=quiet,
        **step.settings,
    )


def _train(spec: ExperimentSpec, step: Step, quiet: bool) -> None:
    train_phase(train_config(spec, step, quiet))


def _encoder_options(step: Step, quiet: bool) -> EncoderOptions:
    """The step's encoder. Without ``layer``, the experiment pools rx's middle-layer default, also for the run
    folders it trained (sentence-transformers folders, which ``rx eval`` would use with their own pipeline)."""
    chosen = {key: value for key, value in step.settings.items() if key in ENCODER_KEYS}
    if chosen.get("layer") is None:
        chosen["layer"] = default_layer(model_num_layers(step.model))
    return EncoderOptions(model=step.model, quiet=quiet, **chosen)


def _evaluate(spec: ExperimentSpec, step: Step, quiet: bool) -> dict[str, Any]:
    """An evaluation step: the task's evaluator (``evaluation.registry``) run on the step's model with the
    experiment file's ``evaluation.<task>`` options; side files (BUCC's predictions) go beside the result."""
    card = load_card(step.task)
    evaluator = evaluator_for(card)
    settings = {key: value for key, value in step.settings.items() if key not in ENCODER_KEYS}
    if settings.get("data_dir"):
        settings["data_dir"] = Path(settings["data_dir"]).expanduser()
    if "data_files" in settings:
        settings["data_files"] = tuple(str(Path(f).expanduser()) for f in settings["data_files"])
    model = _encoder_options(step, quiet) if evaluator.model == "encoder" else Path(step.model)
    options = take_options(evaluator.options, settings)
    return evaluator.load("run")(card, model, options, EvalContext(step.output.parent, quiet))


def _report(spec: ExperimentSpec, step: Step, quiet: bool) -> None:
    results = collect_results([spec.results_dir])
    runs = {r.run for r in results}
    write_report(
        build_report(results, step.model if step.model in runs else None, collect_diagnostics([spec.results_dir])),
        step.output,
    )


def _run_eval(spec: ExperimentSpec, step: Step, quiet: bool) -> None:
    write_results(step.output, _evaluate(spec, step, quiet))


RUNNERS: dict[str, Callable[[ExperimentSpec, Step, bool], None]] = {
    "train": _train,
    "eval": _run_eval,
    "report": _report,
}


def run_step(spec: ExperimentSpec, step: Step, quiet: bool) -> None:
    """Run one step (whatever calls it: this process's loop or a Ray task)."""
    RUNNERS[step.kind](spec, step, quiet)


def read_record(spec: ExperimentSpec) -> dict[str, str]:
    """``runs_dir/experiment-steps.json``: the fingerprint of each finished step, by output."""
    path = spec.runs_dir / STEPS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record_done(spec: ExperimentSpec, record: dict[str, str], step: Step) -> None:
    """Add ``step`` to the record of finished steps (written atomically)."""
    record[str(step.output)] = step.fingerprint()
    atomic_write_json(spec.runs_dir / STEPS_FILE, record)


def done_line(step: Step, record: dict[str, str]) -> str:
    """What the console says of a step that is done already."""
    changed = record.get(str(step.output), step.fingerprint()) != step.fingerprint()
    return f"done already ({step.output})" + (
        "; WARNING: made with other settings than the experiment file now gives: delete it to redo it"
        if changed
        else ""
    )


logger = logging.getLogger(__name__)

STEPS_FILE = "experiment-steps.json"


def run_experiment(spec: ExperimentSpec, dry_run: bool = False, quiet: bool = False) -> list[tuple[Step, str]]:
    """Run every step of ``spec`` whose output does not exist; returns ``(step, "done" | "ran" | "to run")``.

    ``runs_dir/experiment-steps.json`` records the fingerprint of each finished step: a step done with other
    settings than the file now gives is reported (its output is kept; delete it to redo the step)."""
    steps = plan_steps(spec)
    record = read_record(spec)
    statuses = []
    started = time.perf_counter()
    for number, step in enumerate(steps, 1):
        prefix = f"[{number}/{len(steps)}] {step.label}"
        if step.done():
            logger.info(f"{prefix}: {done_line(step, record)}")
            statuses.append((step, "done"))
            continue
        if dry_run:
            logger.info(f"{prefix}: to run -> {step.output}{training_size(spec, step)}")
            statuses.append((step, "to run"))
            continue
        logger.info(f"{prefix}: running -> {step.output}")
        tic = time.perf_counter()
        run_step(spec, step, quiet)
        record_done(spec, record, step)
        logger.info(
            f"{prefix}: finished in {time.perf_counter() - tic:.0f}s "
            f"(experiment so far {time.perf_counter() - started:.0f}s)"
        )
        statuses.append((step, "ran"))
    return statuses
