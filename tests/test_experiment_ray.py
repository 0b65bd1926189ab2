"""rx experiment --ray on a local Ray (2 CPUs), for real: the grid gives the sequential run's results, independent
steps run at the same time, a failing step stops only the steps that need it, a re-run finishes what is left, and
bad settings fail in one line."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from click.testing import CliRunner
from test_experiment import data, write_spec  # noqa: F401  (the fixture and the file writer are shared)

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.report import build_report
from retrieval_xfer.evaluation.report_results import collect_results
from retrieval_xfer.experiment.plan import plan_steps
from retrieval_xfer.experiment.ray_executor import run_experiment_on_ray, step_log
from retrieval_xfer.experiment.runner import run_experiment
from retrieval_xfer.experiment.spec import load_spec

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # two "GPUs" declared so a step asking for them is scheduled; with no CUDA they train as 2 gloo processes
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def scores(results_dir):
    """Every score the report shows (headline, per language, per layer), by run and task."""
    report = build_report(collect_results([results_dir]), None)
    return report.scores, report.languages, report.sweeps


def test_ray_grid_equals_sequential_and_overlaps(tiny_model, data, tmp_path, caplog, rx_log):  # noqa: F811
    (tmp_path / "seq").mkdir()
    sequential = load_spec(write_spec(tmp_path / "seq", tiny_model, data))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # each Ray task trains on one thread: the same arithmetic, so the same numbers
    try:
        run_experiment(sequential, quiet=True)
    finally:
        torch.set_num_threads(threads)
    (tmp_path / "ray").mkdir()
    grid_spec = load_spec(write_spec(tmp_path / "ray", tiny_model, data))
    grid = run_experiment_on_ray(grid_spec)
    lines = rx_log()
    assert not grid.failures
    assert {status for _, status in grid.statuses} == {"ran"}
    assert sum(len(tasks) for tasks in scores(tmp_path / "seq" / "results")[0].values()) == 6  # 2 sets x 3 tasks
    assert scores(tmp_path / "ray" / "results") == scores(tmp_path / "seq" / "results")
    assert (tmp_path / "ray" / "report" / "xtreme.csv").read_text() == (
        tmp_path / "seq" / "report" / "xtreme.csv"
    ).read_text()
    # independent steps ran at the same time: some two steps' intervals overlap
    spans = sorted((o.started, o.ended) for o in grid.outcomes.values())
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))
    assert sum(line.split()[1] == "start" for line in lines) == len(plan_steps(grid_spec))
    assert f"done {len(plan_steps(grid_spec))} / running 0 / waiting 0 / failed 0" in lines[-1]
    for step in plan_steps(grid_spec):
        assert step_log(grid_spec, step).read_text().startswith(f"== {step.label} on ")
    caplog.clear()
    run_experiment_on_ray(grid_spec)  # all done: only the report is redrawn
    again = rx_log()
    assert sum("start" in line.split()[1:2] for line in again) == 1


def test_a_failing_step_stops_only_what_needs_it_and_a_rerun_finishes(tiny_model, data, tmp_path):  # noqa: F811
    broken = tmp_path / "empty-panx"
    broken.mkdir()
    path = write_spec(
        tmp_path,
        tiny_model,
        data,
        evaluation={
            "xnli": {"data_dir": str(data / "xnli")},
            "panx": {"data_dir": str(broken)},
            "tatoeba": {"data_dir": str(data / "tatoeba"), "langs": "de"},
        },
    )
    spec = load_spec(path)
    grid = run_experiment_on_ray(spec)
    status = {step.label: s for step, s in grid.statuses}
    assert status["tiny/baseline: panx"] == status["tiny/mnli: panx"] == "failed"
    assert status["report"] == "blocked"
    assert all(s == "ran" for label, s in status.items() if "panx" not in label and label != "report")
    assert (tmp_path / "results" / "tiny-mnli" / "xnli.json").is_file()  # the siblings finished
    failed_logs = [log for _, _, log in grid.failures]
    assert all("Traceback" in log.read_text() for log in failed_logs)

    result = CliRunner().invoke(main, ["experiment", str(path), "--ray"])  # the same failure through the CLI
    assert result.exit_code == 1
    assert result.output.count("FAILED") >= 2 and "log:" in result.output

    spec.evaluation["panx"]["data_dir"] = str(data / "panx")  # fix the input: only the failed steps and the report run
    rerun = run_experiment_on_ray(spec)
    assert sorted(step.label for step, s in rerun.statuses if s == "ran") == [
        "report",
        "tiny/baseline: panx",
        "tiny/mnli: panx",
    ]


@pytest.mark.parametrize(
    "resources,message",
    [
        ({"training": {"num_gpus": 1}}, "no step kind 'training'"),
        ({"train": {"gpus": 1}}, "unknown key 'gpus'"),
        ({"eval": {"num_cpus": -1}}, "expected a number >= 0"),
        ({"train": {"num_gpus": 2.5}}, "whole number"),
    ],
)
def test_bad_resources_fail_in_one_line(tiny_model, data, tmp_path, resources, message):  # noqa: F811
    with pytest.raises(RxError, match=message):
        load_spec(write_spec(tmp_path, tiny_model, data, resources=resources))


@pytest.mark.parametrize("field,name", [("base_models", "/tmp/elsewhere"), ("intermediate", "..")])
def test_names_must_be_plain_folder_names(tiny_model, data, tmp_path, field, name):  # noqa: F811
    value = {name: str(tiny_model)} if field == "base_models" else {"baseline": [], name: ["mnli"]}
    with pytest.raises(RxError, match="must be a plain name"):
        load_spec(write_spec(tmp_path, tiny_model, data, **{field: value}))


def test_unreachable_address_is_one_line(tiny_model, data, tmp_path):  # noqa: F811
    ray.shutdown()
    try:
        result = CliRunner().invoke(
            main, ["experiment", str(write_spec(tmp_path, tiny_model, data)), "--ray", "127.0.0.1:9"]
        )
        assert result.exit_code == 1
        assert "no Ray cluster answers at 127.0.0.1:9" in result.output
    finally:
        ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)


def test_dry_run_sizes_each_training_step(tiny_model, data, tmp_path):  # noqa: F811
    path = write_spec(
        tmp_path, tiny_model, data, train={"epochs": 2, "batch_size": 4}, resources={"train": {"num_gpus": 2}}
    )
    result = CliRunner().invoke(main, ["experiment", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "intermediate mnli" in line]
    assert "mnli 24 examples x 2 epoch(s) = 48 examples; global batch 8" in lines[0]
    yaml.safe_load(path.read_text())  # the file itself is untouched


def test_a_step_with_several_gpus_trains_data_parallel_in_its_task(tiny_model, data, tmp_path):  # noqa: F811
    path = write_spec(
        tmp_path,
        tiny_model,
        data,
        intermediate={"mnli": ["mnli"]},
        targets=[],
        evaluation={"tatoeba": {"data_dir": str(data / "tatoeba"), "langs": "de"}},
        resources={"train": {"num_gpus": 2}},
    )
    grid = run_experiment_on_ray(load_spec(path))
    assert not grid.failures, [log.read_text()[-2000:] for _, _, log in grid.failures]
    run = json.loads((tmp_path / "runs" / "tiny" / "mnli" / "run.json").read_text())
    assert run["distributed"]["world_size"] == 2 and run["distributed"]["global_batch"] == 8


@pytest.mark.parametrize(
    "resources,message",
    [
        ({"train": {"num_cpus": 8}}, "resources.train asks for 8 CPU(s) and 0 GPU(s) a step, but no node"),
        ({"eval": {"num_gpus": 4}}, "resources.eval asks for 1 CPU(s) and 4 GPU(s) a step, but no node"),
    ],
)
def test_resources_no_node_has_are_refused_before_any_step(tiny_model, data, tmp_path, resources, message):  # noqa: F811

    spec = load_spec(write_spec(tmp_path, tiny_model, data, resources=resources))
    with pytest.raises(RxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_experiment_on_ray(spec)
    assert not (tmp_path / "results").exists()


def test_seeds_train_per_seed_in_parallel_and_the_report_marks_each_delta(tiny_model, data, tmp_path):  # noqa: F811
    """``seeds: [1, 2]`` on Ray: each training step once per seed (folders and labels carry it, the run records
    it), the base model's own Tatoeba once, and the report's scores are the means over the seeds' result files."""
    evaluation = yaml.safe_load(write_spec(tmp_path, tiny_model, data).read_text())["evaluation"]
    del evaluation["panx"]
    path = write_spec(tmp_path, tiny_model, data, seeds=[1, 2], targets=["xnli"], evaluation=evaluation)
    spec = load_spec(path)
    dry = CliRunner().invoke(main, ["experiment", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "tiny: intermediate mnli (mnli) seed 2: to run -> " in dry.output
    assert "tiny/baseline seed 1: target xnli_en: to run" in dry.output
    trained = [step.output for step in plan_steps(spec) if step.kind == "train"]
    assert sorted(str(p.relative_to(tmp_path / "runs" / "tiny")) for p in trained) == [
        "baseline+xnli_en/seed-1",
        "baseline+xnli_en/seed-2",
        "mnli+xnli_en/seed-1",
        "mnli+xnli_en/seed-2",
        "mnli/seed-1",
        "mnli/seed-2",
    ]
    grid = run_experiment_on_ray(spec)
    assert not grid.failures
    # the seeds' steps need nothing of each other: Ray may run them side by side
    # (test_ray_grid_equals_sequential_and_overlaps checks that independent steps overlap)
    assert all(not step.needs for step in plan_steps(spec) if step.kind == "train" and step.base)
    for folder in trained:
        assert json.loads((folder / "run.json").read_text())["seed"] == int(folder.name.split("-")[1])
    results = tmp_path / "results"
    assert sorted(str(p.relative_to(results)) for p in results.rglob("*.json")) == [
        "tiny-baseline/seed-1/xnli.json",
        "tiny-baseline/seed-2/xnli.json",
        "tiny-baseline/tatoeba.json",
        "tiny-mnli/seed-1/tatoeba.json",
        "tiny-mnli/seed-1/xnli.json",
        "tiny-mnli/seed-2/tatoeba.json",
        "tiny-mnli/seed-2/xnli.json",
    ]
    first, second = (
        json.loads((results / "tiny-mnli" / f"seed-{s}" / "xnli.json").read_text())["averages"]["accuracy"]
        for s in (1, 2)
    )
    report = build_report(collect_results([results]), "tiny-baseline")
    assert report.scores["tiny-mnli"]["xnli"] == pytest.approx((first + second) / 2)
    assert ("tiny-mnli", "xnli") in report.paired and ("tiny-mnli", "tatoeba") in report.paired
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Seeds" in text and "| tiny-mnli | xnli | 1, 2 |" in text
