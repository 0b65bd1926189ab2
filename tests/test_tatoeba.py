"""Tatoeba: accuracy on a case with a known answer, language selection, readers, the evaluator's result."""

import numpy as np
import pytest
from helpers import KeyedEncoder, write_lines

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.tatoeba import read_tatoeba_hub, read_tatoeba_local, resolve_languages
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, tatoeba_accuracy


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
    assert result["scores"]["deu"] == pytest.approx(
        {**result["scores"]["deu"], "en2xx": 100.0, "xx2en": 100.0, "mean": 100.0, "n": 50}
    )
    sw = result["scores"]["sw"]
    assert sw["en2xx"] == pytest.approx(80.0) and sw["xx2en"] == pytest.approx(80.0) and sw["n"] == 50
    assert result["averages"]["en2xx"] == pytest.approx(90.0)
    assert result["xtreme_direction"] == "en2xx" and result["layer"] == 1
