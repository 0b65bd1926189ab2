"""rx mine's post-filters (--max-score, --length-ratio, --numbers-agree, --one-to-one, --dedup-pairs) and --threshold
auto."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.auto_threshold import estimate_threshold
from retrieval_xfer.mining.candidates import Candidates, candidates_from_neighbours
from retrieval_xfer.mining.knn import knn_both_ways
from retrieval_xfer.mining.options import AutoThresholdOptions, MiningOptions, PostFilters
from retrieval_xfer.mining.post_filters import apply_post_filters, numbers_in, text_length
from retrieval_xfer.vectors import ArrayVectors

SRC = ["ein Haus", "ein sehr langer Satz mit vielen Wörtern darin", "ein Haus!", "Baum", "猫喜欢鱼"]
TRG = ["a house", "short", "A house", "tree", "the cat likes fish"]


def candidates(rows: list[tuple[int, int, float]]) -> Candidates:
    src, trg, score = zip(*rows)
    return Candidates(np.array(src), np.array(trg), np.array(score, dtype=np.float64))


def test_each_filter_drops_what_it_names_and_counts_it():
    found = candidates([(0, 0, 1.5), (2, 2, 1.2), (1, 1, 1.15), (0, 3, 1.1), (3, 3, 1.05), (4, 4, 1.03), (3, 1, 0.9)])
    filters = PostFilters(max_score=1.4, length_ratio="0.5,2", one_to_one=True, dedup_pairs=True)
    kept, dropped = apply_post_filters(
        found, 1.0, filters, SRC, TRG, pair_key=lambda text: "".join(c for c in text.lower() if c.isalnum())
    )
    # (3,1) is below 1.0; (0,0) above 1.4; (1,1): 45 chars vs 5; (0,3) is 8 vs 4 chars = 2.0 (kept), then (3,3)
    # shares target 3 with it; (4,4): 4 CJK tokens vs 4 words; (2,2) is the only pair with text "einhaus"/"ahouse"
    assert dropped == {
        "below threshold": 1,
        "above max score": 1,
        "length ratio": 1,
        "not one-to-one": 1,
        "duplicate pair": 0,
    }
    assert list(zip(kept.src.tolist(), kept.trg.tolist())) == [(2, 2), (0, 3), (4, 4)]


def test_duplicate_pairs_by_normalised_text():
    found = candidates([(0, 0, 1.3), (2, 2, 1.2)])  # "ein Haus"/"a house" and "ein Haus!"/"A house"
    kept, dropped = apply_post_filters(
        found, None, PostFilters(dedup_pairs=True), SRC, TRG, pair_key=lambda text: text.lower().strip("!")
    )
    assert dropped == {"duplicate pair": 1} and kept.src.tolist() == [0]


def test_length_in_tokens_for_cjk():
    assert text_length("猫喜欢鱼", in_tokens=True) == 4
    assert text_length("Blender 的 3D 视图", in_tokens=True) == 2 + 3  # 2 words (Blender, 3D), 3 Han characters
    assert text_length("the cat", in_tokens=False) == 7


def test_numbers_are_digit_runs_in_any_script_and_order():
    assert numbers_in("1.000,5 Euro") == numbers_in("EUR 1,000.5") == ["000", "1", "5"]
    assert numbers_in("Seite ١٢ von ３") == ["12", "3"]  # Arabic-Indic and full-width digits read as ASCII
    assert numbers_in("von 1 bis 31") != numbers_in("from 1 to 12")
    assert numbers_in("007") != numbers_in("7") and numbers_in("no digits") == []


def test_numbers_agree_drops_near_misses_before_one_to_one():
    src = ["Tag des Monats (1 bis 31)", "Kapitel 2 und 3", "ohne Zahl"]
    trg = ["day of the month (1 to 12)", "day of the month (1 to 31)", "chapters 3 and 2", "no number"]
    # source 0's best candidate differs in its numbers; dropped before one-to-one, its second candidate is kept
    found = candidates([(0, 0, 1.3), (0, 1, 1.2), (1, 2, 1.1), (2, 3, 1.05), (2, 2, 1.0)])
    kept, dropped = apply_post_filters(found, None, PostFilters(numbers_agree=True, one_to_one=True), src, trg)
    assert dropped == {"numbers differ": 2, "not one-to-one": 0}
    assert list(zip(kept.src.tolist(), kept.trg.tolist())) == [(0, 1), (1, 2), (2, 3)]


@pytest.mark.parametrize("ratio", ["2", "a,b", "2,1", "0,1"])
def test_a_bad_length_ratio_is_one_line(ratio):
    with pytest.raises(RxError, match="--length-ratio"):
        PostFilters(length_ratio=ratio)


@pytest.mark.parametrize(
    "filters", [PostFilters(dedup_pairs=True), PostFilters(numbers_agree=True), PostFilters(length_ratio="0.5,2")]
)
def test_filters_that_read_sentences_need_them(filters):
    with pytest.raises(RxError, match="need the sentences"):
        apply_post_filters(candidates([(0, 0, 1.0)]), None, filters, None, None)


def synthetic(n_gold: int, n_distract: int, seed: int, dim: int = 64, noise: float = 0.6):
    """Gold pairs (a shared random direction plus noise on each side) and unpaired distractors on each side."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_gold, dim))
    x = np.concatenate([base + noise * rng.standard_normal((n_gold, dim)), rng.standard_normal((n_distract, dim))])
    y = np.concatenate([base + noise * rng.standard_normal((n_gold, dim)), rng.standard_normal((n_distract, dim))])
    unit = lambda m: (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)
    return unit(x), unit(y)


def test_auto_threshold_is_near_the_precision_measured_with_gold():
    """Estimated without the corpus's gold, checked with it: the corpus is half pairs, half unpaired rows."""
    settings = MiningOptions().resolved({"k": 4, "margin": "ratio", "retrieval": "max"})
    corpus_x, corpus_y = synthetic(800, 800, seed=1, noise=1.0)
    sample_x, sample_y = synthetic(1000, 0, seed=2, noise=1.0)
    found = candidates_from_neighbours(knn_both_ways(ArrayVectors(corpus_x), ArrayVectors(corpus_y), 4), "ratio", "max")
    estimate = estimate_threshold(
        sample_x,
        sample_y,
        ArrayVectors(corpus_x),
        ArrayVectors(corpus_y),
        found,
        settings,
        AutoThresholdOptions(target_precision=0.9),
    )
    assert estimate.expected_precision >= 0.9 and 0.3 < estimate.expected_recall < 1
    assert abs(estimate.share_with_translation - 0.5) < 0.05  # 800 of 1600 rows have a translation
    # two thirds of the sample per side take the place of as many corpus rows: the set is as crowded as the corpus
    assert estimate.sample_pairs == 1000 and estimate.distractors == (1600 - 666, 1600 - 666)
    kept = found.score >= estimate.threshold
    right = (found.src == found.trg) & (found.src < 800)
    precision, recall = right[kept].mean(), right[kept].sum() / 800
    assert precision >= 0.87 and abs(recall - estimate.expected_recall) < 0.1, (precision, recall, estimate)


def test_auto_threshold_for_f1_is_near_the_best_f1_measured_with_gold():
    """The f1 objective, checked with the corpus's gold: its threshold's measured F1 is close to the best any
    threshold reaches, and it keeps more pairs than a high precision target."""
    settings = MiningOptions().resolved({"k": 4, "margin": "ratio", "retrieval": "max"})
    corpus_x, corpus_y = synthetic(800, 800, seed=1, noise=1.0)
    sample_x, sample_y = synthetic(1000, 0, seed=2, noise=1.0)
    found = candidates_from_neighbours(knn_both_ways(ArrayVectors(corpus_x), ArrayVectors(corpus_y), 4), "ratio", "max")
    corpus = ArrayVectors(corpus_x), ArrayVectors(corpus_y)
    for_f1 = estimate_threshold(sample_x, sample_y, *corpus, found, settings, AutoThresholdOptions(objective="f1"))
    for_precision = estimate_threshold(
        sample_x, sample_y, *corpus, found, settings, AutoThresholdOptions(target_precision=0.95)
    )
    assert for_f1.objective == "f1" and for_f1.threshold < for_precision.threshold
    right = (found.src == found.trg) & (found.src < 800)
    order = np.argsort(-found.score)
    hits = np.cumsum(right[order])
    f1_at = 2 * hits / (np.arange(1, len(order) + 1) + 800)  # F1 = 2 right / (kept + gold), keeping the best i
    kept = found.score >= for_f1.threshold
    measured = 2 * right[kept].sum() / (kept.sum() + 800)
    assert measured >= f1_at.max() - 0.03, (measured, f1_at.max())
    expected = 2 * for_f1.expected_precision * for_f1.expected_recall
    assert abs(expected / (for_f1.expected_precision + for_f1.expected_recall) - measured) < 0.05


def test_auto_threshold_errors():
    settings = MiningOptions().resolved({"k": 4, "margin": "ratio", "retrieval": "max"})
    x, y = synthetic(100, 100, seed=3)
    corpus = ArrayVectors(x)
    found = candidates_from_neighbours(knn_both_ways(corpus, ArrayVectors(y), 4), "ratio", "max")
    with pytest.raises(RxError, match="must pair up"):
        estimate_threshold(x[:60], y[:61], corpus, corpus, found, settings)
    with pytest.raises(RxError, match="at least 50"):
        estimate_threshold(x[:10], y[:10], corpus, corpus, found, settings)
    with pytest.raises(RxError, match="--objective 'recall': choose one of precision, f1"):
        estimate_threshold(x[:60], y[:60], corpus, corpus, found, settings, AutoThresholdOptions(objective="recall"))
    with pytest.raises(RxError, match="no threshold reaches precision"):
        rng = np.random.default_rng(0)
        noise = rng.standard_normal((60, x.shape[1])).astype(np.float32)  # a "sample" whose lines do not pair
        estimate_threshold(x[:60], noise, corpus, corpus, found, settings, AutoThresholdOptions(target_precision=1.0))


def test_rx_mine_post_filters_equal_filtering_the_unfiltered_pairs(tiny_model, tmp_path):
    src = tmp_path / "src.txt"
    trg = tmp_path / "trg.txt"
    src.write_text("".join(f"Satz Nummer {i} über Dinge.\n" for i in range(30)) + "x\n", encoding="utf-8")
    trg.write_text("".join(f"sentence number {i} about things and more words.\n" for i in range(31)), encoding="utf-8")
    runner = CliRunner()
    base = ["mine", "--model", str(tiny_model), "--src", str(src), "--trg", str(trg), "--quiet"]
    assert runner.invoke(main, [*base, "--out", str(tmp_path / "all.tsv")]).exit_code == 0
    rows = [line.split("\t") for line in (tmp_path / "all.tsv").read_text(encoding="utf-8").splitlines()]
    scores = sorted(float(r[0]) for r in rows)
    cap = scores[len(scores) // 2]
    result = runner.invoke(
        main, [*base, "--out", str(tmp_path / "some.tsv"), "--max-score", str(cap), "--length-ratio", "0.4,1.0"]
    )
    assert result.exit_code == 0, result.output
    expected = [
        r for r in rows if float(r[0]) <= cap and 0.4 <= len(r[3]) / len(r[4]) <= 1.0
    ]  # independent: from the unfiltered file's texts
    assert [line.split("\t") for line in (tmp_path / "some.tsv").read_text(encoding="utf-8").splitlines()] == expected
    sidecar = json.loads((tmp_path / "some.tsv.json").read_text())
    assert sidecar["dropped"]["above max score"] + sidecar["dropped"]["length ratio"] == len(rows) - len(expected)
    assert sidecar["post_filters"]["length_ratio"] == "0.4,1.0"


def test_rx_mine_numbers_agree_equals_filtering_the_unfiltered_pairs(tiny_model, tmp_path):
    src = tmp_path / "src.txt"
    trg = tmp_path / "trg.txt"
    # whatever the random model's weights: the lines both sides share are each other's nearest (equal texts, equal
    # vectors), so those pairs agree; every other line holds a number no line of the other side has, so it does not
    name = lambda i: chr(97 + i % 26) * (1 + i // 26)  # distinct lines without digits of their own
    shared = [f"Zeile {name(i)} hat {i}." for i in range(10)]
    src_lines = shared + [f"Satz {name(i)} Nummer {100 + i}." for i in range(20)]
    trg_lines = shared + [f"sentence {name(i)} number {200 + i}." for i in range(20)]
    src.write_text("".join(f"{line}\n" for line in src_lines), encoding="utf-8")
    trg.write_text("".join(f"{line}\n" for line in trg_lines), encoding="utf-8")
    runner = CliRunner()
    base = ["mine", "--model", str(tiny_model), "--src", str(src), "--trg", str(trg), "--quiet"]
    assert runner.invoke(main, [*base, "--out", str(tmp_path / "all.tsv")]).exit_code == 0
    rows = [line.split("\t") for line in (tmp_path / "all.tsv").read_text(encoding="utf-8").splitlines()]
    result = runner.invoke(main, [*base, "--out", str(tmp_path / "some.tsv"), "--numbers-agree"])
    assert result.exit_code == 0, result.output
    digits = lambda text: sorted(re.findall(r"[0-9]+", text))  # independent: ASCII digits are all this input has
    expected = [r for r in rows if digits(r[3]) == digits(r[4])]
    assert 0 < len(expected) < len(rows)  # the random model pairs some sentences rightly and some not
    assert [line.split("\t") for line in (tmp_path / "some.tsv").read_text(encoding="utf-8").splitlines()] == expected
    sidecar = json.loads((tmp_path / "some.tsv.json").read_text())
    assert sidecar["dropped"]["numbers differ"] == len(rows) - len(expected)
    assert sidecar["post_filters"]["numbers_agree"] is True


def test_rx_mine_threshold_auto_errors_are_one_line(tiny_model, tmp_path):
    src = tmp_path / "src.txt"
    src.write_text("eins zwei\ndrei vier\n", encoding="utf-8")
    runner = CliRunner()
    base = ["mine", "--model", str(tiny_model), "--src", str(src), "--trg", str(src), "--out", str(tmp_path / "p")]
    result = runner.invoke(main, [*base, "--threshold", "auto"])
    assert result.exit_code == 1 and "needs a parallel sample of this language pair" in result.output
    assert not (tmp_path / "p").exists()
    result = runner.invoke(main, [*base, "--threshold", "high"])
    assert result.exit_code == 2 and "neither a number nor auto" in result.output
    short = tmp_path / "short.txt"
    short.write_text("eins\n", encoding="utf-8")
    result = runner.invoke(main, [*base, "--threshold", "auto", "--sample-src", str(src), "--sample-trg", str(short)])
    assert result.exit_code == 1 and "a parallel sample pairs line i with line i" in result.output
    result = runner.invoke(main, [*base, "--sample-src", str(src), "--sample-trg", str(src)])
    assert result.exit_code == 1 and "are for --threshold auto" in result.output


def test_rx_mine_threshold_auto_end_to_end(tiny_model, tmp_path):
    """A random tiny model maps the same words to nearly the same vector: a sample whose target side is each source
    line's words in reverse order is a near-perfect parallel sample (the same text on both sides is refused); the
    corpus pairs its first 40 lines the same way."""
    from conftest import WORDS

    rng = np.random.default_rng(0)
    words = list(WORDS)  # the tiny tokenizer's vocabulary
    line = lambda: " ".join(rng.choice(words, 8))
    shared = [line() for _ in range(40)]
    src = tmp_path / "src.txt"
    trg = tmp_path / "trg.txt"
    src.write_text("\n".join(shared + [line() for _ in range(40)]) + "\n", encoding="utf-8")
    trg.write_text("\n".join(shared + [line() for _ in range(40)]) + "\n", encoding="utf-8")
    sample_lines = [line() for _ in range(90)]
    sample = tmp_path / "sample.txt"
    sample.write_text("\n".join(sample_lines) + "\n", encoding="utf-8")
    reversed_sample = tmp_path / "sample-reversed.txt"
    reversed_sample.write_text("\n".join(" ".join(s.split()[::-1]) for s in sample_lines) + "\n", encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    result = CliRunner().invoke(
        main,
        [
            "mine", "--model", str(tiny_model), "--src", str(src), "--trg", str(trg), "--out", str(out), "--quiet",
            "--threshold", "auto", "--sample-src", str(sample), "--sample-trg", str(reversed_sample),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "pairs.tsv.json").read_text())
    auto = sidecar["threshold_auto"]
    assert sidecar["threshold"] == auto["threshold"] and auto["expected_precision"] >= 0.95
    assert auto["sample_pairs"] == 90 and auto["target_precision"] == 0.95 and auto["objective"] == "precision"
    scores = [float(row.split("\t")[0]) for row in out.read_text(encoding="utf-8").splitlines()]
    assert scores and min(scores) >= auto["threshold"]
    assert sidecar["dropped"]["below threshold"] + len(scores) == sidecar["candidates"]
