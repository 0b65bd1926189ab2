"""BUCC: both file namings, duplicate handling, threshold transfer, predictions, against designed expectations."""

import pytest
from helpers import KeyedEncoder, write_lines

from retrieval_xfer.data.bucc import available_pairs, find_local_split
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import Units
from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.evaluation.compare import compare_results
from retrieval_xfer.evaluation.outcomes import OUTCOMES_KEY
from retrieval_xfer.evaluation.results import write_results
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.options import MiningOptions


@pytest.fixture(scope="module")
def card():
    return load_card("bucc2018")


def write_split(folder, split, n_gold, n_noise, offset=0, duplicate_target=False, gold=True):
    """zh and en corpora with n_gold translations (same key) plus n_noise unrelated sentences per side."""
    zh = [(f"zh-{offset + i:09d}", f"zh:g{offset + i}") for i in range(n_gold)]
    zh += [(f"zh-{offset + 500 + i:09d}", f"zh:nz{offset + i}") for i in range(n_noise)]
    en = [(f"en-{offset + i:09d}", f"en:g{offset + i}") for i in range(n_gold)]
    en += [(f"en-{offset + 500 + i:09d}", f"en:ne{offset + i}") for i in range(n_noise)]
    pairs = [(f"zh-{offset + i:09d}", f"en-{offset + i:09d}") for i in range(n_gold)]
    if duplicate_target:  # the English side of gold pair 0 occurs twice: ambiguous, so it cannot be predicted
        en.append((f"en-{offset + 900:09d}", en[0][1]))
    write_lines(folder / f"zh-en.{split}.zh", [f"{i}\t{s}" for i, s in zh])
    write_lines(folder / f"zh-en.{split}.en", [f"{i}\t{s}" for i, s in en])
    if gold:
        write_lines(folder / f"zh-en.{split}.gold", [f"{a}\t{b}" for a, b in pairs])


def test_sample_only_is_labelled_tuned_on_sample(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path)
    score = result["scores"]["zh-en"]
    assert score["tuned_on_sample"] and score["evaluated_on"] == "dev"
    assert score["f1"] == pytest.approx(100.0) and score["n_correct"] == 20


def test_threshold_tuned_on_sample_applied_to_training_split(tmp_path, card):
    folder = tmp_path / "zh-en"  # BUCC's own layout: a folder per pair, split names sample/training
    write_split(folder, "sample", n_gold=20, n_noise=30)
    write_split(folder, "training", n_gold=11, n_noise=40, offset=100, duplicate_target=True)
    result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, predictions_dir=tmp_path / "pred")
    score = result["scores"]["zh-en"]
    assert score["tuned_on"] == "sample" and score["evaluated_on"] == "training" and not score["tuned_on_sample"]
    # 10 of 11 gold pairs are predictable (one English sentence is duplicated under two ids), no false pairs.
    assert score["precision"] == pytest.approx(100.0)
    assert score["recall"] == pytest.approx(100 * 10 / 11)
    assert score["f1"] == pytest.approx(100 * 2 * 1 * (10 / 11) / (1 + 10 / 11))
    lines = (tmp_path / "pred" / "zh-en.training.predictions.tsv").read_text().splitlines()
    assert len(lines) == 10 and "zh-000000101\ten-000000101" in lines


def test_split_without_gold_writes_predictions(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    write_split(tmp_path, "test", n_gold=5, n_noise=30, offset=100, gold=False)
    result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, predictions_dir=tmp_path / "pred")
    score = result["scores"]["zh-en"]
    assert score["f1"] is None and score["n_predicted"] == 5
    assert len((tmp_path / "pred" / "zh-en.test.predictions.tsv").read_text().splitlines()) == 5


def test_incomplete_or_missing_splits_are_clear(tmp_path, card):
    with pytest.raises(RxError, match="no BUCC files found"):
        available_pairs(tmp_path, card)
    write_split(tmp_path, "dev", n_gold=3, n_noise=3, gold=False)
    with pytest.raises(RxError, match="zh-en.dev.gold: missing"):
        find_local_split(tmp_path, "zh-en", "tune", card)
    (tmp_path / "zh-en.dev.en").unlink()
    with pytest.raises(RxError, match="zh-en.dev.en: missing"):
        find_local_split(tmp_path, "zh-en", "tune", card)
    with pytest.raises(RxError, match="unknown BUCC pair 'xx-en'"):
        find_local_split(tmp_path, "xx-en", "tune", card)


def test_approximate_index_gives_the_exact_f1_on_separable_data(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=60, n_noise=60)
    exact = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path)
    ivf = evaluate_bucc(
        KeyedEncoder(), ["zh-en"], tmp_path, MiningOptions(index=IndexOptions("ivf", nlist=4, nprobe=2))
    )
    assert ivf["scores"]["zh-en"]["f1"] == pytest.approx(exact["scores"]["zh-en"]["f1"]) == pytest.approx(100.0)
    assert ivf["mining"]["knn"]["index_type"] == "ivf" and exact["mining"]["knn"] == "exact"


def test_untrainable_index_fails_before_encoding(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    encoder = KeyedEncoder()
    calls = []
    encoder.encode = lambda sentences, desc="": calls.append(desc)
    with pytest.raises(RxError, match="ivfpq with 8-bit codes needs at least 256 sentences, got 50"):
        evaluate_bucc(encoder, ["zh-en"], tmp_path, MiningOptions(index=IndexOptions("ivfpq", nlist=2)))
    assert calls == []


def test_gold_ids_absent_from_the_corpora_are_an_error_or_left_out(tmp_path, card, rx_warns):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    gold = tmp_path / "zh-en.dev.gold"
    gold.write_text(gold.read_text() + "zh-999999999\ten-000000001\nzh-000000002\ten-888888888\n")
    with pytest.raises(
        RxError,
        match=r"zh-en.dev.gold: 2 gold pair\(s\) name ids absent from the corpora "
        r"\(first: 'en-888888888'\)",
    ):
        evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path)
    with rx_warns("left out 2 gold pair"):
        result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, allow_missing_gold=True)
    score = result["scores"]["zh-en"]
    assert score["gold_excluded"] == {"dev": 2} and score["n_gold"] == 20 and score["f1"] == pytest.approx(100.0)


def test_centered_bucc_scores_are_their_own_block(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, MiningOptions(center="language"))
    score = result["scores"]["zh-en"]
    assert score["f1"] == pytest.approx(100.0) and set(score["centered"]) == {"f1", "precision", "recall", "threshold"}
    assert score["centered"]["f1"] == pytest.approx(100.0) and result["center"] == "language"


class CountingEncoder(KeyedEncoder):
    """KeyedEncoder that counts the sentences it encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, sentences, desc: str = ""):
        self.encoded += len(sentences)
        return super().encode(sentences, desc)


def test_centering_scores_the_same_vectors_without_encoding_again(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=20, n_noise=30)
    write_split(tmp_path, "test", n_gold=15, n_noise=25, offset=1000)
    raw, both = CountingEncoder(), CountingEncoder()
    plain = evaluate_bucc(raw, ["zh-en"], tmp_path)
    centered = evaluate_bucc(both, ["zh-en"], tmp_path, MiningOptions(center="language"))
    assert both.encoded == raw.encoded == 2 * 50 + 2 * 40  # each split's two sides, once
    assert {k: v for k, v in centered["scores"]["zh-en"].items() if k != "centered"} == plain["scores"]["zh-en"]


def test_a_small_memory_budget_mines_in_blocks_with_the_same_f1(tmp_path, card):
    write_split(tmp_path, "dev", n_gold=120, n_noise=150)
    write_split(tmp_path, "test", n_gold=90, n_noise=160, offset=1000)
    whole = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path)
    from retrieval_xfer.mining.budget import parse_size, plan_block_rows

    assert plan_block_rows(parse_size("300KB"), 270, 270, 256, 4) < 270  # really several blocks
    blocks = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, MiningOptions(max_memory="300KB"))
    assert blocks["scores"] == whole["scores"]


def test_each_split_is_read_once_whatever_the_layers_and_centering(tiny_model, tmp_path, card, monkeypatch):
    import retrieval_xfer.evaluation.bucc as bucc_module
    from retrieval_xfer.encoding.options import EncoderOptions

    write_split(tmp_path, "dev", n_gold=12, n_noise=10)
    write_split(tmp_path, "test", n_gold=8, n_noise=10, offset=100)
    reads = []
    original = bucc_module.find_local_split
    monkeypatch.setattr(
        bucc_module, "find_local_split", lambda *args, **kwargs: reads.append(args[2]) or original(*args, **kwargs)
    )
    from retrieval_xfer.evaluation.retrieval_options import BuccOptions

    result = bucc_module.run_bucc(
        load_card("bucc2018"),
        EncoderOptions(model=str(tiny_model), quiet=True),
        BuccOptions(data_dir=tmp_path, layers="all", mining=MiningOptions(center="language")),
    )
    assert len(result["layer_sweep"]["layers"]) == 5  # 4 layers and the embeddings, each raw and centered
    assert all("centered" in s for s in result["scores"].values())
    assert sorted(reads) == ["apply", "tune"]  # one read of each split


def test_f1_outcomes_rescore_the_result_and_compare_lines_up_pairs(tmp_path, card):
    folder = tmp_path / "zh-en"
    write_split(folder, "sample", n_gold=20, n_noise=30)
    write_split(folder, "training", n_gold=11, n_noise=40, offset=100, duplicate_target=True)
    result = evaluate_bucc(KeyedEncoder(), ["zh-en"], tmp_path, predictions_dir=tmp_path / "pred")
    kept = result[OUTCOMES_KEY]
    rows = kept["arrays"]["f1/zh-en"]
    keys = kept["arrays"]["keys/zh-en"].tolist()
    predicted = set((tmp_path / "pred" / "zh-en.training.predictions.tsv").read_text().splitlines())
    gold = {f"zh-{100 + i:09d}\ten-{100 + i:09d}" for i in range(11)}
    assert set(keys) == predicted | gold  # one unit per predicted or gold pair
    for key, (tp, fp, fn) in zip(keys, rows.tolist()):
        assert (tp, fp, fn) == (key in gold and key in predicted, key in predicted - gold, key in gold - predicted)
    assert Units("f1", rows).score() == pytest.approx(result["scores"]["zh-en"]["f1"])
    low, high = result["scores"]["zh-en"]["ci95"]["f1"]
    assert low <= result["scores"]["zh-en"]["f1"] <= high
    path = write_results(tmp_path / "bucc.json", result)
    same, _ = compare_results(path, path)
    assert [(d.metric, d.group, d.b - d.a) for d in same] == [("f1", "zh-en", 0.0)]
