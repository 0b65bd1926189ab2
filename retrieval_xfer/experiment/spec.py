"""The experiment file (YAML) as a checked ``ExperimentSpec``; every mistake is one line naming the file and key.

Keys (see ``experiments/xstilts.yaml`` for a full example):

- ``name``: used in the default folders ``runs/<name>``, ``results/<name>``, ``report/<name>``
- ``base_models``: ``{short name: hub id or folder}``
- ``intermediate``: ``{set name: [task, ...]}``; an empty list is "no intermediate training" (a baseline)
- ``baseline``: the set ``rx report`` compares against (default: the first empty set)
- ``targets``: zero-shot tasks (``xnli``, ``panx``, ...): a target phase on the card's English task, then evaluation
- ``retrieval``: retrieval tasks (``tatoeba``, ``bucc2018``: cards of kind retrieval), evaluated on the
  intermediate model itself
- ``seeds``: training seeds, e.g. ``[1, 2, 3]``: every training step runs once per seed (its run folder ends in
  ``seed-<n>``, its results go to ``results/<exp>/<run>/seed-<n>/``), and the report gives the mean over seeds with
  an interval that holds the seeds' variance too; without it, one run with ``train.seed`` (default 42)
- ``train``: training defaults (any ``rx train`` option, e.g. ``lr``, ``batch_size``, ``grad_accum``, ``epochs``)
- ``task_settings``: ``{task: {option: value}}`` per-task overrides of ``train`` (e.g. epochs, max_length)
- ``train_files``: ``{task: local file}`` (otherwise the hub)
- ``evaluation``: ``{task: {option: value}}`` options of ``rx eval <task>`` (data_dir, langs, limit, layers, ...):
  the fields of the task's evaluator's options (``evaluation.registry``), and the encoder's for a retrieval task
- ``resources``: ``{step kind: {num_cpus: N, num_gpus: N}}`` for ``rx experiment --ray`` (kinds: train, eval,
  report; default one CPU each); a training step with ``num_gpus`` > 1 trains data-parallel on that many GPUs
- ``runs_dir``, ``results_dir``, ``report_dir``: override the default folders (with ``--ray``, ``runs_dir``
  must be on storage every node sees)

Base-model and intermediate-set names become folder names: each must be one plain path component.

Paths: the inputs (local ``base_models``, ``train_files``, ``data_dir``/``data_files`` of an evaluation,
``eval_data`` and ``mlm_file`` of training) are relative to the experiment file's own folder and must exist (a
missing one is an error at load time, also with ``--dry-run``); the output folders are relative to the current
directory, like every rx command's outputs. A base model that is not a path is a hub id (not checked offline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.registry import evaluated_cards, evaluator_of_task
from retrieval_xfer.field_checks import check_field, option_fields
from retrieval_xfer.training.config import TrainConfig
from retrieval_xfer.training.runner import trainable_tasks

STEP_KINDS = ("train", "eval", "report")
RESOURCE_KEYS = ("num_cpus", "num_gpus")
TRAIN_OPTIONS = {f.name for f in dataclasses.fields(TrainConfig)} - {
    "tasks",
    "out",
    "base",
    "init",
    "train_files",
    "resume",
    "quiet",
}
# The options of `rx eval <task>`, from the same dataclasses the CLI options are made of (the model is the step's;
# progress bars follow `rx experiment --quiet`).
ENCODER_KEYS = {f.name for f in dataclasses.fields(EncoderOptions)} - {"model", "quiet"}


def evaluation_fields(task: str) -> dict[str, dataclasses.Field]:
    """The keys ``evaluation.<task>`` accepts, each with the field its value is checked against: the fields of the
    task's evaluator's options (``evaluation.registry``), and the encoder's for an evaluator of an encoder. Fields
    marked ``experiment: False`` belong to the step (where its side files go, where it runs)."""
    evaluator = evaluator_of_task(task)
    found = {f.name: f for f in option_fields(evaluator.options) if f.metadata.get("experiment", True)}
    if evaluator.model == "encoder":
        found.update({f.name: f for f in dataclasses.fields(EncoderOptions) if f.name in ENCODER_KEYS})
    return found


def retrieval_tasks() -> list[str]:
    """The tasks ``retrieval`` accepts: every retrieval card with an evaluator."""
    return [card.name for card in evaluated_cards("retrieval")]


@dataclass
class ExperimentSpec:
    """A checked experiment file."""

    path: Path
    name: str
    base_models: dict[str, str]
    intermediate: dict[str, list[str]]
    targets: list[str]
    retrieval: list[str]
    baseline: str | None
    train: dict[str, Any] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    task_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    train_files: dict[str, str] = field(default_factory=dict)
    evaluation: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, float]] = field(default_factory=dict)
    runs_dir: Path = Path("runs")
    results_dir: Path = Path("results")
    report_dir: Path = Path("report")

    def step_resources(self, kind: str) -> dict[str, float]:
        """The Ray resources of a step of ``kind``: the file's ``resources`` entry over one CPU."""
        return {"num_cpus": 1.0, "num_gpus": 0.0, **self.resources.get(kind, {})}

    def train_settings(self, task_names: list[str]) -> dict[str, Any]:
        """``train`` defaults overlaid with each task's ``task_settings`` (later tasks win on a conflict)."""
        settings = dict(self.train)
        for name in task_names:
            settings.update(self.task_settings.get(name, {}))
        return settings

    def target_task(self, task: str) -> str:
        """The English card trained in the target phase of zero-shot ``task`` (its card's first ``trained_by``)."""
        return load_card(task).trained_by[0]


_TRAIN_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that repeats a key (plain YAML keeps the last one silently)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {key_node.start_mark.line + 1})", key_node.start_mark
            )
        seen.add(key) if isinstance(key, (str, int, float, bool)) else None
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def _expect(condition: bool, path: Path, message: str) -> None:
    if not condition:
        raise RxError(f"{path}: {message}")


def _mapping(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key) or {}
    _expect(isinstance(value, dict), path, f"'{key}' must be a mapping")
    return value


def _plain_name(name: str, key: str, path: Path) -> None:
    """A name rx uses as a folder name: one path component, no separators, not ``.`` or ``..``."""
    _expect(
        bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name,
        path,
        f"{key} {name!r}: must be a plain name (it becomes a folder name under the runs and results folders)",
    )


def _list_of_names(raw: dict, key: str, path: Path) -> list[str]:
    """``raw[key]`` as a list of strings (absent or empty: none); RxError for a string, a mapping or a number."""
    value = raw.get(key) or []
    _expect(
        isinstance(value, list) and all(isinstance(item, str) for item in value),
        path,
        f"'{key}' must be a list of task names, e.g. [{key == 'retrieval' and 'tatoeba' or 'xnli'}], not {value!r}",
    )
    return list(value)


def _checked_options(options: dict, fields: dict[str, dataclasses.Field], scope: str, path: Path) -> dict:
    """``options`` with each value checked against its field (``field_checks``); RxError naming ``scope``."""
    checked = {}
    for key, value in options.items():
        try:
            checked[key] = check_field(fields[key], value) if key in fields else value
        except RxError as err:
            raise RxError(f"{path}: {scope}.{key}: {err}") from None
    return checked


def _resources(raw: dict, path: Path) -> dict[str, dict[str, float]]:
    resources = _mapping(raw, "resources", path)
    for kind, request in resources.items():
        _expect(kind in STEP_KINDS, path, f"resources: no step kind {kind!r} (kinds: {', '.join(STEP_KINDS)})")
        _expect(isinstance(request, dict), path, f"resources.{kind} must be a mapping")
        for key, value in request.items():
            _expect(key in RESOURCE_KEYS, path, f"resources.{kind}: unknown key {key!r} ({', '.join(RESOURCE_KEYS)})")
            _expect(
                isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0,
                path,
                f"resources.{kind}.{key}: expected a number >= 0, got {value!r}",
            )
        gpus = request.get("num_gpus", 0)
        _expect(
            gpus <= 1 or float(gpus).is_integer(),
            path,
            f"resources.{kind}.num_gpus: more than one GPU must be a whole number, got {gpus}",
        )
    return {kind: {k: float(v) for k, v in request.items()} for kind, request in resources.items()}


def _looks_like_path(value: str) -> bool:
    return value.startswith(("~", ".", "/")) or value.count("/") > 1


def _input_path(value: Any, where: Path, key: str, path: Path, check: bool) -> str:
    """``value`` resolved against the experiment file's folder; with ``check``, RxError naming ``key`` when it
    does not exist."""
    resolved = Path(str(value)).expanduser()
    if not resolved.is_absolute():
        resolved = (where / resolved).resolve()
    _expect(
        not check or resolved.exists(),
        path,
        f"{key}: {value} does not exist (looked for {resolved}; input paths are "
        f"relative to the experiment file's folder)",
    )
    return str(resolved)


def _resolve_inputs(raw: dict, path: Path, check: bool) -> None:
    """Resolve every input path of ``raw`` in place (see the module docstring); ``check`` that each exists."""
    where = path.resolve().parent
    for name, model in (raw.get("base_models") or {}).items():
        if _looks_like_path(str(model)):
            raw["base_models"][name] = _input_path(model, where, f"base_models.{name}", path, check)
    for task, file in (raw.get("train_files") or {}).items():
        raw["train_files"][task] = _input_path(file, where, f"train_files.{task}", path, check)
    for scope, options in [
        ("train", raw.get("train") or {}),
        *[(f"task_settings.{t}", o or {}) for t, o in (raw.get("task_settings") or {}).items()],
    ]:
        for key in ("eval_data", "mlm_file"):
            if isinstance(options, dict) and options.get(key):
                options[key] = _input_path(options[key], where, f"{scope}.{key}", path, check)
    for task, options in (raw.get("evaluation") or {}).items():
        if isinstance(options, dict) and options.get("data_dir"):
            options["data_dir"] = _input_path(options["data_dir"], where, f"evaluation.{task}.data_dir", path, check)
        if isinstance(options, dict) and options.get("data_files"):
            options["data_files"] = [
                _input_path(f, where, f"evaluation.{task}.data_files", path, check) for f in options["data_files"]
            ]


def _read_yaml(path: Path) -> dict:
    """The top-level mapping of the experiment file (duplicate keys refused) with only known keys."""
    _expect(path.is_file(), path, "no such experiment file")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except yaml.constructor.ConstructorError as err:
        raise RxError(f"{path}: {err.problem}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise RxError(f"{path}: malformed YAML ({err.__class__.__name__})") from None
    _expect(isinstance(raw, dict), path, "expected a mapping at the top level")
    known = {f.name for f in dataclasses.fields(ExperimentSpec)} - {"path"}
    unknown = set(raw) - known
    _expect(not unknown, path, f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    return raw


def _check_shapes(raw: dict, name: Any, path: Path) -> None:
    """The name is plain text; the sections are mappings whose names are text; paths are strings."""
    _expect(isinstance(name, str), path, f"name {name!r}: must be text")
    _plain_name(name, "name", path)
    for key in ("base_models", "train_files", "train", "task_settings", "evaluation", "intermediate"):
        _mapping(raw, key, path)
    for key in ("base_models", "intermediate", "train_files", "task_settings", "evaluation"):
        for item, value in raw[key].items() if raw.get(key) else []:
            _expect(isinstance(item, str), path, f"{key}: the name {item!r} must be text (quote it: '{item}')")
            if key in ("base_models", "train_files"):
                _expect(isinstance(value, str), path, f"{key}.{item}: expected a hub id or a path, not {value!r}")
    for key in ("runs_dir", "results_dir", "report_dir"):
        _expect(
            raw.get(key) is None or isinstance(raw[key], str), path, f"{key}: expected a path, not {raw.get(key)!r}"
        )


def _intermediate_sets(raw: dict, path: Path) -> dict[str, list[str]]:
    """``intermediate``: plain set names, each a list of trainable tasks (none given: one empty set)."""
    intermediate = _mapping(raw, "intermediate", path) or {"none": []}
    valid_train = set(trainable_tasks())
    for set_name, tasks in intermediate.items():
        _plain_name(set_name, "intermediate set", path)
        _expect(
            isinstance(tasks, list) and all(isinstance(task, str) for task in tasks),
            path,
            f"intermediate set {set_name!r} must be a list of task names, not {tasks!r}",
        )
        bad = [t for t in tasks if t not in valid_train]
        _expect(not bad, path, f"intermediate set {set_name!r}: unknown task(s) {', '.join(map(str, bad))}")
    return intermediate


def _evaluated_tasks(raw: dict, path: Path) -> tuple[list[str], list[str]]:
    """``targets`` (zero-shot cards) and ``retrieval`` (tatoeba, bucc2018); at least one task in all."""
    targets = _list_of_names(raw, "targets", path)
    for task in targets:
        try:
            kind = load_card(task).kind
        except RxError:
            kind = None
        _expect(
            kind == "zero-shot",
            path,
            f"target {task!r} is not a zero-shot XTREME task (xnli, pawsx, udpos, panx, xquad, mlqa, tydiqa)",
        )
    retrieval = _list_of_names(raw, "retrieval", path)
    known = retrieval_tasks()
    bad = [t for t in retrieval if t not in known]
    _expect(not bad, path, f"retrieval: unknown task(s) {', '.join(bad)} ({', '.join(known)})")
    _expect(bool(targets or retrieval), path, "nothing to evaluate: give 'targets' and/or 'retrieval'")
    return targets, retrieval


def _training_options(raw: dict, path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``train`` and ``task_settings``: known ``rx train`` options, each value checked against its field."""
    train = _mapping(raw, "train", path)
    task_settings = _mapping(raw, "task_settings", path)
    for scope, options in [("train", train), *[(f"task_settings.{t}", o) for t, o in task_settings.items()]]:
        _expect(isinstance(options, dict), path, f"'{scope}' must be a mapping")
        bad = set(options) - TRAIN_OPTIONS
        _expect(not bad, path, f"{scope}: unknown training option(s) {', '.join(sorted(bad))}")
        options.update(_checked_options(options, _TRAIN_FIELDS, scope, path))
        _expect(options.get("max_steps") != 0, path, f"{scope}.max_steps: 0 trains nothing; give a positive number")
    return train, task_settings


def _seeds(raw: dict, path: Path) -> list[int]:
    """``seeds``: distinct whole numbers >= 0; none when absent. A seed given in ``train`` or ``task_settings`` as
    well would be overridden silently, so it is refused."""
    seeds = raw.get("seeds")
    if seeds is None:
        return []
    _expect(
        isinstance(seeds, list)
        and bool(seeds)
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds),
        path,
        f"seeds: expected a list of whole numbers >= 0, e.g. [1, 2, 3], not {seeds!r}",
    )
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    _expect(not repeated, path, f"seeds: {', '.join(map(str, repeated))} given twice")
    for scope, options in [("train", raw.get("train") or {}), *(raw.get("task_settings") or {}).items()]:
        where = scope if scope == "train" else f"task_settings.{scope}"
        _expect(
            not isinstance(options, dict) or "seed" not in options,
            path,
            f"{where}.seed: the experiment gives 'seeds'; a seed here would be overridden (remove one of them)",
        )
    return list(seeds)


def _evaluation_options(raw: dict, path: Path, targets: list[str], retrieval: list[str]) -> dict[str, dict]:
    """``evaluation``: per evaluated task, the options of its ``rx eval`` command, each value checked."""
    evaluation = _mapping(raw, "evaluation", path)
    for task, options in evaluation.items():
        _expect(
            task in targets or task in retrieval, path, f"evaluation.{task}: not among the targets or retrieval tasks"
        )
        _expect(options is None or isinstance(options, dict), path, f"evaluation.{task} must be a mapping")
        fields = evaluation_fields(task)
        bad = set(options or {}) - set(fields)
        _expect(not bad, path, f"evaluation.{task}: unknown option(s) {', '.join(sorted(bad))}")
        evaluation[task] = _checked_options(options or {}, fields, f"evaluation.{task}", path)
    return evaluation


def load_spec(path: Path, check_inputs: bool = True) -> ExperimentSpec:
    """Read and check an experiment file; RxError naming the file and the key at fault. ``check_inputs=False``
    checks the file's structure only (its input paths need not exist on this machine)."""
    path = Path(path)
    raw = _read_yaml(path)
    name = raw.get("name") or path.stem
    _check_shapes(raw, name, path)
    _resolve_inputs(raw, path, check_inputs)
    bases = dict(_mapping(raw, "base_models", path))
    _expect(bool(bases), path, "'base_models' must name at least one model")
    for base in bases:
        _plain_name(base, "base model", path)
    intermediate = _intermediate_sets(raw, path)
    targets, retrieval = _evaluated_tasks(raw, path)
    baseline = raw.get("baseline", next((n for n, t in intermediate.items() if not t), None))
    _expect(
        baseline is None or (isinstance(baseline, str) and baseline in intermediate),
        path,
        f"baseline {baseline!r} is not an intermediate set",
    )
    train, task_settings = _training_options(raw, path)
    seeds = _seeds(raw, path)
    evaluation = _evaluation_options(raw, path, targets, retrieval)

    def folder(key: str, default: str) -> Path:
        return Path(str(raw[key])) if raw.get(key) else Path(default) / str(name)

    return ExperimentSpec(
        path=path,
        name=str(name),
        base_models=bases,
        intermediate={k: list(v) for k, v in intermediate.items()},
        targets=targets,
        retrieval=retrieval,
        baseline=baseline,
        train=train,
        seeds=seeds,
        task_settings=task_settings,
        train_files={str(k): str(v) for k, v in _mapping(raw, "train_files", path).items()},
        evaluation={k: dict(v or {}) for k, v in evaluation.items()},
        resources=_resources(raw, path),
        runs_dir=folder("runs_dir", "runs"),
        results_dir=folder("results_dir", "results"),
        report_dir=folder("report_dir", "report"),
    )
