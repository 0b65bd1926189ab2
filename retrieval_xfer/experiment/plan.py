"""An experiment as a dependency graph of steps, listed in an order that runs them one after another; each step
names the output whose existence means "done" and the outputs of the steps it needs (``needs``).

For each base model and intermediate set: the intermediate phase (skipped for an empty set, whose model is the
base model itself), the retrieval evaluations of that model, then for each target task its target phase
(``rx train --init``) and its zero-shot evaluation. The report comes last.

Layout: ``runs/<exp>/<base>/<set>/`` (intermediate run), ``runs/<exp>/<base>/<set>+<English task>/`` (target
run; XQuAD and MLQA share the SQuAD one),
``results/<exp>/<base>-<set>/<task>.json`` (one folder per run, as ``rx report`` reads them). With ``seeds``, each
training run folder and each result of a trained model gets a ``seed-<n>`` folder at its end
(``runs/<exp>/<base>/<set>/seed-1/``, ``results/<exp>/<base>-<set>/seed-1/<task>.json``): ``rx report`` reads
them as the seeds of one run.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.seeds import seed_folder
from retrieval_xfer.experiment.spec import ExperimentSpec
from retrieval_xfer.modeling.run_folder import RUN_FILE


@dataclass
class Step:
    """One unit of work. ``kind``: ``train`` (``tasks`` from ``base`` or ``init``), ``eval`` (``task`` on
    ``model``) or ``report``. ``output`` is the run folder, result file or report folder it writes."""

    kind: str
    label: str
    output: Path
    needs: list[Path] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    task: str = ""
    base: str | None = None
    init: Path | None = None
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A hash of what the step does (tasks, models, settings): a changed experiment file changes it."""
        what = {
            "kind": self.kind,
            "tasks": self.tasks,
            "task": self.task,
            "base": self.base,
            "init": str(self.init or ""),
            "model": self.model,
            "settings": self.settings,
        }
        return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def slug(self) -> str:
        """A file name for this step's log: its label in plain characters and a short hash of its output."""
        plain = re.sub(r"[^A-Za-z0-9._+-]+", "_", self.label).strip("_")[:80]
        return f"{plain}-{hashlib.sha256(str(self.output).encode()).hexdigest()[:8]}"

    def done(self) -> bool:
        """Whether the output is complete (a report is always redrawn)."""
        if self.kind == "train":
            return (self.output / RUN_FILE).is_file()
        if self.kind == "eval":
            return self.output.is_file()
        return False


def run_name(base: str, intermediate_set: str) -> str:
    """The run's name in results and the report: ``<base>-<set>``."""
    return f"{base}-{intermediate_set}"


def plan_steps(spec: ExperimentSpec) -> list[Step]:
    """Every step of ``spec``, in the order they must run; RxError (also at ``--dry-run``) when two steps would
    write one folder or file (``<base>-<set>`` is ambiguous: base ``a`` with set ``b-c`` and base ``a-b`` with set
    ``c`` are both ``a-b-c``)."""
    steps = _steps(spec)
    _check_unique_outputs(spec, steps)
    return steps


def _check_unique_outputs(spec: ExperimentSpec, steps: list[Step]) -> None:
    runs: dict[str, tuple[str, str]] = {}
    for base in spec.base_models:
        for set_name in spec.intermediate:
            other = runs.setdefault(run_name(base, set_name), (base, set_name))
            if other != (base, set_name):
                raise RxError(
                    f"{spec.path}: base model {other[0]!r} with set {other[1]!r} and base model {base!r} with set "
                    f"{set_name!r} would share the results folder {run_name(base, set_name)!r}; rename one"
                )
    writers: dict[Path, str] = {}
    for step in steps:
        other = writers.setdefault(step.output, step.label)
        if other != step.label:
            raise RxError(f"{spec.path}: steps {other!r} and {step.label!r} would both write {step.output}; rename one")


def _steps(spec: ExperimentSpec) -> list[Step]:
    steps: list[Step] = []
    for base, model in spec.base_models.items():
        for set_name, tasks in spec.intermediate.items():
            steps += _run_steps(spec, base, model, set_name, tasks, steps)
    baseline = run_name(next(iter(spec.base_models)), spec.baseline) if spec.baseline else None
    steps.append(
        Step(
            "report",
            "report",
            spec.report_dir,
            needs=[s.output for s in steps if s.kind == "eval"],
            model=baseline or "",
        )
    )
    return steps


def _run_steps(
    spec: ExperimentSpec, base: str, model: str, set_name: str, tasks: list[str], earlier: list[Step]
) -> list[Step]:
    """The steps of one run (base model x intermediate set), for each seed of ``spec.seeds`` (or once, with the
    ``train`` seed): its intermediate phase (none for an empty set), its retrieval evaluations, and per target task
    a target phase (unless ``earlier`` steps or this run's have one: XQuAD and MLQA share SQuAD's) and the
    zero-shot evaluation. The base model's own retrieval evaluations (an empty set) depend on no seed: once."""
    steps: list[Step] = []
    results = spec.results_dir / run_name(base, set_name)
    if not tasks:
        steps += _retrieval_steps(spec, f"{base}/{set_name}", model, [], results)
    for seed in spec.seeds or [None]:
        folder = Path(seed_folder(seed)) if seed is not None else Path()
        mark = f" seed {seed}" if seed is not None else ""
        settings = {"seed": seed} if seed is not None else {}
        intermediate_run = spec.runs_dir / base / set_name / folder
        if tasks:
            label = f"{base}: intermediate {set_name} ({', '.join(tasks)}){mark}"
            train_settings = {**spec.train_settings(tasks), **settings}
            steps.append(Step("train", label, intermediate_run, tasks=list(tasks), base=model, settings=train_settings))
            steps += _retrieval_steps(
                spec, f"{base}/{set_name}{mark}", str(intermediate_run), [intermediate_run], results / folder
            )
        trained = [intermediate_run] if tasks else []
        for task in spec.targets:
            english = spec.target_task(task)
            target_run = spec.runs_dir / base / f"{set_name}+{english}" / folder  # shared by xquad and mlqa
            if all(step.output != target_run for step in [*earlier, *steps]):
                steps.append(
                    Step(
                        "train",
                        f"{base}/{set_name}{mark}: target {english}",
                        target_run,
                        needs=trained,
                        tasks=[english],
                        base=None if tasks else model,
                        init=intermediate_run if tasks else None,
                        settings={**spec.train_settings([english]), **settings},
                    )
                )
            steps.append(
                Step(
                    "eval",
                    f"{base}/{set_name}{mark}: {task}",
                    results / folder / f"{task}.json",
                    needs=[target_run],
                    task=task,
                    model=str(target_run),
                    settings=spec.evaluation.get(task, {}),
                )
            )
    return steps


def _retrieval_steps(spec: ExperimentSpec, label: str, encoder: str, trained: list[Path], results: Path) -> list[Step]:
    """The retrieval evaluations of one model (``encoder``), results in the folder ``results``."""
    return [
        Step(
            "eval",
            f"{label}: {task}",
            results / f"{task}.json",
            needs=trained,
            task=task,
            model=encoder,
            settings=spec.evaluation.get(task, {}),
        )
        for task in spec.retrieval
    ]
