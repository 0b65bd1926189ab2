"""Every evaluator in one registry: a retrieval task defined outside the package (a card and one module of this
test folder) runs through ``rx eval``, an experiment file and ``rx report`` without a line of package code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from retrieval_xfer.cli import main

REPO = Path(__file__).resolve().parent.parent
TOY_CARD = {
    "name": "toyretrieval",
    "kind": "retrieval",
    "format": "retrieval",
    "evaluator": "toy-nn",
    "evaluator_module": "toy_retrieval_evaluator",
    "metric": "accuracy",
    "report_key": "accuracy",
    "sources": {"local": {"source": "{lang}.tsv"}},
}
SENTENCES = [f"sentence number {word} about {topic}" for word in "abcdefgh" for topic in ("cats", "rain", "maps")]


@pytest.fixture
def toy_task(tmp_path, monkeypatch):
    """The shipped cards plus the toy card, and the toy data: for language xx the other side is the English text
    itself (every query finds its own row: 100), for yy it is shifted by one row (none does: 0)."""
    cards = tmp_path / "tasks"
    shutil.copytree(REPO / "tasks", cards)
    (cards / "toyretrieval.yaml").write_text(yaml.safe_dump(TOY_CARD))
    monkeypatch.setenv("RX_TASKS_DIR", str(cards))
    data = tmp_path / "toy-data"
    data.mkdir()
    (data / "xx.tsv").write_text("".join(f"{s}\t{s}\n" for s in SENTENCES))
    shifted = SENTENCES[1:] + SENTENCES[:1]
    (data / "yy.tsv").write_text("".join(f"{s}\t{t}\n" for s, t in zip(SENTENCES, shifted)))
    return data


def test_a_toy_retrieval_task_runs_through_rx_eval_an_experiment_and_rx_report(toy_task, tiny_model, tmp_path):
    from retrieval_xfer.experiment.runner import run_experiment
    from retrieval_xfer.experiment.spec import load_spec

    runner = CliRunner()
    listed = runner.invoke(main, ["eval", "--help"])
    assert listed.exit_code == 0 and "toyretrieval" in listed.output
    out = tmp_path / "results" / "direct" / "toy.json"
    run = runner.invoke(
        main, ["eval", "toyretrieval", "--model", str(tiny_model), "--data-dir", str(toy_task), "--output", str(out)]
    )
    assert run.exit_code == 0, run.output
    result = json.loads(out.read_text())
    assert {lang: s["accuracy"] for lang, s in result["scores"].items()} == {"xx": 100.0, "yy": 0.0}

    spec_file = tmp_path / "exp.yaml"
    spec_file.write_text(
        yaml.safe_dump(
            {
                "name": "toy",
                "base_models": {"tiny": str(tiny_model)},
                "retrieval": ["toyretrieval"],
                "evaluation": {"toyretrieval": {"data_dir": str(toy_task), "langs": "xx,yy", "layer": 2}},
                "runs_dir": str(tmp_path / "runs"),
                "results_dir": str(tmp_path / "results"),
                "report_dir": str(tmp_path / "report"),
            }
        )
    )
    statuses = run_experiment(load_spec(spec_file), quiet=True)
    assert [status for _, status in statuses] == ["ran", "ran"]  # the evaluation, then the report
    stepped = json.loads(next((tmp_path / "results").glob("tiny-none/toyretrieval.json")).read_text())
    assert stepped["averages"]["accuracy"] == 50.0 and stepped["layer"] == 2
    assert "toyretrieval" in (tmp_path / "report" / "report.md").read_text()

    report = runner.invoke(main, ["report", str(tmp_path / "results"), "--out", str(tmp_path / "report2")])
    assert report.exit_code == 0, report.output
    header = report.output.splitlines()[0]
    assert "toyretrieval" in header and "50.00" in report.output


def test_the_toy_task_touches_no_package_file_and_the_walkthrough_counts_it():
    """The plug-in is a card and one module (options, reader, evaluator, registry line); DESIGN.md's walkthrough
    says how many files each kind of change touches, and the toy task stays within it."""
    package = REPO / "retrieval_xfer"
    mentions = [p for p in package.rglob("*.py") if "toyretrieval" in p.read_text() or "toy-nn" in p.read_text()]
    assert mentions == []
    design = (REPO / "DESIGN.md").read_text()
    stated = int(re.search(r"new retrieval task[^|\n]*\|\s*(\d+)", design).group(1))
    toy_files = [Path("tasks/toyretrieval.yaml"), Path("tests/toy_retrieval_evaluator.py")]
    assert len(toy_files) <= stated <= 4
    assert int(re.search(r"new zero-shot task[^|\n]*\|\s*(\d+)", design).group(1)) == 1


def test_a_card_naming_an_unregistered_evaluator_fails_in_one_line(toy_task, tmp_path):
    card = {**TOY_CARD, "name": "ghost", "evaluator": "nobody", "evaluator_module": None}
    (Path(toy_task).parent / "tasks" / "ghost.yaml").write_text(yaml.safe_dump(card))
    result = CliRunner().invoke(main, ["eval", "ghost", "--help"])
    assert result.exit_code == 1
    assert "task 'ghost': no evaluator 'nobody' is registered" in result.output
