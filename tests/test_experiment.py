"""rx experiment on a tiny model and tiny data: every step runs and writes what a direct call writes, a second
run does nothing but the report, and a crash (in an evaluation, or in training after a checkpoint) resumes."""

import json
import random

import pytest
import yaml
from click.testing import CliRunner
from helpers import write_tatoeba
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from toy_data import sentence, write_ner, write_nli

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.experiment.plan import plan_steps
from retrieval_xfer.experiment.runner import run_experiment
from retrieval_xfer.experiment.spec import load_spec


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder, rng = tmp_path_factory.mktemp("experiment-data"), random.Random(2)
    write_nli(folder / "nli.jsonl", rng, 24)
    write_ner(folder / "ner.tsv", rng, 24)
    (folder / "xnli").mkdir()
    write_nli(folder / "xnli" / "dev-de.tsv", rng, 12, tsv=True)
    (folder / "panx").mkdir()
    write_ner(folder / "panx" / "dev-de.tsv", rng, 8)
    lines = [sentence(rng, 4) for _ in range(10)]
    write_tatoeba(folder / "tatoeba", lines, [line + " sky" for line in lines])
    return folder


def write_spec(tmp_path, tiny_model, data, **overrides):
    spec = {
        "name": "tiny",
        "base_models": {"tiny": str(tiny_model)},
        "intermediate": {"baseline": [], "mnli": ["mnli"]},
        "targets": ["xnli", "panx"],
        "retrieval": ["tatoeba"],
        "train": {"max_steps": 6, "batch_size": 4, "lr": 1e-3, "warmup": 0.0, "save_steps": 2, "logging_steps": 2},
        "train_files": {
            "mnli": str(data / "nli.jsonl"),
            "xnli_en": str(data / "nli.jsonl"),
            "panx_en": str(data / "ner.tsv"),
        },
        "evaluation": {
            "xnli": {"data_dir": str(data / "xnli")},
            "panx": {"data_dir": str(data / "panx")},
            "tatoeba": {"data_dir": str(data / "tatoeba"), "langs": "de", "layers": "all"},
        },
        "runs_dir": str(tmp_path / "runs"),
        "results_dir": str(tmp_path / "results"),
        "report_dir": str(tmp_path / "report"),
    }
    spec.update(overrides)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_end_to_end_then_nothing_to_do(tiny_model, data, tmp_path, caplog, rx_log):
    from retrieval_xfer.data.cards import load_card
    from retrieval_xfer.data.tatoeba import resolve_languages
    from retrieval_xfer.encoding.loader import load_layer_sweep
    from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba

    spec = load_spec(write_spec(tmp_path, tiny_model, data))
    statuses = run_experiment(spec, quiet=True)
    assert [s for _, s in statuses] == ["ran"] * len(statuses)
    assert [step.kind for step, _ in statuses].count("train") == 5  # mnli + two targets for each of two sets
    for run in ("tiny-baseline", "tiny-mnli"):
        assert {p.name for p in (tmp_path / "results" / run).glob("*.json")} == {
            "xnli.json",
            "panx.json",
            "tatoeba.json",
        }
    assert (tmp_path / "runs" / "tiny" / "mnli+xnli_en" / "run.json").is_file()
    init = json.loads((tmp_path / "runs" / "tiny" / "mnli+xnli_en" / "run.json").read_text())["init"]
    assert init.endswith("runs/tiny/mnli")  # the target phase starts from the intermediate run
    # the baseline's Tatoeba result is what a direct evaluation of the base model gives
    card = load_card("tatoeba")
    direct = evaluate_tatoeba(
        load_layer_sweep(str(tiny_model), "all", show_progress=False),
        resolve_languages("de", card),
        card,
        data / "tatoeba",
    )
    written = json.loads((tmp_path / "results" / "tiny-baseline" / "tatoeba.json").read_text())
    assert written["layer_sweep"]["layers"] == json.loads(json.dumps(direct["layer_sweep"]["layers"]))
    csv_rows = (tmp_path / "report" / "xtreme.csv").read_text().splitlines()
    assert csv_rows[0] == "run,xnli,panx,tatoeba,avg" and csv_rows[1].startswith("tiny-baseline,")
    assert (tmp_path / "report" / "gain_vs_size.png").is_file()
    caplog.clear()
    again = run_experiment(spec, quiet=True)
    assert [(step.kind, s) for step, s in again if s == "ran"] == [("report", "ran")]
    assert not any("WARNING" in line for line in rx_log())
    changed = load_spec(
        write_spec(
            tmp_path,
            tiny_model,
            data,
            evaluation={
                **yaml.safe_load((tmp_path / "exp.yaml").read_text())["evaluation"],
                "panx": {"data_dir": str(data / "panx"), "limit": 3},
            },
        )
    )
    caplog.clear()
    run_experiment(changed, quiet=True)
    warned = [line for line in rx_log() if "WARNING" in line]
    assert len(warned) == 2 and all(": panx: done already" in line for line in warned)  # both sets' panx results


def test_resume_after_a_crash_in_evaluation_and_in_training(tiny_model, data, tmp_path, monkeypatch):
    from retrieval_xfer.experiment import runner
    from retrieval_xfer.training.callbacks import CheckpointState
    from retrieval_xfer.workflows import train as train_workflow

    evaluation = {
        "xnli": {"data_dir": str(data / "xnli")},
        "tatoeba": {"data_dir": str(data / "tatoeba"), "langs": "de"},
    }
    spec = load_spec(
        write_spec(tmp_path, tiny_model, data, intermediate={"mnli": ["mnli"]}, targets=["xnli"], evaluation=evaluation)
    )
    original_save = CheckpointState.on_save

    def crash_after_first_checkpoint(self, args, state, control, **kwargs):
        original_save(self, args, state, control, **kwargs)
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(CheckpointState, "on_save", crash_after_first_checkpoint)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_experiment(spec, quiet=True)
    intermediate = tmp_path / "runs" / "tiny" / "mnli"
    assert (intermediate / "checkpoints" / "checkpoint-2").is_dir() and not (intermediate / "run.json").exists()
    monkeypatch.setattr(CheckpointState, "on_save", original_save)

    configs = []
    real_train = train_workflow.train
    monkeypatch.setattr(
        train_workflow, "train", lambda config, evaluator=None: configs.append(config) or real_train(config, evaluator)
    )
    real_evaluate = runner._evaluate

    def crash_on_xnli(spec_, step, quiet):
        if step.task == "xnli":
            raise RuntimeError("simulated evaluation crash")
        return real_evaluate(spec_, step, quiet)

    monkeypatch.setattr(runner, "_evaluate", crash_on_xnli)
    with pytest.raises(RuntimeError, match="simulated evaluation crash"):
        run_experiment(spec, quiet=True)
    assert configs[0].resume and configs[0].out == intermediate  # continued from checkpoint-2
    assert json.loads((intermediate / "run.json").read_text())["steps"] == 6
    assert not configs[1].resume  # the target phase started fresh
    monkeypatch.setattr(runner, "_evaluate", real_evaluate)
    statuses = dict((step.label, s) for step, s in run_experiment(spec, quiet=True))
    assert statuses == {
        "tiny: intermediate mnli (mnli)": "done",
        "tiny/mnli: tatoeba": "done",
        "tiny/mnli: target xnli_en": "done",
        "tiny/mnli: xnli": "ran",
        "report": "ran",
    }
    assert len(configs) == 2  # nothing was trained again


def test_xquad_and_mlqa_share_one_target_run(tiny_model, data, tmp_path):
    spec = load_spec(write_spec(tmp_path, tiny_model, data, targets=["xquad", "mlqa"], evaluation={}))
    trains = [step.output.name for step in plan_steps(spec) if step.kind == "train"]
    assert trains == ["baseline+squad_en", "mnli", "mnli+squad_en"]


@pytest.mark.parametrize(
    "override,message",
    [
        ({"targets": ["mnli"]}, "target 'mnli' is not a zero-shot XTREME task"),
        ({"intermediate": {"x": ["nosuch"]}}, "intermediate set 'x': unknown task(s) nosuch"),
        ({"train": {"learning_rate": 1}}, "train: unknown training option(s) learning_rate"),
        ({"evaluation": {"xnli": {"dir": "x"}}}, "evaluation.xnli: unknown option(s) dir"),
        ({"baseline": "nope"}, "baseline 'nope' is not an intermediate set"),
        ({"typo": 1}, "unknown key(s) typo"),
        ({"evaluation": {"xnli": {"data_dir": "no-such-dir"}}}, "evaluation.xnli.data_dir: no-such-dir does not exist"),
        ({"train_files": {"mnli": "missing.jsonl"}}, "train_files.mnli: missing.jsonl does not exist"),
        ({"base_models": {"tiny": "./no-model"}}, "base_models.tiny: ./no-model does not exist"),
        ({"targets": "xnli"}, "'targets' must be a list of task names"),
        ({"targets": ["nosuch"]}, "target 'nosuch' is not a zero-shot XTREME task"),
        ({"retrieval": {"tatoeba": 1}}, "'retrieval' must be a list of task names"),
        ({"intermediate": {"x": "mnli"}}, "intermediate set 'x' must be a list of task names, not 'mnli'"),
        ({"intermediate": {"x": [{"a": 1}]}}, "intermediate set 'x' must be a list of task names"),
        ({"intermediate": {1: ["mnli"]}}, "intermediate: the name 1 must be text (quote it: '1')"),
        ({"baseline": []}, "baseline [] is not an intermediate set"),
        ({"train": {"lr": "abc"}}, "train.lr: --lr 'abc': expected a number"),
        ({"train": {"lr": float("nan")}}, "train.lr: --lr nan: must be a finite number"),
        ({"train": {"batch_size": 0}}, "train.batch_size: --batch-size 0: must be >= 1"),
        (
            {"task_settings": {"mnli": {"temperature": 0}}},
            "task_settings.mnli.temperature: --temperature 0: must be > 0",
        ),
        ({"train": {"max_steps": 0}}, "train.max_steps: 0 trains nothing"),
        (
            {"evaluation": {"tatoeba": {"center": "yes"}}},
            "evaluation.tatoeba.center: --center 'yes': choose one of none, language",
        ),
        ({"evaluation": {"tatoeba": {"batch_size": -1}}}, "evaluation.tatoeba.batch_size: --batch-size -1"),
        ({"name": "../outside"}, "name '../outside': must be a plain name"),
        ({"name": "/tmp/abs"}, "name '/tmp/abs': must be a plain name"),
        ({"base_models": {"tiny": ["a"]}}, "base_models.tiny: expected a hub id or a path"),
        ({"seeds": "1,2,3"}, "seeds: expected a list of whole numbers >= 0, e.g. [1, 2, 3], not '1,2,3'"),
        ({"seeds": [1, -2]}, "seeds: expected a list of whole numbers >= 0"),
        ({"seeds": []}, "seeds: expected a list of whole numbers >= 0"),
        ({"seeds": [1, 2, 1]}, "seeds: 1 given twice"),
        ({"seeds": [1, 2], "train": {"seed": 3}}, "train.seed: the experiment gives 'seeds'"),
        (
            {"seeds": [1], "task_settings": {"mnli": {"seed": 3}}},
            "task_settings.mnli.seed: the experiment gives 'seeds'",
        ),
    ],
)
def test_bad_experiment_files(tiny_model, data, tmp_path, override, message):
    path = write_spec(tmp_path, tiny_model, data, **override)
    with pytest.raises(RxError, match=r".*exp\.yaml: " + __import__("re").escape(message)):
        load_spec(path)
    result = CliRunner().invoke(main, ["experiment", str(path)])
    assert result.exit_code == 1 and message in result.output


def test_two_runs_that_would_share_a_results_folder_are_refused_at_dry_run(tiny_model, data, tmp_path):
    path = write_spec(
        tmp_path,
        tiny_model,
        data,
        base_models={"a": str(tiny_model), "a-b": str(tiny_model)},
        intermediate={"b-c": [], "c": []},
        targets=[],
        evaluation={},
    )
    result = CliRunner().invoke(main, ["experiment", str(path), "--dry-run"])
    assert result.exit_code == 1
    assert "base model 'a' with set 'b-c' and base model 'a-b' with set 'c' would share" in result.output
    assert not (tmp_path / "results").exists()


def test_duplicate_yaml_keys_are_refused(tiny_model, data, tmp_path):
    path = write_spec(tmp_path, tiny_model, data)
    path.write_text(path.read_text() + "targets: [xnli]\n")
    with pytest.raises(RxError, match=r"exp\.yaml: duplicate key 'targets' \(line \d+\)"):
        load_spec(path)


NAMES = st.lists(st.sampled_from(["x", "mnli", "xnli", "panx", "tatoeba", "bucc2018", "nosuch", ".."]), max_size=3)
YAML_VALUES = NAMES | st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 3)
    | st.floats(allow_nan=True)
    | st.sampled_from(["", "x", "mnli", "xnli", "tatoeba", "none", "language", "..", "a/b", "abc"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "mnli", "lr", "limit"]), children, max_size=3)
    ),
    max_leaves=8,
)
SPEC_KEYS = [
    "name",
    "base_models",
    "intermediate",
    "baseline",
    "targets",
    "retrieval",
    "train",
    "task_settings",
    "evaluation",
    "resources",
    "train_files",
]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(SPEC_KEYS), YAML_VALUES, max_size=6))
def test_any_yaml_shaped_file_loads_or_is_one_rx_error(tmp_path, tiny_model, data, overrides):
    path = write_spec(tmp_path, tiny_model, data, **overrides)
    try:
        plan_steps(load_spec(path))
    except RxError as err:
        assert str(err).startswith(str(path))


def test_shipped_experiment_files_are_valid():
    from pathlib import Path

    folder = Path(__file__).resolve().parent.parent / "experiments"
    for name in ("xstilts.yaml", "xstilts-small.yaml"):
        spec = load_spec(folder / name, check_inputs=False)  # the paper's data need not be on this machine
        assert plan_steps(spec)[-1].kind == "report"
    full = load_spec(folder / "xstilts.yaml", check_inputs=False)
    assert full.evaluation["xnli"]["data_dir"] == str(folder.parent / "download" / "xnli")  # the file's folder
    with pytest.raises(RxError, match="evaluation.xnli.data_dir: ../download/xnli does not exist|ccg"):
        load_spec(folder / "xstilts.yaml")
    assert full.train["lr"] == 1e-5 and full.train["batch_size"] == 4 and full.train["grad_accum"] > 1
    assert set(full.targets) == {"xnli", "pawsx", "udpos", "panx", "xquad", "mlqa", "tydiqa"}


def test_experiment_files_accept_every_option_of_rx_eval():
    """One options dataclass per evaluator makes both: the experiment keys are the rx eval options."""
    from click.testing import CliRunner

    from retrieval_xfer.cli.eval_commands import eval_group
    from retrieval_xfer.experiment.spec import evaluation_fields

    # the step's model, --quiet and its own output; where side files go and the k-NN's Ray follow the step's
    not_settings = {"model", "quiet", "output", "overwrite"}
    step_owned = {"predictions_dir", "ray"}
    ctx = eval_group.make_context("eval", ["tatoeba"])
    for name, task in (("tatoeba", "tatoeba"), ("bucc", "bucc2018"), ("xnli", "xnli"), ("panx", "panx")):
        command = eval_group.get_command(ctx, name)
        assert {p.name for p in command.params} - not_settings - step_owned == set(evaluation_fields(task))
    assert CliRunner().invoke(eval_group, ["bucc", "--help"]).exit_code == 0


def test_bucc_step_passes_every_setting_to_the_entry_point(tiny_model, data, tmp_path, monkeypatch):
    import retrieval_xfer.evaluation.bucc as bucc_module
    from retrieval_xfer.experiment import runner

    seen = {}
    monkeypatch.setattr(
        bucc_module,
        "run_bucc",
        lambda card, model, options, context: seen.update(model=model, options=options, context=context) or {},
    )
    settings = {
        "data_dir": str(data),
        "pairs": "zh-en",
        "k": 2,
        "margin": "distance",
        "retrieval": "fwd",
        "precision": "bfloat16",
        "device": "cpu",
        "prompt": "query: ",
        "layer": 3,
        "index_type": "ivf",
        "nlist": 8,
        "center": "language",
    }
    spec = load_spec(
        write_spec(
            tmp_path,
            tiny_model,
            data,
            intermediate={"baseline": []},
            targets=[],
            retrieval=["bucc2018"],
            evaluation={"bucc2018": settings},
        )
    )
    step = next(s for s in plan_steps(spec) if s.task == "bucc2018")
    runner._evaluate(spec, step, quiet=True)
    mining = seen["options"].mining
    assert (mining.k, mining.margin, mining.retrieval, mining.center) == (2, "distance", "fwd", "language")
    model = seen["model"]
    assert (model.precision, model.device, model.prompt, model.layer, model.model) == (
        "bfloat16",
        "cpu",
        "query: ",
        3,
        str(tiny_model),
    )
    assert seen["options"].pairs == "zh-en" and seen["options"].layers is None
    assert (mining.index.index_type, mining.index.nlist, mining.index.nprobe) == ("ivf", 8, 16)
    assert seen["context"].results_dir == step.output.parent  # BUCC's predictions go beside the step's result


def test_relative_input_paths_are_relative_to_the_experiment_file(tiny_model, data, tmp_path, monkeypatch):
    spec_file = write_spec(
        tmp_path,
        tiny_model,
        data,
        train_files={"mnli": "nli.jsonl"},
        evaluation={"xnli": {"data_dir": "xnli"}, "tatoeba": {"data_dir": "tatoeba"}},
    )
    (tmp_path / "nli.jsonl").write_text((data / "nli.jsonl").read_text())
    for sub in ("xnli", "tatoeba"):
        (tmp_path / sub).symlink_to(data / sub)
    monkeypatch.chdir(data)  # another current directory: the paths still mean the file's neighbours
    spec = load_spec(spec_file)
    assert spec.train_files["mnli"] == str(tmp_path / "nli.jsonl")
    assert spec.evaluation["xnli"]["data_dir"] == str((tmp_path / "xnli").resolve())
    result = CliRunner().invoke(main, ["experiment", str(spec_file), "--dry-run"])
    assert result.exit_code == 0, result.output
