"""rx score (a given line-aligned corpus scored and filtered), rx mine --top-k, and the --format outputs: margins
against an independent numpy computation, every check and drop counted, bad input in one line, round-trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.pair_formats import PairTable, read_table, write_table
from retrieval_xfer.mining.score_threshold import estimate_given_threshold

K = 4


def brute_force(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosines of all pairs and each row's mean cosine over its k nearest in the other side (numpy only)."""
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    sims = xn @ yn.T
    x_mean = np.sort(sims, axis=1)[:, ::-1][:, :k].mean(axis=1)
    y_mean = np.sort(sims.T, axis=1)[:, ::-1][:, :k].mean(axis=1)
    return sims, x_mean, y_mean


def ratio(cosine: float, x_mean: float, y_mean: float) -> float:
    return cosine / max((x_mean + y_mean) / 2, 0.05)


@pytest.fixture()
def aligned_npy(tmp_path):
    """300 line-aligned pairs (row i of y is a noisy copy of row i of x), the first 40 misaligned: each holds the
    translation of the next line (as a shifted alignment does)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((300, 32)).astype(np.float32)
    y = x + 0.4 * rng.standard_normal((300, 32)).astype(np.float32)
    y[:40] = y[1:41] + 0.05 * rng.standard_normal((40, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, x, y


def test_margins_equal_an_independent_computation(aligned_npy):
    folder, x, y = aligned_npy
    out = folder / "scored.tsv"
    args = ["score", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, [*args, "--max-memory", "100KB"])
    assert result.exit_code == 0, result.output
    rows = read_table(out, "tsv")
    sims, x_mean, y_mean = brute_force(x, y, K)
    assert [int(r["line"]) for r in rows] == list(range(1, 301))
    for i, row in enumerate(rows):
        assert float(row["cosine"]) == pytest.approx(sims[i, i], abs=2e-6)
        assert float(row["score"]) == pytest.approx(ratio(sims[i, i], x_mean[i], y_mean[i]), abs=1e-5)
    sidecar = json.loads((folder / "scored.tsv.json").read_text())
    assert sidecar["pairs"] == 300 and sidecar["kept"] == 300 and sidecar["knn"]["kind"] == "exact"


def test_auto_threshold_drops_the_misaligned_and_counts_them(aligned_npy):
    folder, _, _ = aligned_npy
    out = folder / "kept.jsonl"
    args = ["score", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--threshold", "auto", "--format", "jsonl", "--with-dropped", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = read_table(out, "jsonl")
    dropped = {row["line"] for row in rows if row["drop"]}
    assert dropped == {str(i) for i in range(1, 41)}  # exactly the misaligned lines
    sidecar = json.loads((folder / "kept.jsonl.json").read_text())
    assert sidecar["dropped"]["below threshold"] == 40 and sidecar["kept"] == 260
    assert sidecar["threshold_auto"]["noise_share"] == pytest.approx(40 / 300, abs=0.05)


@pytest.fixture()
def text_pairs(tmp_path):
    de = [
        "Das Haus ist rot.",
        "Ich habe 3 Katzen und 2 Hunde.",
        "",
        "Der Hund schläft im Garten.",
        "Wir fahren morgen nach Berlin.",
        "Das Haus ist rot.",
        "Guten Morgen, wie geht es dir?",
        "Er liest ein Buch über Geschichte.",
    ]
    en = [
        "The house is red.",
        "I have 4 cats and 2 dogs.",  # numbers differ
        "An empty source line.",  # empty pair (source blank)
        "Der Hund schläft im Garten.",  # a copy
        "We are driving to Berlin tomorrow.",
        "The house is red.",  # the pair of line 1 again
        "",  # empty pair (target blank)
        "He reads a book about history.",
    ]
    return write_lines(tmp_path / "a.de", de), write_lines(tmp_path / "a.en", en)


def test_text_checks_flags_and_drops_by_reason(tiny_model, text_pairs, tmp_path):
    src, trg = text_pairs
    out = tmp_path / "scored.tsv"
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--model",
            str(tiny_model),
            "--src",
            str(src),
            "--trg",
            str(trg),
            "--out",
            str(out),
            "--numbers-agree",
            "--drop-copies",
            "--dedup-pairs",
            "--with-dropped",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {int(r["line"]): r for r in read_table(out, "tsv")}
    assert {line: rows[line]["drop"] for line in rows if rows[line]["drop"]} == {
        2: "numbers differ",
        3: "empty",
        4: "copy",
        6: "duplicate pair",
        7: "empty",
    }
    assert rows[3]["score"] == "" and rows[3]["flags"] == "empty"  # an empty pair has no score, never a NaN
    assert rows[4]["flags"] == "copy" and rows[8]["flags"] == ""
    sidecar = json.loads((tmp_path / "scored.tsv.json").read_text())
    assert sidecar["dropped"] == {"empty": 2, "copy": 1, "numbers differ": 1, "duplicate pair": 1}
    assert sidecar["kept"] == 3 and sidecar["pairs"] == 8


def test_different_line_counts_fail_before_any_model_loads(text_pairs, tmp_path):
    src, _ = text_pairs
    short = write_lines(tmp_path / "short.en", ["one", "two"])
    result = CliRunner().invoke(
        main, ["score", "--model", str(tmp_path / "no-model"), "--src", str(src), "--trg", str(short), "--out", "x"]
    )
    assert result.exit_code == 1
    assert f"{short}: 2 lines, but {src} has 8: rx score pairs line i of one with line i of the other" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "moses", "--with-dropped"], "--format moses has none"),
        (["--one-to-one"], "No such option"),
        (["--drop-copies"], "a .npy side holds no sentences, and --drop-copies reads them"),
        (["--sample-src", "a.txt"], "No such option"),
    ],
)
def test_settings_that_cannot_run_are_one_line(aligned_npy, extra, message):
    folder, _, _ = aligned_npy
    args = ["score", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--out", str(folder / "o.tsv")]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code != 0 and message in result.output


def test_outputs_are_never_a_users_file_or_an_input(aligned_npy):
    folder, _, _ = aligned_npy
    base = ["score", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--quiet"]
    user = folder / "notes.tsv"
    user.write_text("mine\n")
    result = CliRunner().invoke(main, [*base, "--out", str(user), "--overwrite"])
    assert result.exit_code == 1 and "notes.tsv: not an rx score output (no sidecar notes.tsv.json)" in result.output
    (folder / "other.tsv.json").write_text("{}")
    result = CliRunner().invoke(main, [*base, "--out", str(folder / "other.tsv"), "--overwrite"])
    assert result.exit_code == 1 and "other.tsv.json: exists and is not an rx score sidecar" in result.output
    assert user.read_text() == "mine\n" and (folder / "other.tsv.json").read_text() == "{}"
    result = CliRunner().invoke(main, [*base, "--out", str(folder / "x.npy")])
    assert result.exit_code == 1 and "is the input" in result.output
    assert CliRunner().invoke(main, [*base, "--out", str(folder / "s.tsv")]).exit_code == 0
    again = CliRunner().invoke(main, [*base, "--out", str(folder / "s.tsv")])
    assert again.exit_code == 1 and "already exists (pass --overwrite" in again.output
    assert CliRunner().invoke(main, [*base, "--out", str(folder / "s.tsv"), "--overwrite"]).exit_code == 0


def test_an_interrupted_score_leaves_nothing_and_resumes_to_the_same_bytes(aligned_npy, monkeypatch):
    from retrieval_xfer.workflows import score as scoring

    folder, _, _ = aligned_npy
    args = ["score", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--quiet"]
    assert CliRunner().invoke(main, [*args, "--out", str(folder / "whole.tsv")]).exit_code == 0
    original = scoring.pair_cosines

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(scoring, "pair_cosines", crash)
    killed = CliRunner().invoke(main, [*args, "--out", str(folder / "resumed.tsv"), "--max-memory", "100KB"])
    assert killed.exit_code != 0
    assert not (folder / "resumed.tsv").exists() and (folder / "resumed.tsv.rx-score").is_dir()
    monkeypatch.setattr(scoring, "pair_cosines", original)
    result = CliRunner().invoke(main, [*args, "--out", str(folder / "resumed.tsv"), "--max-memory", "100KB"])
    assert result.exit_code == 0, result.output
    assert json.loads((folder / "resumed.tsv.json").read_text())["resumed"] is True
    assert (folder / "resumed.tsv").read_bytes() == (folder / "whole.tsv").read_bytes()
    assert not (folder / "resumed.tsv.rx-score").exists()


def test_given_pairs_threshold_estimates_the_noise_and_refuses_pure_noise():
    rng = np.random.default_rng(1)
    clean, noise = rng.normal(1.10, 0.03, 700), rng.normal(0.90, 0.03, 300)
    null = rng.normal(0.90, 0.03, 5000)
    estimate = estimate_given_threshold(np.concatenate([clean, noise]), null, "f1")
    assert estimate.noise_share == pytest.approx(0.3, abs=0.03)
    assert 0.95 < estimate.threshold < 1.05 and estimate.expected_recall > 0.99
    by_precision = estimate_given_threshold(np.concatenate([clean, noise]), null, "precision", 0.95)
    assert by_precision.threshold <= estimate.threshold
    kept = np.concatenate([clean, noise]) >= by_precision.threshold
    assert kept[:700].mean() > 0.99 and 1 - kept[700:].sum() / kept.sum() >= 0.93
    with pytest.raises(RxError, match="score like random pairings"):
        estimate_given_threshold(rng.normal(0.9, 0.03, 500), null, "precision", 0.95)


def test_top_k_candidates_equal_an_independent_computation(aligned_npy):
    folder, x, y = aligned_npy
    out = folder / "top.tsv"
    args = ["mine", "--src", str(folder / "x.npy"), "--trg", str(folder / "y.npy"), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, [*args, "--top-k", "6"])
    assert result.exit_code == 0, result.output
    sims, x_mean, y_mean = brute_force(x, y, K)
    expected = []
    for i in range(len(x)):
        nearest = np.argsort(-sims[i], kind="stable")[:6]
        scored = sorted(((ratio(sims[i, j], x_mean[i], y_mean[j]), j) for j in nearest), key=lambda s: -s[0])
        expected += [(str(i), str(j), score) for score, j in scored]
    got = [line.split("\t") for line in out.read_text().splitlines()]
    assert [(s, t) for _, s, t in got] == [(s, t) for s, t, _ in expected]
    assert [float(score) for score, _, _ in got] == pytest.approx([score for _, _, score in expected], abs=1e-5)


def test_top_k_beyond_the_corpus_is_capped_with_a_note(aligned_npy, caplog, rx_log):
    folder, _, _ = aligned_npy
    rng = np.random.default_rng(3)
    np.save(folder / "small.npy", rng.standard_normal((5, 32)).astype(np.float32))
    out = folder / "top.tsv"
    args = ["mine", "--src", str(folder / "x.npy"), "--trg", str(folder / "small.npy"), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--top-k", "50", "--quiet"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 300 * 5
    assert json.loads((folder / "top.tsv.json").read_text())["top_k"] == {"asked": 50, "used": 5}
    assert any("--top-k 50: the target side has 5 sentences" in line for line in rx_log())
    refused = CliRunner().invoke(main, [*args, "--top-k", "3", "--one-to-one", "--overwrite"])
    assert refused.exit_code == 1 and "--one-to-one keeps one pair per sentence" in refused.output


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, st.floats(-20, 20, allow_nan=False)), min_size=1, max_size=12))
def test_every_format_reads_back_what_it_wrote(tmp_path_factory, rows):
    """tsv and jsonl give back every text exactly (tabs, newlines, backslashes); moses gives back the texts with
    their line breaks made spaces, and the scores."""
    from retrieval_xfer.mining.pair_formats import one_line

    folder = tmp_path_factory.mktemp("formats")
    table = PairTable(("score", "src_id", "trg_id", "src", "trg"), [(v, "1", "2", s, t) for s, t, v in rows])
    for fmt in ("tsv", "jsonl", "moses"):
        write_table(table, folder / "out", fmt, ("de", "en"))
        back = read_table(folder / "out", fmt, ("de", "en"))
        assert len(back) == len(rows)
        for (src, trg, score), row in zip(rows, back):
            assert float(row["score"]) == pytest.approx(score, abs=1e-6)
            if fmt == "moses":
                assert (row["src"], row["trg"]) == (one_line(src), one_line(trg))
                assert "\n" not in row["src"] + row["trg"] and "\r" not in row["src"] + row["trg"]
            else:
                assert (row["src"], row["trg"]) == (src, trg)


def test_moses_files_are_named_by_language_and_mining_writes_them(tiny_model, text_pairs, tmp_path):
    src, trg = text_pairs
    result = CliRunner().invoke(
        main,
        ["score", "--model", str(tiny_model), "--src", str(src), "--trg", str(trg), "--out", str(tmp_path / "c")]
        + ["--format", "moses", "--src-lang", "de", "--trg-lang", "en", "--lid", "none", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    de, en = (tmp_path / "c.de").read_text().splitlines(), (tmp_path / "c.en").read_text().splitlines()
    assert len(de) == len(en) == len((tmp_path / "c.scores").read_text().splitlines()) == 6  # 8 less 2 empty
    assert de[0] == "Das Haus ist rot." and en[0] == "The house is red."


def test_an_export_without_its_blank_lines_lines_up_by_line_number(tiny_model, text_pairs, tmp_path):
    """The source exported with --skip-blank lacks line 3: scored against the text target, line 3 is empty and
    every other line keeps its own pair, with the scores of the two text files (but for the sentence on lines 1
    and 6: an export keeps a repeated sentence as two rows, a text side encodes it once, so the neighbourhoods
    differ)."""
    src, trg = text_pairs
    runner = CliRunner()
    exported = runner.invoke(
        main,
        ["export", "--model", str(tiny_model), "--input", str(src), "--out", str(tmp_path / "de"), "--skip-blank"]
        + ["--precision", "float32"],
    )
    assert exported.exit_code == 0, exported.output
    common = ["score", "--model", str(tiny_model), "--trg", str(trg), "--with-dropped", "--precision", "float32"]
    common += ["--quiet"]
    from_export = runner.invoke(main, [*common, "--src", str(tmp_path / "de"), "--out", str(tmp_path / "e.tsv")])
    from_text = runner.invoke(main, [*common, "--src", str(src), "--out", str(tmp_path / "t.tsv")])
    assert from_export.exit_code == 0 and from_text.exit_code == 0, from_export.output
    a, b = read_table(tmp_path / "e.tsv", "tsv"), read_table(tmp_path / "t.tsv", "tsv")
    assert [(r["line"], r["drop"], r["src"], r["trg"]) for r in a] == [
        (r["line"], r["drop"], r["src"], r["trg"]) for r in b
    ]
    assert [r["score"] == "" for r in a] == [r["line"] in ("3", "7") for r in a]
    scores = [
        (float(x["score"]), float(y["score"])) for x, y in zip(a, b) if x["score"] and x["line"] not in ("1", "6")
    ]
    assert [x for x, _ in scores] == pytest.approx([y for _, y in scores], abs=1e-4)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "ab"]), st.sampled_from(["x", "y"])), max_size=20), TEXT, TEXT)
def test_the_checks_hold_their_definitions(pairs, one, other):
    """A pair repeats when an earlier line holds it; a text is a copy of itself, and copying is symmetric."""
    from retrieval_xfer.mining.pair_checks import duplicate_flags, is_copy

    flags = duplicate_flags([a for a, _ in pairs], [b for _, b in pairs])
    assert flags.tolist() == [pair in pairs[:i] for i, pair in enumerate(pairs)]
    assert is_copy(one, one) and is_copy(one, other) == is_copy(other, one)


def test_an_export_whose_input_is_gone_scores_but_refuses_the_text_checks(tiny_model, text_pairs, tmp_path):
    src, trg = text_pairs
    moved = write_lines(tmp_path / "moved" / "de.txt", src.read_text(encoding="utf-8").splitlines())
    runner = CliRunner()
    args = ["export", "--model", str(tiny_model), "--input", str(moved), "--out", str(tmp_path / "de"), "--quiet"]
    assert runner.invoke(main, [*args, "--skip-blank"]).exit_code == 0
    moved.unlink()
    common = ["score", "--model", str(tiny_model), "--src", str(tmp_path / "de"), "--trg", str(trg), "--quiet"]
    refused = runner.invoke(main, [*common, "--out", str(tmp_path / "a.tsv"), "--drop-copies"])
    assert refused.exit_code == 1
    assert f"{tmp_path / 'de'}: an export whose input file is no longer where it was" in refused.output
    assert "--drop-copies reads them" in refused.output and not (tmp_path / "a.tsv").exists()
    scored = runner.invoke(main, [*common, "--out", str(tmp_path / "b.tsv")])
    assert scored.exit_code == 0, scored.output
    rows = read_table(tmp_path / "b.tsv", "tsv")
    assert "src" not in rows[0] and [r["line"] for r in rows] == ["1", "2", "4", "5", "6", "8"]  # 3, 7: empty


def test_scripts_of_every_kind_are_scored_and_language_id_flags_the_wrong_one(tiny_model, shared_data, tmp_path):
    """Hindi, Thai, Chinese and Arabic sources from Tatoeba against their English; two English lines replaced by
    Hindi sentences (the wrong language), one target left empty: each pair gets a finite score or is flagged."""
    tatoeba = shared_data / "tatoeba" / "v1"
    src, trg = [], []
    for code in ("hin", "tha", "cmn", "ara"):
        pairs = zip(
            (tatoeba / f"tatoeba.{code}-eng.{code}").read_text(encoding="utf-8").splitlines(),
            (tatoeba / f"tatoeba.{code}-eng.eng").read_text(encoding="utf-8").splitlines(),
        )
        chosen = [(s, t) for s, t in pairs if sum(c.isalpha() for c in t) >= 30][:5]
        src += [s for s, _ in chosen]
        trg += [t for _, t in chosen]
    trg[6], trg[11] = src[0], src[1]  # Hindi where English belongs
    trg[16] = ""
    result = CliRunner().invoke(
        main,
        ["score", "--model", str(tiny_model), "--src", write_lines(tmp_path / "a.txt", src).as_posix()]
        + ["--trg", write_lines(tmp_path / "b.txt", trg).as_posix(), "--out", str(tmp_path / "s.jsonl")]
        + ["--format", "jsonl", "--trg-lang", "en", "--with-dropped", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    rows = read_table(tmp_path / "s.jsonl", "jsonl")
    assert [r["src"] for r in rows] == src and [r["trg"] for r in rows] == trg
    assert {int(r["line"]) for r in rows if r["drop"] == "target language"} == {7, 12}
    assert [int(r["line"]) for r in rows if r["drop"] == "empty"] == [17] and rows[16]["score"] is None
    assert all(np.isfinite(r["score"]) and np.isfinite(r["cosine"]) for r in rows if r["line"] != "17")
