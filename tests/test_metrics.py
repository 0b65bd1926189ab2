"""XTREME's metrics against values worked out by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.metrics import accuracy, entity_f1, normalize_answer, qa_scores, word_accuracy
from retrieval_xfer.evaluation.metrics.qa import answer_tokens, qa_per_question
from retrieval_xfer.evaluation.metrics.tagging import entity_counts, word_counts


def test_accuracy():
    assert accuracy(["a", "b", "c", "a"], ["a", "b", "a", "a"]) == 75.0
    with pytest.raises(ValueError):
        accuracy(["a"], ["a", "b"])


def test_word_accuracy_counts_words_not_sentences():
    # 3 words in all, 2 right: a per-sentence mean would give (50 + 100) / 2 = 75 instead
    assert word_accuracy([["NOUN", "VERB"], ["DET"]], [["NOUN", "NOUN"], ["DET"]]) == pytest.approx(200 / 3)
    with pytest.raises(ValueError):
        word_accuracy([["NOUN"]], [["NOUN", "VERB"]])


def test_entity_f1_partial_matches_count_as_wrong():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-LOC"], ["B-LOC", "O"]]
    # gold entities: PER[0:2], LOC[3], ORG[0]; predicted: PER[0:1] (boundary wrong), LOC[3] (right), LOC[0] (type wrong)
    scores = entity_f1(pred, gold)
    assert scores["precision"] == pytest.approx(100 / 3)
    assert scores["recall"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 / 3)


def test_entity_f1_conlleval_reads_a_stray_inside_tag_as_an_entity_start():
    assert entity_f1([["O", "I-PER", "I-PER"]], [["O", "B-PER", "I-PER"]])["f1"] == 100.0
    assert entity_f1([["O", "O"]], [["B-LOC", "O"]]) == {"f1": 0.0, "precision": 0.0, "recall": 0.0}


def test_squad_normalisation_and_f1():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    scores = qa_scores({"1": "the Eiffel Tower!", "2": "Paris France"}, {"1": ["Eiffel tower"], "2": ["Paris"]})
    assert scores["exact_match"] == 50.0
    assert scores["f1"] == pytest.approx((100 + 100 * 2 * 0.5 * 1 / 1.5) / 2)


def test_best_of_several_gold_answers_and_missing_prediction():
    scores = qa_scores({"1": "blue"}, {"1": ["red", "blue"], "2": ["green"]})
    assert scores == {"exact_match": 50.0, "f1": 50.0}


def test_mlqa_chinese_is_scored_by_character():
    assert answer_tokens("iPhone手机，", "mlqa", "zh") == ["iphone", "手", "机"]
    mlqa = qa_scores({"1": "北京大学"}, {"1": ["北京"]}, "mlqa", "zh")
    assert mlqa["exact_match"] == 0.0 and mlqa["f1"] == pytest.approx(100 * 2 * 0.5 * 1 / 1.5)
    assert qa_scores({"1": "北京大学"}, {"1": ["北京"]}, "squad", "zh")["f1"] == 0.0  # one whitespace token each


@pytest.mark.parametrize(
    "lang,prediction,gold",
    [
        ("de", "der Hund", "Hund"),  # German article
        ("es", "la casa", "casa"),  # Spanish article
        ("ar", "الكتاب", "كتاب"),  # Arabic definite prefix
        ("hi", "भारत।", "भारत"),  # Devanagari danda is Unicode punctuation
        ("vi", "những con mèo", "con mèo"),  # Vietnamese classifier word in MLQA's list
    ],
)
def test_mlqa_language_rules(lang, prediction, gold):
    assert qa_scores({"1": prediction}, {"1": [gold]}, "mlqa", lang)["exact_match"] == 100.0
    assert qa_scores({"1": prediction}, {"1": [gold]}, "squad", lang)["exact_match"] == 0.0


def test_mlqa_keeps_articles_of_other_languages():
    # "die" is an article in German only
    assert normalize_answer("die Katze", "mlqa", "de") == "katze"
    assert normalize_answer("die Katze", "mlqa", "en") == "die katze"


BIO = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=1, max_size=8)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(BIO, BIO), min_size=1, max_size=6))
def test_per_sentence_units_rebuild_the_corpus_scores(sentences):
    """The units the intervals resample (per sentence) sum to the corpus-level scores seqeval and rx compute."""
    gold = [g for g, _ in sentences]
    predicted = [p[: len(g)] + ["O"] * (len(g) - len(p)) for g, p in sentences]  # same length as the gold
    f1 = Units("f1", np.array(entity_counts(predicted, gold)).reshape(-1, 3)).score()
    assert f1 == pytest.approx(entity_f1(predicted, gold)["f1"])
    assert Units("ratio", np.array(word_counts(predicted, gold))).score() == pytest.approx(
        word_accuracy(predicted, gold)
    )


def test_per_question_qa_scores_average_to_the_corpus_scores():
    golds = {"1": ["the cat"], "2": ["a dog", "dog"], "3": ["red"], "4": ["blue sky"]}
    predictions = {"1": "cat", "2": "dogs", "3": "red", "4": "sky blue today"}
    exact, f1 = qa_per_question(predictions, golds)
    scores = qa_scores(predictions, golds)
    assert exact == [1.0, 0.0, 1.0, 0.0]
    assert Units("mean", np.array(f1)[:, None]).score() == pytest.approx(scores["f1"])
    assert Units("mean", np.array(exact)[:, None]).score() == pytest.approx(scores["exact_match"])
