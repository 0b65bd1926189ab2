"""rx report over runs trained with several seeds (``results/<run>/seed-<n>/``): the mean over seeds, the seeds
table, intervals and paired deltas that draw the seeds, against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.evaluation.bootstrap import Units, paired_seeds_delta_interval, seeds_interval
from retrieval_xfer.evaluation.confidence import BootstrapOptions, attach_outcomes
from retrieval_xfer.evaluation.report import build_report
from retrieval_xfer.evaluation.report_results import collect_results
from retrieval_xfer.evaluation.results import write_results

LANGS = ("de", "sw", "yo")


def write_xnli(path, correct: dict[str, np.ndarray], created: str = "2026-12-05T10:00:00+00:00") -> None:
    """An XNLI result as rx eval writes it, from per-example right/wrong."""
    scores = {lang: {"accuracy": 100 * float(c.mean()), "n": len(c), "sha256": lang * 4} for lang, c in correct.items()}
    payload = {
        "task": "xnli",
        "metric": "accuracy",
        "model": "m",
        "created_at": created,
        "scores": scores,
        "averages": {"accuracy": float(np.mean([s["accuracy"] for s in scores.values()]))},
    }
    units = {"accuracy": {lang: Units("accuracy", c[:, None].astype(np.int8)) for lang, c in correct.items()}}
    write_results(path, attach_outcomes(payload, units, BootstrapOptions(bootstrap=200)))


@pytest.fixture()
def seeded(tmp_path):
    """Run ``base`` (3 seeds, ~60 %) and run ``inter`` (3 seeds, ~75 %) on the same 200 examples per language."""
    rng = np.random.default_rng(4)
    difficulty = {lang: rng.random(200) for lang in LANGS}
    outcomes = {}
    for run, level in (("base", 0.60), ("inter", 0.75)):
        for seed in (1, 2, 3):
            shift = 0.03 * rng.standard_normal()
            correct = {lang: d + 0.1 * rng.standard_normal(200) < level + shift for lang, d in difficulty.items()}
            write_xnli(tmp_path / "results" / run / f"seed-{seed}" / "xnli.json", correct)
            outcomes[(run, seed)] = correct
    return tmp_path / "results", outcomes


def test_a_run_over_seeds_is_the_mean_with_intervals_that_draw_the_seeds(seeded):
    root, outcomes = seeded
    report = build_report(collect_results([root]), "base")
    assert report.runs == ["base", "inter"] and not report.ignored
    for run in ("base", "inter"):
        per_seed = [[100 * outcomes[(run, s)][lang].mean() for lang in LANGS] for s in (1, 2, 3)]
        assert report.scores[run]["xnli"] == pytest.approx(np.mean(per_seed))
        for index, lang in enumerate(LANGS):
            assert report.languages["xnli"][lang][run] == pytest.approx(np.mean([row[index] for row in per_seed]))
        units = [
            [Units("accuracy", outcomes[(run, s)][lang][:, None].astype(np.int8)) for lang in LANGS] for s in (1, 2, 3)
        ]
        assert report.results[(run, "xnli")].intervals["average"] == pytest.approx(seeds_interval(units))
    base = [
        [Units("accuracy", outcomes[("base", s)][lang][:, None].astype(np.int8)) for lang in LANGS] for s in (1, 2, 3)
    ]
    inter = [
        [Units("accuracy", outcomes[("inter", s)][lang][:, None].astype(np.int8)) for lang in LANGS] for s in (1, 2, 3)
    ]
    delta = report.paired[("inter", "xnli")]
    assert (delta.low, delta.high) == pytest.approx(paired_seeds_delta_interval(base, inter))
    assert delta.holds and delta.b - delta.a == pytest.approx(report.delta("inter", "xnli"))


def test_the_report_shows_each_seed_and_the_spread(seeded, tmp_path):
    root, outcomes = seeded
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(root), "--baseline", "base", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text()
    assert "## Seeds" in text
    line = next(row for row in text.splitlines() if row.startswith("| inter | xnli |"))
    per_seed = [np.mean([100 * outcomes[("inter", s)][lang].mean() for lang in LANGS]) for s in (1, 2, 3)]
    assert f"| 1, 2, 3 | {', '.join(f'{v:.2f}' for v in per_seed)} | {np.mean(per_seed):.2f} |" in line
    assert line.endswith(f"| {np.std(per_seed, ddof=1):.2f} |")
    delta_row = next(row for row in text.splitlines() if row.startswith("| inter |") and "holds" in row)
    assert "holds" in delta_row


def test_seeds_outrank_a_result_without_one_and_one_seed_is_itself(seeded):
    root, outcomes = seeded
    rng = np.random.default_rng(0)
    write_xnli(root / "inter" / "xnli.json", {lang: rng.random(200) < 0.1 for lang in LANGS})
    write_xnli(root / "solo" / "seed-7" / "xnli.json", {lang: rng.random(200) < 0.5 for lang in LANGS})
    report = build_report(collect_results([root]), "base")
    assert root / "inter" / "xnli.json" in report.ignored
    assert report.results[("solo", "xnli")].seed == 7 and not report.results[("solo", "xnli")].seeds
    # a run's folder given alone: its seed folders are its seeds
    alone = build_report(collect_results([root / "inter"]))
    assert [r.seed for r in alone.results[("inter", "xnli")].seeds] == [1, 2, 3]


def test_rx_compare_takes_run_folders_of_seeds(seeded):
    root, outcomes = seeded
    result = CliRunner().invoke(main, ["compare", str(root / "base"), str(root / "inter"), "--task", "xnli"])
    assert result.exit_code == 0, result.output
    mean_row = next(line.split() for line in result.output.splitlines() if line.split()[1:2] == ["mean"])
    expected = [
        np.mean([100 * outcomes[(run, s)][lang].mean() for s in (1, 2, 3) for lang in LANGS])
        for run in ("base", "inter")
    ]
    assert [float(v) for v in mean_row[2:4]] == pytest.approx(expected, abs=0.006)
    assert mean_row[-1] == "holds" and "means over seeds (A: 3 seeds; B: 3 seeds)" in result.output
    for args, message in [
        ([str(root / "base"), str(root / "inter")], "a run folder; give --task"),
        ([str(root / "base"), str(root / "inter"), "--task", "panx"], "no panx.json in it nor in its seed-<n> folders"),
        ([str(root / "nowhere"), str(root / "inter")], "no such result file or run folder"),
    ]:
        failed = CliRunner().invoke(main, ["compare", *args])
        assert failed.exit_code == 1 and message in failed.output
