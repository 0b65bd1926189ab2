"""Readers of the zero-shot tasks' evaluation files, in XTREME's layouts, and the choice of languages."""

import json
from pathlib import Path

import pytest

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.eval_data import find_language_files, language_of_file, read_language_file
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.zero_shot import locate_data


def test_pawsx_csv_quoting_and_ns_rows(tmp_path):
    path = tmp_path / "dev-de.tsv"
    path.write_bytes(
        b"Ein Satz.\tEin anderer Satz.\t1\r\n"
        b'"Er sagte ""hallo"" und ging."\tEr ging.\t0\r\n'
        b"NS\tDer Satz fehlt.\t1\r\n"
        b"Noch einer.\tNS\t0\r\n"
    )
    data = read_language_file(load_card("pawsx"), path)
    assert [r["label"] for r in data.examples] == ["paraphrase", "not_paraphrase"]
    assert data.examples[1]["text_a"] == 'Er sagte "hallo" und ging.'
    assert data.skipped == {"placeholder sentence": 2}


def test_xnli_tsv_without_header(tmp_path):
    path = tmp_path / "dev-sw.tsv"
    path.write_bytes(b"p1\th1\tentailment\r\np2\th2\tcontradiction\r\n")
    data = read_language_file(load_card("xnli"), path)
    assert [(r["text_a"], r["text_b"], r["label"]) for r in data.examples] == [
        ("p1", "h1", "entailment"),
        ("p2", "h2", "contradiction"),
    ]


def test_xnli_unknown_label_names_the_line(tmp_path):
    path = tmp_path / "dev-sw.tsv"
    path.write_text("p1\th1\tentailment\np2\th2\tmaybe\n")
    with pytest.raises(RxError, match=r"dev-sw.tsv:2: label 'maybe'"):
        read_language_file(load_card("xnli"), path)


def test_panx_and_udpos_token_files(tmp_path):
    (tmp_path / "dev-de.tsv").write_text("de:Berlin\tB-LOC\nde:ist\tO\n\nde:Anna\tB-PER\n")
    data = read_language_file(load_card("panx"), tmp_path / "dev-de.tsv")
    assert data.examples == [
        {"tokens": ["Berlin", "ist"], "tags": ["B-LOC", "O"]},
        {"tokens": ["Anna"], "tags": ["B-PER"]},
    ]
    (tmp_path / "pos.tsv").write_text("Hunde\tNOUN\nbellen\tVERB\n")
    assert read_language_file(load_card("udpos"), tmp_path / "pos.tsv").examples[0]["tags"] == ["NOUN", "VERB"]
    (tmp_path / "bad.tsv").write_text("Hunde\tNOUN\nbellen\tVERBING\n")
    with pytest.raises(RxError, match="bad.tsv.*'VERBING'"):
        read_language_file(load_card("udpos"), tmp_path / "bad.tsv")


def test_mlqa_layout_and_languages(tmp_path):
    folder = tmp_path / "MLQA_V1" / "dev"
    folder.mkdir(parents=True)
    for lang in ("de", "zh"):
        context = "Der Hund bellt." if lang == "de" else "狗叫了。"
        answer = context[:3]
        squad = {
            "version": 1.0,
            "data": [
                {
                    "title": "t",
                    "paragraphs": [
                        {
                            "context": context,
                            "qas": [
                                {"id": f"q-{lang}", "question": "?", "answers": [{"text": answer, "answer_start": 0}]}
                            ],
                        }
                    ],
                }
            ],
        }
        (folder / f"dev-context-{lang}-question-{lang}.json").write_text(json.dumps(squad))
    (folder / "dev-context-de-question-zh.json").write_text("{}")  # cross-language pairs are not this task's
    card = load_card("mlqa")
    found = find_language_files(card, tmp_path, "dev")
    assert sorted(found) == ["de", "zh"]
    assert read_language_file(card, found["zh"]).examples[0]["answers"][0]["text"] == "狗叫了"
    assert language_of_file(card, found["de"]) == "de"
    assert language_of_file(load_card("tydiqa"), tmp_path / "tydiqa.goldp.sw.train.json") == "sw"


def test_locate_data_languages_and_errors(tmp_path):
    card = load_card("xnli")
    for lang in ("de", "sw"):
        (tmp_path / f"dev-{lang}.tsv").write_text("p\th\tneutral\n")
    assert list(locate_data(card, "all", "dev", tmp_path)) == ["de", "sw"]
    assert list(locate_data(card, "sw", "dev", tmp_path)) == ["sw"]
    with pytest.raises(RxError, match="no xnli data for language 'fr'"):
        locate_data(card, "de,fr", "dev", tmp_path)
    with pytest.raises(RxError, match="no xnli files for split 'test'"):
        locate_data(card, "all", "test", tmp_path)
    with pytest.raises(RxError, match="unknown xnli language 'xx'"):
        locate_data(card, "xx", "dev")  # the hub: only the card's languages
    assert list(locate_data(card, "all", "dev", None, (f"ur={tmp_path / 'dev-de.tsv'}",))) == ["ur"]
    with pytest.raises(RxError, match="cannot tell the language"):
        locate_data(card, "all", "dev", None, (str(tmp_path / "x.tsv"),))


def test_hub_sources_fill_language_and_fail_fast_offline(monkeypatch):
    from retrieval_xfer.data import eval_data

    seen = []

    def fake_load(dataset, config, split, hint="", revision=None):
        seen.append((dataset, config, split))
        raise RxError(f"{dataset}: could not be loaded")

    monkeypatch.setattr("retrieval_xfer.data.task_data.load_hub_split", fake_load)
    with pytest.raises(RxError, match="udpos de: no hub source could be read"):
        eval_data.read_language_hub(load_card("udpos"), "de", "test")
    assert seen == [("google/xtreme", "udpos.German", "test")]
    seen.clear()
    with pytest.raises(RxError):
        eval_data.read_language_hub(load_card("mlqa"), "hi", "dev")
    assert seen == [("google/xtreme", "MLQA.hi.hi", "validation"), ("facebook/mlqa", "mlqa.hi.hi", "validation")]


def test_hub_rows_in_each_schema_are_shaped(monkeypatch):
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    from retrieval_xfer.data import eval_data

    xnli = Dataset.from_dict(
        {
            "sentence1": ["p1", "p2", "p3"],
            "sentence2": ["h1", "h2", "h3"],
            "language": ["de", "fr", "de"],
            "gold_label": ["neutral", "entailment", "contradictory"],
        }
    )
    tags = ClassLabel(names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])
    panx = Dataset.from_dict(
        {"tokens": [["Anna", "lacht"]], "ner_tags": [[1, 0]], "langs": [["de", "de"]]},
        features=Features(
            {"tokens": Sequence(Value("string")), "ner_tags": Sequence(tags), "langs": Sequence(Value("string"))}
        ),
    )
    tables = {("google/xtreme", "XNLI"): xnli, ("google/xtreme", "PAN-X.de"): panx}
    monkeypatch.setattr(
        "retrieval_xfer.data.task_data.load_hub_split",
        lambda dataset, config, split, hint="", revision=None: tables[(dataset, config)],
    )
    rows = eval_data.read_language_hub(load_card("xnli"), "de", "dev").examples
    assert [(r["text_a"], r["label"]) for r in rows] == [("p1", "neutral"), ("p3", "contradiction")]
    assert eval_data.read_language_hub(load_card("panx"), "de", "dev").examples == [
        {"tokens": ["Anna", "lacht"], "tags": ["B-PER", "O"]}
    ]


def test_unreachable_hub_fails_before_any_model_is_loaded(monkeypatch):
    monkeypatch.setattr("retrieval_xfer.evaluation.zero_shot.hub_reachable", lambda: False)
    with pytest.raises(RxError, match=r"xnli: the Hugging Face Hub cannot be reached; pass --data-dir or --data-file"):
        locate_data(load_card("xnli"), "sw", "dev")


def test_pawsx_hub_prefers_the_complete_source_and_skips_minus_one_labels(monkeypatch):
    from datasets import Dataset

    from retrieval_xfer.data import eval_data

    seen = []
    pawsx = Dataset.from_dict({"sentence1": ["a", "b", "c"], "sentence2": ["x", "y", "z"], "label": [1, -1, 0]})

    def fake_load(dataset, config, split, hint="", revision=None):
        seen.append(dataset)
        return pawsx

    monkeypatch.setattr("retrieval_xfer.data.task_data.load_hub_split", fake_load)
    data = eval_data.read_language_hub(load_card("pawsx"), "es", "dev")
    assert seen == ["google-research-datasets/paws-x"]
    assert [r["label"] for r in data.examples] == ["paraphrase", "not_paraphrase"]
    assert data.skipped == {"no gold label": 1}


def test_hub_retrieval_data_is_pinned_stripped_and_keeps_bucc_ids(monkeypatch):
    from datasets import Dataset

    from retrieval_xfer.data import bucc, tatoeba

    asked = {}

    def fake_load(dataset, config, split, hint="", revision=None):
        asked[dataset] = revision
        if dataset == "mteb/tatoeba-bitext-mining":
            return Dataset.from_dict({"sentence1": ["Hallo Welt\n"], "sentence2": ["Hello world\n"]})
        return Dataset.from_dict(
            {
                "source_sentence": ["你好"],
                "target_sentence": ["hello"],
                "source_lang": ["zh-000000042"],
                "target_lang": ["en-000000099"],
            }
        )

    monkeypatch.setattr(tatoeba, "load_hub_split", fake_load)
    monkeypatch.setattr(bucc, "load_hub_split", fake_load)
    card = load_card("tatoeba")
    pairs = tatoeba.read_tatoeba_hub(tatoeba.resolve_languages("de", card)[0], card)
    assert (pairs.source, pairs.english) == (["Hallo Welt"], ["Hello world"])
    assert asked["mteb/tatoeba-bitext-mining"] == "69e8f12da6e31d59addadda9a9c8a2e601a0e282"
    assert "@69e8f12da6e31d59addadda9a9c8a2e601a0e282" in pairs.origin  # the revision goes into the result JSON
    split = bucc.read_hub_split("zh-en", "tune", load_card("bucc2018"))
    assert split.gold == {("zh-000000042", "en-000000099")}


def test_hub_errors_are_typed_and_script_datasets_use_the_parquet_conversion(monkeypatch):
    import datasets

    from retrieval_xfer.data import hub
    from retrieval_xfer.errors import SplitMissingError

    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    calls = []

    def no_validation(dataset, config, split, revision=None):
        raise ValueError("Unknown split \"validation\". Should be one of ['train', 'test'].")

    monkeypatch.setattr(datasets, "load_dataset", no_validation)
    with pytest.raises(SplitMissingError, match="google/xtreme/udpos.Kazakh: no 'validation' split"):
        hub.load_hub_split("google/xtreme", "udpos.Kazakh", "validation")

    def script_then_parquet(dataset, config, split, revision=None):
        calls.append(revision)
        if revision is None:
            raise RuntimeError("Dataset scripts are no longer supported, but found cosmos_qa.py")
        return "parquet rows"

    monkeypatch.setattr(datasets, "load_dataset", script_then_parquet)
    assert hub.load_hub_split("allenai/cosmos_qa", None, "train") == "parquet rows"
    assert calls == [None, "refs/convert/parquet"]

    def script_only(dataset, config, split, revision=None):
        raise RuntimeError("Dataset scripts are no longer supported, but found cosmos_qa.py")

    monkeypatch.setattr(datasets, "load_dataset", script_only)
    with pytest.raises(
        RxError,
        match=r"allenai/cosmos_qa: a loading-script dataset, .* no parquet conversion "
        r"\(refs/convert/parquet\) could be read; pass --train-file",
    ):
        hub.load_hub_split("allenai/cosmos_qa", None, "train", hint="pass --train-file cosmosqa=PATH")


def test_the_commit_read_is_pinned_and_recorded(monkeypatch):
    import datasets
    import huggingface_hub

    from retrieval_xfer.data import hub

    monkeypatch.setattr(hub, "hub_reachable", lambda: True)
    hub.resolve_revision.cache_clear()
    asked, loaded = [], []

    class Info:
        def __init__(self, sha):
            self.sha = sha

    def dataset_info(self, repo_id, revision=None):
        asked.append((repo_id, revision))
        return Info({None: "a" * 40, "v1": "b" * 40}[revision])

    monkeypatch.setattr(huggingface_hub.HfApi, "dataset_info", dataset_info)
    monkeypatch.setattr(datasets, "load_dataset", lambda d, c, split, revision=None: loaded.append(revision) or "rows")
    assert hub.load_hub_split("google/xtreme", "PAN-X.de", "validation") == "rows"
    assert (
        hub.hub_source("google/xtreme", "PAN-X.de", "validation")
        == f"hf://google/xtreme@{'a' * 40}/PAN-X.de/validation"
    )
    hub.load_hub_split("google/xtreme", "PAN-X.de", "test", revision="v1")  # a pinned tag reads the commit it names
    assert loaded == ["a" * 40, "b" * 40] and asked == [("google/xtreme", None), ("google/xtreme", "v1")]
    hub.resolve_revision.cache_clear()


def test_pinning_a_card_writes_the_commit_after_the_dataset(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "pin", Path(__file__).parent.parent / "scripts" / "pin_hub_revisions.py"
    )
    pin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pin)
    card = tmp_path / "x.yaml"
    card.write_text("    - {dataset: google/xtreme, config: XNLI}\n    - {dataset: m/t, revision: abc, config: c}\n")
    assert pin.pin_file(card, lambda name, rev: "f" * 40) == ["google/xtreme"]
    assert card.read_text() == (
        f"    - {{dataset: google/xtreme, revision: {'f' * 40}, config: XNLI}}\n"
        "    - {dataset: m/t, revision: abc, config: c}\n"
    )
    assert load_card("xnli").sources["hub"][0]["dataset"] == "google/xtreme"  # the cards still load
