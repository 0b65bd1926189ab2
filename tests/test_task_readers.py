"""Training-data readers: each task's original release format on small files written here, malformed lines
included, and the real English files in ../shared/data where present."""

import json

import pytest
from click.testing import CliRunner
from helpers import write_lines

from retrieval_xfer.cli import main
from retrieval_xfer.data.cards import list_cards, load_card
from retrieval_xfer.data.task_data import read_task_file, read_task_hub
from retrieval_xfer.errors import RxError


def jsonl(path, rows):
    return write_lines(path, [json.dumps(r) for r in rows])


def test_every_card_loads_and_names_its_sources():
    cards = {c.name: c for c in list_cards()}
    intermediate = {"anli_plus", "mnli", "qqp", "squad_v1", "squad_v2", "hellaswag", "cosmosqa", "commonsenseqa", "ccg"}
    target = {"xnli_en", "pawsx_en", "udpos_en", "panx_en", "squad_en", "tydiqa_en"}
    assert intermediate == {n for n, c in cards.items() if c.kind == "intermediate"}
    assert target == {n for n, c in cards.items() if c.kind == "target"}
    for card in cards.values():
        assert card.sources, card.name


def test_tasks_list_command():
    out = CliRunner().invoke(main, ["tasks", "list"]).output
    assert "anli_plus" in out and "anli + mnli + snli" in out and "multiple-choice" in out
    assert max(len(line) for line in out.splitlines()) <= 100  # fits a terminal
    wide = CliRunner().invoke(main, ["tasks", "list", "--wide"]).output
    assert "google/xtreme/XNLI, facebook/xnli/{lang}" in wide


def test_mnli_jsonl_skips_no_consensus_and_checks_labels(tmp_path):
    path = jsonl(
        tmp_path / "multinli_1.0_train.jsonl",
        [
            {"sentence1": "A man sleeps.", "sentence2": "A person rests.", "gold_label": "entailment"},
            {"sentence1": "A dog.", "sentence2": "A cat.", "gold_label": "-"},
            {"sentence1": "Rain.", "sentence2": "Sun.", "gold_label": "contradiction"},
        ],
    )
    data = read_task_file(load_card("mnli"), path)
    assert [e["label"] for e in data.examples] == ["entailment", "contradiction"]
    assert data.examples[0] == {"text_a": "A man sleeps.", "text_b": "A person rests.", "label": "entailment"}
    assert data.skipped["no gold label"] == 1
    jsonl(path, [{"sentence1": "a", "sentence2": "b", "gold_label": "maybe"}])
    with pytest.raises(RxError, match=r"multinli_1.0_train.jsonl:1: label 'maybe' is not one of entailment"):
        read_task_file(load_card("mnli"), path)
    jsonl(path, [{"sentence1": "a", "gold_label": "neutral"}])
    with pytest.raises(RxError, match=r":1: missing column 'sentence2'"):
        read_task_file(load_card("mnli"), path)
    write_lines(path, ['{"sentence1": "a",'])
    with pytest.raises(RxError, match=r":1: malformed JSON"):
        read_task_file(load_card("mnli"), path)


def test_anli_letters_and_translated_data_in_any_language(tmp_path):
    path = jsonl(
        tmp_path / "train.jsonl",
        [
            {"uid": "1", "context": "Der Hund schläft.", "hypothesis": "Ein Tier ruht.", "label": "e"},
            {"uid": "2", "context": "Il pleut.", "hypothesis": "Il fait beau.", "label": "c"},
        ],
    )
    data = read_task_file(load_card("anli"), path)
    assert [e["label"] for e in data.examples] == ["entailment", "contradiction"]
    assert data.examples[0]["text_a"] == "Der Hund schläft."


def test_qqp_glue_tsv_and_wrong_field_count(tmp_path):
    path = write_lines(
        tmp_path / "train.tsv",
        [
            "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate",
            '1\t1\t2\tHow do I "learn" Python?\tHow to learn Python?\t1',
            "2\t3\t4\tWhat is AI?\tWho won?\t0",
        ],
    )
    data = read_task_file(load_card("qqp"), path)
    assert [e["label"] for e in data.examples] == ["duplicate", "not_duplicate"]
    assert data.examples[0]["text_a"] == 'How do I "learn" Python?'  # GLUE TSVs are not CSV-quoted
    write_lines(tmp_path / "train.tsv", ["id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate", "1\t1\t2\tq\t0"])
    with pytest.raises(RxError, match=r"train.tsv:2: 5 fields, expected 6"):
        read_task_file(load_card("qqp"), tmp_path / "train.tsv")


def test_pawsx_quoting_and_ns_rows(tmp_path):
    path = write_lines(
        tmp_path / "train.tsv",
        [
            "id\tsentence1\tsentence2\tlabel",
            '1\t"A ""quoted"" one"\tAnother\t1',
            "2\tNS\tSomething\t0",
            "3\tPlain\tText\t0",
        ],
    )
    data = read_task_file(load_card("pawsx_en"), path)
    assert [e["text_a"] for e in data.examples] == ['A "quoted" one', "Plain"]
    assert [e["label"] for e in data.examples] == ["paraphrase", "not_paraphrase"]
    assert data.skipped["placeholder sentence"] == 1


def test_multiple_choice_formats(tmp_path):
    hella = jsonl(
        tmp_path / "hellaswag_train.jsonl",
        [{"ctx": "He opens the door", "endings": ["and walks in.", "a", "b", "c"], "label": 0}],
    )
    assert read_task_file(load_card("hellaswag"), hella).examples[0]["choices"][0] == "and walks in."
    csqa = jsonl(
        tmp_path / "train_rand_split.jsonl",
        [
            {
                "answerKey": "C",
                "question": {
                    "stem": "Where do fish live?",
                    "choices": [{"label": k, "text": t} for k, t in zip("ABCDE", "vwxyz")],
                },
            }
        ],
    )
    example = read_task_file(load_card("commonsenseqa"), csqa).examples[0]
    assert example == {"context": "Where do fish live?", "question": "", "choices": list("vwxyz"), "label": 2}
    jsonl(csqa, [{"answerKey": "F", "question": {"stem": "q", "choices": [{"label": k, "text": k} for k in "ABCDE"]}}])
    with pytest.raises(RxError, match=r":1: label 'F' is not a choice index"):
        read_task_file(load_card("commonsenseqa"), csqa)
    cosmos = write_lines(
        tmp_path / "train.csv",
        [
            "id,context,question,answer0,answer1,answer2,answer3,label",
            'x1,"Ctx, with comma",Why?,a,b,c,d,3',
            "x2,c,q,a,b,c,d,4",
        ],
    )
    with pytest.raises(RxError, match=r"train.csv:3: label '4' outside 0..3"):
        read_task_file(load_card("cosmosqa"), cosmos)
    assert read_task_file(load_card("cosmosqa"), cosmos, limit=1).examples[0]["context"] == "Ctx, with comma"


def squad_file(path, qas, context="Paris is the capital of France."):
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": context, "qas": qas}]}]}), encoding="utf-8")
    return path


def test_squad_v2_unanswerable_and_misplaced_answers(tmp_path, rx_warns):
    good = [
        {"id": str(i), "question": "Capital?", "answers": [{"text": "Paris", "answer_start": 0}]} for i in range(150)
    ]
    impossible = {"id": "u", "question": "Moon?", "answers": [], "is_impossible": True}
    misplaced = {"id": "m", "question": "Country?", "answers": [{"text": "France", "answer_start": 3}]}
    path = squad_file(tmp_path / "train-v2.0.json", good + [impossible, misplaced])
    with rx_warns("skipped 1 of 152"):
        data = read_task_file(load_card("squad_v2"), path)
    assert len(data.examples) == 151 and data.examples[-1]["is_impossible"]
    with pytest.raises(RxError, match="question 'u' has no answer"):
        read_task_file(load_card("squad_v1"), path)  # v1.1 has no unanswerable questions
    squad_file(path, good[:10] + [misplaced])
    with pytest.raises(RxError, match="1 of 11 answers do not occur at their offset"):
        read_task_file(load_card("squad_v1"), path)


def test_tagging_formats(tmp_path):
    panx = write_lines(tmp_path / "train-en.tsv", ["en:Paris\tB-LOC", "en:is\tO", "", "R.H.\tB-ORG", "Saunders\tI-ORG"])
    data = read_task_file(load_card("panx_en"), panx)
    assert data.examples == [
        {"tokens": ["Paris", "is"], "tags": ["B-LOC", "O"]},
        {"tokens": ["R.H.", "Saunders"], "tags": ["B-ORG", "I-ORG"]},
    ]
    write_lines(panx, ["Paris\tB-CITY"])
    with pytest.raises(RxError, match=r"train-en.tsv:1: tag 'B-CITY' is not one of the card's 7 tags"):
        read_task_file(load_card("panx_en"), panx)
    conllu = write_lines(
        tmp_path / "en_ewt-ud-train.conllu",
        [
            "# sent_id = 1",
            "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_",
            "1\tdo\tdo\tAUX\t_\t_\t0\troot\t_\t_",
            "2\tn't\tnot\tPART\t_\t_\t1\tadvmod\t_\t_",
            "3\tgo\tgo\tVERB\t_\t_\t1\txcomp\t_\t_",
            "",
        ],
    )
    assert read_task_file(load_card("udpos_en"), conllu).examples == [
        {"tokens": ["do", "n't", "go"], "tags": ["AUX", "PART", "VERB"]}
    ]
    auto = write_lines(
        tmp_path / "wsj_0001.auto",
        [
            "ID=wsj_0001.1 PARSER=GOLD NUMPARSE=1",
            "(<T S[dcl] 0 2> (<L NP NNP NNP Pierre NP>) (<T S[dcl]\\NP 0 2> (<L (S[dcl]\\NP)/NP VBZ VBZ likes "
            "(S[dcl]\\NP_1)/NP_2>) (<L N NNS NNS dogs N>) ) )",
        ],
    )
    assert read_task_file(load_card("ccg"), auto).examples == [
        {"tokens": ["Pierre", "likes", "dogs"], "tags": ["NP", "(S[dcl]\\NP)/NP", "N"]}
    ]
    write_lines(auto, ["(<L NP NNP NNP Pierre NP>)"])
    with pytest.raises(RxError, match=r"wsj_0001.auto:1: expected an 'ID=' line"):
        read_task_file(load_card("ccg"), auto)


def test_empty_file_and_missing_file(tmp_path):
    with pytest.raises(RxError, match="no such file"):
        read_task_file(load_card("mnli"), tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(RxError, match="no usable mnli examples"):
        read_task_file(load_card("mnli"), tmp_path / "empty.jsonl")


def test_hub_reader_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RxError, match="cannot be reached"):
        read_task_hub(load_card("xnli_en"))
    with pytest.raises(RxError, match="has no hub source; pass --train-file ccg=PATH"):
        read_task_hub(load_card("ccg"))


@pytest.mark.parametrize(
    "task,relative,minimum",
    [
        ("cosmosqa", "english/cosmosqa/valid.csv", 2900),
        ("udpos_en", "xtreme/udpos/train-en.tsv", 10000),
        ("panx_en", "xtreme/panx/train-en.tsv", 10000),
        ("tydiqa_en", "xtreme/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json", 3000),
        ("squad_en", "xquad/xquad.en.json", 1190),
    ],
)
def test_real_english_files(shared_data, task, relative, minimum):
    data = read_task_file(load_card(task), shared_data / relative)
    assert len(data.examples) >= minimum


def test_xnli_tsv_layout_for_the_nli_cards(tmp_path):
    path = write_lines(
        tmp_path / "dev-en.tsv", ["A man sleeps.\tA person rests.\tentailment\r", "Rain.\tSun.\tcontradiction"]
    )
    for task in ("mnli", "xnli_en"):
        data = read_task_file(load_card(task), path)
        assert [e["label"] for e in data.examples] == ["entailment", "contradiction"]
        assert data.examples[0]["text_b"] == "A person rests."


def test_real_xnli_english_dev(shared_data):
    data = read_task_file(load_card("xnli_en"), shared_data / "xtreme/xnli/dev-en.tsv")
    assert len(data.examples) == 2490


def fake_hub(tables):
    """A stand-in for load_hub_split that serves local datasets in each hub dataset's own schema."""

    def load(dataset, config, split, hint="", revision=None):
        return tables[(dataset, config, split)]

    return load


def test_hub_schemas_are_mapped(monkeypatch):
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    import retrieval_xfer.data.task_data as task_data

    names = ["entailment", "neutral", "contradiction"]
    with_gaps = lambda i: i % 3 if i % 4 else -1  # -1: no gold label, as in SNLI
    nli = lambda n, label=with_gaps: Dataset.from_dict(
        {"premise": [f"p{i}" for i in range(n)], "hypothesis": ["h"] * n, "label": [label(i) for i in range(n)]}
    )
    ner_features = Features(
        {
            "tokens": Sequence(Value("string")),
            "ner_tags": Sequence(ClassLabel(names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])),
        }
    )
    tables = {
        ("nyu-mll/multi_nli", None, "train"): nli(8),
        ("stanfordnlp/snli", None, "train"): nli(8),
        **{("facebook/anli", None, f"train_r{r}"): nli(4, lambda i: i % 3) for r in (1, 2, 3)},
        ("google/xtreme", "PAN-X.en", "train"): Dataset.from_dict(
            {"tokens": [["Paris", "is"]], "ner_tags": [[5, 0]]}, features=ner_features
        ),
        ("rajpurkar/squad", None, "train"): Dataset.from_dict(
            {
                "id": ["q1"],
                "title": ["t"],
                "context": ["Paris is big"],
                "question": ["What?"],
                "answers": [{"text": ["Paris"], "answer_start": [0]}],
            }
        ),
        ("tau/commonsense_qa", None, "train"): Dataset.from_dict(
            {"question": ["Where?"], "choices": [{"label": list("ABCDE"), "text": list("vwxyz")}], "answerKey": ["B"]}
        ),
    }
    monkeypatch.setattr(task_data, "load_hub_split", fake_hub(tables))
    mnli = task_data.read_task_hub(load_card("mnli"))
    assert [e["label"] for e in mnli.examples] == [names[i % 3] for i in range(8) if i % 4]
    assert mnli.skipped["no gold label"] == 2
    assert task_data.read_task_hub(load_card("xnli_en")).examples == mnli.examples  # XNLI-en = MNLI
    combined = task_data.read_task_hub(load_card("anli_plus"))
    assert len(combined.examples) == 3 * 4 + 6 + 6 and combined.source.count("+") == 4  # anli r1-r3, mnli, snli
    assert len(task_data.read_task_hub(load_card("anli_plus"), limit=5).examples) == 5
    assert task_data.read_task_hub(load_card("panx_en")).examples == [
        {"tokens": ["Paris", "is"], "tags": ["B-LOC", "O"]}
    ]
    squad = task_data.read_task_hub(load_card("squad_en")).examples[0]
    assert squad["answers"] == [{"text": "Paris", "answer_start": 0}] and not squad["is_impossible"]
    assert task_data.read_task_hub(load_card("commonsenseqa")).examples[0] == {
        "context": "Where?",
        "question": "",
        "choices": list("vwxyz"),
        "label": 1,
    }
