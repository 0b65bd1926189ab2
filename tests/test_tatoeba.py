"""Tatoeba: accuracy on a case with a known answer, language selection, readers, the evaluator's result."""

import json

import numpy as np
import pytest
from helpers import KeyedEncoder, write_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.tatoeba import read_tatoeba_hub, read_tatoeba_local, resolve_languages
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.compare import compare_results
from retrieval_xfer.evaluation.confidence import BootstrapOptions
from retrieval_xfer.evaluation.outcomes import OUTCOMES_KEY, read_units
from retrieval_xfer.evaluation.results import write_results
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, mteb_f1, tatoeba_accuracy, tatoeba_table


@pytest.fixture(scope="module")
def card():
    return load_card("tatoeba")


def test_accuracy_with_known_answer_differs_by_direction():
    e = np.eye(3, dtype=np.float32)
    source = e
    third = 0.9 * e[1] + 0.1 * e[2]
    english = np.stack([e[0], e[1], third / np.linalg.norm(third)])
    en2xx, xx2en = tatoeba_accuracy(source, english)
    # en->xx: English #2 lies closest to source #1 (wrong) -> 2/3. xx->en: every source finds its own -> 3/3.
    assert en2xx == pytest.approx(200 / 3) and xx2en == pytest.approx(100.0)


def test_both_directions_from_one_product_equal_two_searches():
    rng = np.random.default_rng(3)
    english = rng.standard_normal((300, 24)).astype(np.float32)
    source = english + 2.0 * rng.standard_normal((300, 24)).astype(np.float32)
    english /= np.linalg.norm(english, axis=1, keepdims=True)
    source /= np.linalg.norm(source, axis=1, keepdims=True)
    sims = english.astype(np.float64) @ source.astype(np.float64).T
    truth = np.arange(300)
    expected = (100 * np.mean(sims.argmax(axis=1) == truth), 100 * np.mean(sims.argmax(axis=0) == truth))
    assert 10 < expected[0] < 90 and expected[0] != expected[1]  # a case where the directions differ
    assert tatoeba_accuracy(source, english) == pytest.approx(expected)


def test_language_sets_and_codes(card):
    assert len(resolve_languages("xtreme", card)) == 36
    assert len(resolve_languages("all", card)) == 112
    chosen = resolve_languages("de,swh,zh,deu", card)
    assert [(lang.code, lang.iso3) for lang in chosen] == [("de", "deu"), ("swh", "swh"), ("zh", "cmn")]
    with pytest.raises(RxError, match="unknown Tatoeba language 'xx'"):
        resolve_languages("de,xx", card)


def test_local_reader_and_mismatched_files(tmp_path, card):
    write_lines(tmp_path / "tatoeba.deu-eng.deu", ["Hallo", "Welt"])
    write_lines(tmp_path / "tatoeba.deu-eng.eng", ["Hello", "World"])
    pairs = read_tatoeba_local(tmp_path, resolve_languages("de", card)[0], card)
    assert pairs.source == ["Hallo", "Welt"] and pairs.english == ["Hello", "World"]
    write_lines(tmp_path / "tatoeba.deu-eng.eng", ["Hello"])
    with pytest.raises(RxError, match="2 lines but .* has 1"):
        read_tatoeba_local(tmp_path, resolve_languages("de", card)[0], card)
    with pytest.raises(RxError, match="no Tatoeba files for 'fr'"):
        read_tatoeba_local(tmp_path, resolve_languages("fr", card)[0], card)


def test_hub_reader_fails_fast_offline(monkeypatch, card):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RxError, match="cannot be reached"):
        read_tatoeba_hub(resolve_languages("de", card)[0], card)


def test_evaluator_scores_keyed_by_user_codes(tmp_path, card):
    keys = [f"k{i}" for i in range(50)]
    write_lines(tmp_path / "tatoeba.deu-eng.deu", [f"de:{k}" for k in keys])
    write_lines(tmp_path / "tatoeba.deu-eng.eng", [f"en:{k}" for k in keys])
    # Swahili: the last 10 English lines are translations of nothing in the file -> at most 80 % correct.
    write_lines(tmp_path / "tatoeba.swh-eng.swh", [f"sw:{k}" for k in keys])
    write_lines(tmp_path / "tatoeba.swh-eng.eng", [f"en:{k}" for k in keys[:40]] + [f"en:z{i}" for i in range(10)])
    result = evaluate_tatoeba(KeyedEncoder(), resolve_languages("deu,sw", card), card, tmp_path)
    assert set(result["scores"]) == {"deu", "sw"}
    deu = {key: value for key, value in result["scores"]["deu"].items() if key != "ci95"}
    assert deu == pytest.approx({**deu, "en2xx": 100.0, "xx2en": 100.0, "mean": 100.0, "mteb_f1": 100.0, "n": 50})
    sw = result["scores"]["sw"]
    assert sw["en2xx"] == pytest.approx(80.0) and sw["xx2en"] == pytest.approx(80.0) and sw["n"] == 50
    assert result["averages"]["en2xx"] == pytest.approx(90.0)
    assert result["xtreme_direction"] == "en2xx" and result["layer"] == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 19), min_size=20, max_size=20))
def test_mteb_f1_is_sklearns_weighted_f1(retrieved):
    """MTEB scores Tatoeba with scikit-learn's f1_score(gold, retrieved, average="weighted"): computed here
    independently, without scikit-learn, then checked against it."""
    metrics = pytest.importorskip("sklearn.metrics")
    ids = np.array(retrieved)
    expected = 100 * metrics.f1_score(np.arange(20), ids, average="weighted", zero_division=0)
    assert mteb_f1(ids) == pytest.approx(expected)
    assert mteb_f1(ids) <= 100 * np.mean(ids == np.arange(20)) + 1e-9  # never above the accuracy


def _two_languages(folder, keys):
    write_lines(folder / "tatoeba.deu-eng.deu", [f"de:{k}" for k in keys])
    write_lines(folder / "tatoeba.deu-eng.eng", [f"en:{k}" for k in keys])
    write_lines(folder / "tatoeba.swh-eng.swh", [f"sw:{k}" for k in keys])
    write_lines(folder / "tatoeba.swh-eng.eng", [f"en:{k}" for k in keys[:-20]] + [f"en:z{i}" for i in range(20)])


def test_evaluator_keeps_outcomes_and_intervals(tmp_path, card):
    keys = [f"k{i}" for i in range(100)]
    _two_languages(tmp_path, keys)
    result = evaluate_tatoeba(KeyedEncoder(), resolve_languages("deu,sw", card), card, tmp_path)
    kept = result[OUTCOMES_KEY]
    assert kept["metrics"] == {"en2xx": "accuracy", "xx2en": "accuracy"}
    sw = kept["arrays"]["en2xx/sw"]
    assert sw.shape == (100, 1) and int(sw.sum()) == 80  # the 20 English lines without a translation miss
    assert np.array_equal(kept["arrays"]["ids/en2xx/deu"], np.arange(100))
    low, high = result["scores"]["sw"]["ci95"]["en2xx"]
    assert low < 80.0 < high and high - low < 25  # binomial sd of 80 % on 100 queries: 4 points
    assert result["scores"]["deu"]["ci95"]["en2xx"] == [100.0, 100.0]
    avg_low, avg_high = result["averages"]["ci95"]["en2xx"]
    assert avg_low < 90.0 < avg_high and avg_high - avg_low < high - low  # half the spread of one language
    path = write_results(tmp_path / "result.json", result)
    saved = json.loads(path.read_text())
    assert OUTCOMES_KEY not in saved and (tmp_path / saved["outcomes"]["file"]).is_file()
    units = read_units(path, saved, "en2xx")
    assert np.array_equal(units["sw"].units.rows, sw) and units["sw"].keys is None
    off = evaluate_tatoeba(
        KeyedEncoder(), resolve_languages("sw", card), card, tmp_path, bootstrap=BootstrapOptions(bootstrap=0)
    )
    assert "ci95" not in off["scores"]["sw"] and "en2xx/sw" in off[OUTCOMES_KEY]["arrays"]
    assert "—" in tatoeba_table(off)


def test_compare_marks_a_real_gain_and_refuses_other_data(tmp_path, card):
    data = tmp_path / "data"
    data.mkdir()
    _two_languages(data, [f"k{i}" for i in range(300)])
    languages = resolve_languages("deu,sw", card)
    paths = {}
    for name, noise in (("worse", 1.2), ("better", 0.05)):  # noise 1.2 in 16 dimensions: many wrong neighbours
        result = evaluate_tatoeba(KeyedEncoder(noise=noise, dimension=16), languages, card, data)
        paths[name] = write_results(tmp_path / f"{name}.json", result)
    deltas, _ = compare_results(paths["worse"], paths["better"])
    mean = next(d for d in deltas if d.metric == "en2xx" and d.group == "mean")
    assert mean.b - mean.a > 10 and mean.holds and mean.low > 0
    same, _ = compare_results(paths["better"], paths["better"])
    assert all(d.low == d.high == 0 and not d.holds for d in same)
    other = tmp_path / "other"
    other.mkdir()
    _two_languages(other, [f"j{i}" for i in range(300)])
    changed = write_results(tmp_path / "other.json", evaluate_tatoeba(KeyedEncoder(), languages, card, other))
    with pytest.raises(RxError, match="scored on different data"):
        compare_results(paths["better"], changed)
    stripped = json.loads(paths["worse"].read_text())
    del stripped["outcomes"]
    (tmp_path / "old.json").write_text(json.dumps(stripped))
    with pytest.raises(RxError, match="old.json: no per-example outcomes"):
        compare_results(tmp_path / "old.json", paths["better"])


def test_report_marks_the_deltas_that_hold(tmp_path, card):
    """rx report --baseline: the paired interval of each delta, from the runs' outcome files, and the per-language
    intervals; a result without outcomes shows — and a note."""
    from retrieval_xfer.evaluation.report import build_report, markdown
    from retrieval_xfer.evaluation.report_results import collect_results

    data = tmp_path / "data"
    data.mkdir()
    _two_languages(data, [f"k{i}" for i in range(300)])
    languages = resolve_languages("deu,sw", card)
    for run, noise in (("base", 1.2), ("trained", 0.05), ("same", 1.2)):
        (tmp_path / "results" / run).mkdir(parents=True)
        result = evaluate_tatoeba(KeyedEncoder(noise=noise, dimension=16), languages, card, data)
        write_results(tmp_path / "results" / run / "tatoeba.json", result)
    text = markdown(build_report(collect_results([tmp_path / "results"]), "base"), [])
    delta_section = text.split("## Change against the baseline")[1].split("##")[0]
    trained = next(line for line in delta_section.splitlines() if line.startswith("| trained"))
    same = next(line for line in delta_section.splitlines() if line.startswith("| same"))
    assert "holds" in trained and "holds" not in same and "[+0.00, +0.00]" in same
    table_rows = [line for line in text.split("## XTREME table")[1].split("##")[0].splitlines() if line[:3] == "| b"]
    assert table_rows and all("—" not in row and "[" in row for row in table_rows)  # every score has its interval
    old = json.loads((tmp_path / "results" / "same" / "tatoeba.json").read_text())
    del old["outcomes"]
    (tmp_path / "results" / "same" / "tatoeba.json").write_text(json.dumps(old))
    text = markdown(build_report(collect_results([tmp_path / "results"]), "base"), [])
    assert "tatoeba, same against base: no paired interval, shown as —" in text and "no per-example outcomes" in text
