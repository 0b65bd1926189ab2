"""rx report on hand-written result files: the XTREME table, deltas, resource groups, pictures, bad input."""

import csv
import json

import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.evaluation.language_resources import resource_group
from retrieval_xfer.evaluation.report import build_report
from retrieval_xfer.evaluation.report_results import collect_results

# run -> task -> {lang: score}; keys as rx eval writes them (BUCC by pair, Tatoeba by the user's code)
SCORES = {
    "base": {
        "xnli": {"de": 70.0, "sw": 50.0, "ur": 55.0},
        "panx": {"de": 60.0, "yo": 20.0},
        "tatoeba": {"de": 80.0, "jv": 10.0},
        "bucc2018": {"zh-en": 40.0},
    },
    "mnli": {
        "xnli": {"de": 74.0, "sw": 58.0, "ur": 60.0},
        "panx": {"de": 59.0, "yo": 26.0},
        "tatoeba": {"de": 82.0, "jv": 20.0},
        "bucc2018": {"zh-en": 46.0},
    },
    "qqp": {"xnli": {"de": 69.0, "sw": 49.0}, "tatoeba": {"de": 81.0, "jv": 11.0, "af": 30.0}},
}
KEY = {"xnli": "accuracy", "panx": "f1", "tatoeba": "en2xx", "bucc2018": "f1"}


def write_result(path, task, scores, created="2026-11-25T10:00:00+00:00", sweep=None):
    key = KEY[task]
    payload = {
        "task": task,
        "model": "m",
        "created_at": created,
        "scores": {lang: {key: v, "n": 10} for lang, v in scores.items()},
        "averages": {key: sum(scores.values()) / len(scores)},
    }
    if sweep:
        payload["layer_sweep"] = {
            "main_layer": 2,
            "key": key,
            "layers": {str(k): {"averages": {key: v}} for k, v in sweep.items()},
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


@pytest.fixture()
def results(tmp_path):
    for run, tasks in SCORES.items():
        for task, scores in tasks.items():
            sweep = {0: 5.0, 1: 30.0, 2: 60.0, 3: 50.0} if (run, task) == ("mnli", "tatoeba") else None
            write_result(tmp_path / "results" / run / f"{task}.json", task, scores, sweep=sweep)
    # an older tatoeba result of qqp: the newer one above must win
    write_result(
        tmp_path / "results" / "qqp" / "old" / "tatoeba.json",
        "tatoeba",
        {"de": 0.0},
        created="2020-01-01T00:00:00+00:00",
    )
    return tmp_path / "results"


def mean(values):
    return sum(values) / len(values)


def test_groups_follow_the_documented_table():
    assert [resource_group(lang) for lang in ("en", "de", "ur", "eu", "sw", "jv", "yo")] == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
        "low",
        "unseen",
    ]


def test_table_deltas_and_groups(results):
    report = build_report(collect_results([results]), "base")
    assert report.runs == ["base", "mnli", "qqp"]
    assert report.tasks == ["xnli", "panx", "bucc2018", "tatoeba"]  # XTREME's order
    assert report.scores["mnli"]["xnli"] == pytest.approx(mean([74, 58, 60]))
    assert report.scores["qqp"]["tatoeba"] == pytest.approx(mean([81, 11, 30]))  # not the older file
    assert report.scores["qqp"]["panx"] is None
    # deltas use the languages both runs have: qqp has no ur (xnli), and af is not in the baseline (tatoeba)
    assert report.delta("qqp", "xnli") == pytest.approx(mean([-1, -1]))
    assert report.delta("qqp", "tatoeba") == pytest.approx(mean([1, 1]))
    assert report.delta("mnli", "bucc2018") == pytest.approx(6.0)
    groups = report.group_gains("mnli")
    # high: xnli de +4, panx de -1, tatoeba de +2, bucc zh +6; medium: xnli ur +5; low: xnli sw +8, tatoeba jv +10;
    # unseen: panx yo +6
    assert groups["high"] == (pytest.approx(mean([4, -1, 2, 6])), 4)
    assert groups["medium"] == (pytest.approx(5.0), 1)
    assert groups["low"] == (pytest.approx(9.0), 2)
    assert groups["unseen"] == (pytest.approx(6.0), 1)
    assert report.sweeps == {"mnli": {"tatoeba": {0: 5.0, 1: 30.0, 2: 60.0, 3: 50.0}}}


def test_cli_writes_markdown_csv_and_valid_pictures(results, tmp_path):
    import matplotlib.image

    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(results), "--baseline", str(results / "base"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("gain_vs_size.png", "groups.png", "layers.png"):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(out / name)
        assert image.shape[0] > 200 and image.shape[1] > 300
    rows = list(csv.reader((out / "xtreme.csv").open()))
    assert rows[0] == ["run", "xnli", "panx", "bucc2018", "tatoeba", "avg"]
    mnli = dict(zip(rows[0], rows[2]))
    expected_avg = mean([mean([74, 58, 60]), mean([59, 26]), 46.0, mean([82, 20])])
    assert float(mnli["avg"]) == round(expected_avg, 2)  # rounded as the tables are
    groups = {(r["run"], r["group"]): r for r in csv.DictReader((out / "groups.csv").open())}
    assert float(groups[("mnli", "low")]["mean_gain"]) == pytest.approx(9.0)
    markdown = (out / "report.md").read_text()
    assert "## Low-resource view" in markdown and "| mnli | +5.67 — |" in markdown  # xnli: +4, +8, +5; no outcomes: —
    assert "qqp/old/tatoeba.json" in markdown  # named as replaced by the newer result
    assert "| mnli | tatoeba | 2 | 60.00 |" in markdown  # best layer of the sweep
    # redrawn over itself only with --overwrite; never over a folder holding another file
    args = ["report", str(results), "--baseline", str(results / "base"), "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "already exists (pass --overwrite" in result.output
    args.append("--overwrite")
    assert CliRunner().invoke(main, args).exit_code == 0
    (out / "notes.md").write_text("mine")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "holds notes.md, which rx report did not write" in result.output
    assert (out / "notes.md").read_text() == "mine"


def test_bad_input_is_one_line(results, tmp_path):
    runner = CliRunner()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text("{not json")
    other = tmp_path / "other" / "run" / "r.json"
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps({"task": "mnli", "scores": {}}))
    wrong_key = tmp_path / "wrong" / "run" / "r.json"
    wrong_key.parent.mkdir(parents=True)
    wrong_key.write_text(json.dumps({"task": "panx", "scores": {"de": {"accuracy": 50.0}}}))
    cases = [
        (["report", str(tmp_path / "bad")], "x.json: not a readable result file"),
        (["report", str(tmp_path / "other")], "result of task 'mnli', which no task card evaluates"),
        (["report", str(tmp_path / "wrong")], "language 'de' has no 'f1' score; is it a panx result?"),
        (["report", str(results), "--baseline", "xlmr"], "--baseline 'xlmr' is not among the runs"),
        (["report", str(tmp_path / "nothing")], "no such file or folder"),
    ]
    for args, message in cases:
        result = runner.invoke(main, [*args, "--out", str(tmp_path / "out")])
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_trend_needs_enough_points(results, tmp_path):
    import numpy as np

    from retrieval_xfer.evaluation.language_resources import language_resources
    from retrieval_xfer.evaluation.report import MIN_TREND_POINTS

    report = build_report(collect_results([results]), "base")
    sizes = language_resources()["sizes"]
    for run in ("mnli", "qqp"):
        code = lambda key: key.split("-")[0]  # noqa: E731 - a BUCC pair counts for its non-English language
        points = [
            (np.log10(sizes[code(lang)]), SCORES[run][task][lang] - SCORES["base"][task][lang])
            for task in SCORES[run]
            for lang in SCORES[run][task]
            if lang in SCORES["base"].get(task, {}) and sizes.get(code(lang)) is not None
        ]
        slope, said = report.gain_trend(run)
        if len(points) >= MIN_TREND_POINTS:
            assert slope == pytest.approx(np.polyfit(*zip(*points), 1)[0]) and f"{slope:+.2f} points" in said
        else:
            assert slope is None and said.startswith(f"no trend for {run}: {len(points)} (task, language) point")
    assert report.gain_trend("mnli")[0] is not None and report.gain_trend("qqp")[0] is None  # 7 points vs 4
    CliRunner().invoke(main, ["report", str(results), "--baseline", "base", "--out", str(tmp_path / "r")])
    assert "- no trend for qqp: 4 (task, language) point(s)" in (tmp_path / "r" / "report.md").read_text()


def test_diagnostics_get_their_own_section(results, tmp_path):
    layers = {}
    for layer, (gain, lid, align) in {"2": (10.0, 90.0, 0.5), "3": (4.0, 70.0, 0.7)}.items():
        languages = {"de": {"centering_gain": gain - 2}, "sw": {"centering_gain": gain + 2}}
        layers[layer] = {
            "averages": {
                "en2xx": 50.0,
                "en2xx_centered": 50.0 + gain,
                "centering_gain": gain,
                "lid_accuracy": lid,
                "lid_chance": 33.3,
                "alignment": align,
                "uniformity": -2.0,
                "hubness": 1.5,
            },
            "languages": languages,
        }
    (results / "mnli" / "diagnose.json").write_text(
        json.dumps(
            {
                "task": "diagnose",
                "model": "m",
                "created_at": "2026-11-25T10:00:00+00:00",
                "main_layer": 2,
                "layers": layers,
            }
        )
    )
    out = tmp_path / "r"
    result = CliRunner().invoke(main, ["report", str(results), "--baseline", "base", "--out", str(out)])
    assert result.exit_code == 0, result.output
    markdown = (out / "report.md").read_text()
    assert "## How aligned is each model" in markdown
    assert "| mnli | 2 | 50.00 | 60.00 | +10.00 | 90.00 | 33.30 | 0.500 | -2.000 | 1.50 | 3 |" in markdown
    assert "| mnli | +8.00 (n=1) |" in markdown  # de is a high-resource language: its gain is 10 - 2
    assert (out / "alignment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
