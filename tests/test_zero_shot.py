"""Zero-shot evaluators: batched predictions equal an independent one-example-at-a-time computation, trained
heads score what they learned on XTREME-format files, and bad input fails in one line."""

import json
import random

import pytest
import torch
from click.testing import CliRunner

from conftest import WORDS
from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.classification import predict_labels
from retrieval_xfer.evaluation.qa import predict_answers
from retrieval_xfer.evaluation.tagging import predict_tags, split_long_sentence
from retrieval_xfer.evaluation.task_model import load_task_model
from retrieval_xfer.tasks import load_card
from retrieval_xfer.training.runner import TrainConfig, train

ENGLISH = [w for w in WORDS[:21] if w not in ("cat", "dog", "fish", "moon", "house", "tree")]
KEYWORD = {"entailment": "cat", "neutral": "dog", "contradiction": "fish"}


def sentence(rng, n):
    return " ".join(rng.choice(ENGLISH) for _ in range(n))


def write_nli(path, rng, n, tsv=False):
    rows = []
    for i in range(n):
        label = list(KEYWORD)[i % 3]
        rows.append((sentence(rng, 4), f"{KEYWORD[label]} {sentence(rng, 2)}", label))
    if tsv:
        path.write_text("".join(f"{a}\t{b}\t{c}\r\n" for a, b, c in rows))
    else:
        path.write_text("".join(json.dumps({"sentence1": a, "sentence2": b, "gold_label": c}) + "\n" for a, b, c in rows))


def write_ner(path, rng, n, length=4):
    with path.open("w") as f:
        for _ in range(n):
            words = sentence(rng, length).split() + ["house"]
            rng.shuffle(words)
            f.write("".join(f"{w}\t{'B-LOC' if w == 'house' else 'O'}\n" for w in words) + "\n")


def write_qa(path, rng, n):
    articles = []
    for i in range(n):
        context = f"{sentence(rng, 1 + i % 5)} moon {sentence(rng, 3)}"
        qa = {"id": str(i), "question": "where", "answers": [{"text": "moon", "answer_start": context.index("moon")}]}
        articles.append({"paragraphs": [{"context": context, "qas": [qa]}]})
    path.write_text(json.dumps({"data": articles}))


@pytest.fixture(scope="module")
def run(tiny_model, tmp_path_factory):
    """A tiny run with an NLI, an NER and a QA head, trained on learnable toy data."""
    folder, rng = tmp_path_factory.mktemp("zero-shot"), random.Random(0)
    write_nli(folder / "nli.jsonl", rng, 48)
    write_ner(folder / "ner.tsv", rng, 48)
    write_qa(folder / "qa.json", rng, 48)
    files = {"xnli_en": folder / "nli.jsonl", "panx_en": folder / "ner.tsv", "squad_en": folder / "qa.json"}
    config = TrainConfig(tasks=list(files), out=folder / "run", base=str(tiny_model),
                         train_files={k: str(v) for k, v in files.items()}, batch_size=8, lr=2e-3, warmup=0.0,
                         max_steps=150, save_steps=1000, quiet=True, sampling="round-robin")
    train(config)
    return folder / "run"


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    """Held-out files in XTREME's layouts (the 'other language' is the same toy language)."""
    folder, rng = tmp_path_factory.mktemp("dev"), random.Random(1)
    for sub in ("xnli", "panx", "xquad"):
        (folder / sub).mkdir()
    write_nli(folder / "xnli" / "dev-de.tsv", rng, 30, tsv=True)
    write_ner(folder / "panx" / "dev-de.tsv", rng, 20)
    write_ner(folder / "panx" / "dev-fr.tsv", rng, 6, length=40)  # longer than the window: cut into pieces
    write_qa(folder / "xquad" / "xquad.de.json", rng, 20)
    return folder


def test_classification_batched_equals_one_by_one(run, dev):
    from retrieval_xfer.data.eval_data import read_language_file

    card = load_card("xnli")
    model = load_task_model(run, card)
    records = read_language_file(card, dev / "xnli" / "dev-de.tsv").examples
    batched = predict_labels(model, card, records, batch_size=7, show_progress=False)
    tokenizer, labels = model.tokenizer, model.head.config["labels"]
    with torch.no_grad():
        single = [labels[int(model.head.logits([dict(tokenizer(r["text_a"], r["text_b"], return_tensors="pt"))]).argmax())]
                  for r in records]
    assert batched == single
    assert sum(p == r["label"] for p, r in zip(batched, records)) / len(records) > 0.8  # it learned the keyword


def test_tagging_batched_equals_one_by_one_and_long_sentences_are_cut(run, dev):
    from retrieval_xfer.data.eval_data import read_language_file

    card = {**load_card("panx"), "max_length": 24}
    model = load_task_model(run, card)
    records = read_language_file(card, dev / "panx" / "dev-fr.tsv").examples
    assert all(len(r["tokens"]) > 24 for r in records)
    batched = predict_tags(model, card, [r["tokens"] for r in records], batch_size=4, show_progress=False)
    tokenizer, labels = model.tokenizer, model.head.config["labels"]
    budget = 24 - tokenizer.num_special_tokens_to_add(pair=False)
    expected = []
    with torch.no_grad():
        for r in records:
            lengths = [len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in r["tokens"]]
            tags = []
            for a, b in split_long_sentence(lengths, budget):
                enc = tokenizer(r["tokens"][a:b], is_split_into_words=True, return_tensors="pt")
                assert enc["input_ids"].shape[1] <= 24
                best = model.head.logits([dict(enc)])[0].argmax(-1).tolist()
                firsts = {}
                for position, word in enumerate(enc.word_ids(0)):
                    if word is not None:
                        firsts.setdefault(word, position)
                tags.extend(labels[best[firsts[w]]] for w in range(b - a))
            expected.append(tags)
    assert batched == expected
    assert [len(t) for t in batched] == [len(r["tokens"]) for r in records]


def test_split_long_sentence():
    assert split_long_sentence([2, 2, 2, 2], 4) == [(0, 2), (2, 4)]
    assert split_long_sentence([5, 1], 4) == [(0, 1), (1, 2)]  # an over-long word stands alone
    assert split_long_sentence([], 4) == [(0, 0)]


def test_qa_predictions_equal_brute_force_over_windows(run, dev):
    from retrieval_xfer.data.eval_data import read_language_file
    from retrieval_xfer.training.features import tokenize_qa

    card = {**load_card("xquad"), "max_length": 16, "doc_stride": 4, "max_answer_length": 3}
    model = load_task_model(run, card)
    records = read_language_file(card, dev / "xquad" / "xquad.de.json").examples
    batched = predict_answers(model, card, records, batch_size=5, show_progress=False)
    expected = []
    with torch.no_grad():
        for r in records:
            enc = tokenize_qa(model.tokenizer, r["question"], r["context"], 16, 4)
            best = None
            for w, ids in enumerate(enc["input_ids"]):
                start, end = model.head.logits([{"input_ids": torch.tensor([ids]),
                                                 "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}])
                context = [i for i, s in enumerate(enc.sequence_ids(w)) if s == 1]
                for s in context:
                    for e in context:
                        if s <= e < s + 3:
                            score = float(start[0, s] + end[0, e])
                            if best is None or score > best[0]:
                                offsets = enc["offset_mapping"][w]
                                best = (score, r["context"][offsets[s][0]:offsets[e][1]])
            expected.append(best[1])
    assert len(enc["input_ids"]) >= 1 and batched == expected


def test_cli_scores_each_task_and_writes_json(run, dev, tmp_path):
    runner = CliRunner()
    for task, key in (("xnli", "accuracy"), ("panx", "f1"), ("xquad", "f1")):
        out = tmp_path / f"{task}.json"
        result = runner.invoke(main, ["eval", task, "--model", str(run), "--data-dir", str(dev / task),
                                      "--output", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        payload = json.loads(out.read_text())
        assert payload["task"] == task and payload["report_key"] == key
        assert set(payload["scores"]) == ({"de", "fr"} if task == "panx" else {"de"})
        mean = sum(s[key] for s in payload["scores"].values()) / len(payload["scores"])
        assert payload["averages"][key] == pytest.approx(mean)
    assert json.loads((tmp_path / "panx.json").read_text())["scores"]["de"]["f1"] > 80  # house -> B-LOC learned


def test_bad_input_is_one_line(run, dev, tmp_path):
    runner = CliRunner()
    cases = [
        (["eval", "udpos", "--model", str(run), "--data-dir", str(dev / "panx")],
         "no tagging head for udpos (it needs one of udpos_en; the run has panx_en, squad_en, xnli_en); train one with: rx train"),
        (["eval", "xnli", "--model", str(run), "--data-dir", str(dev / "xnli"), "--head", "panx_en"],
         "head 'panx_en' is a tagging head; xnli needs a classification head"),
        (["eval", "xnli", "--model", str(run), "--data-dir", str(dev / "xnli"), "--langs", "sw"],
         "no xnli data for language 'sw'"),
        (["eval", "xnli", "--model", str(tmp_path), "--data-dir", str(dev / "xnli")], "not an rx run"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_label_sets_must_match(run):
    card = {**load_card("xnli"), "labels": ["entailment", "not_entailment"]}
    with pytest.raises(RxError, match="label sets differ"):
        load_task_model(run, card)


def test_bfloat16_predictions_agree_with_float32(run, dev):
    from retrieval_xfer.data.eval_data import read_language_file

    card = load_card("panx")
    records = read_language_file(card, dev / "panx" / "dev-de.tsv").examples
    sentences = [r["tokens"] for r in records]
    full = predict_tags(load_task_model(run, card), card, sentences, show_progress=False)
    half_model = load_task_model(run, card, precision="bfloat16")
    assert next(half_model.head.parameters()).dtype == torch.bfloat16
    half = predict_tags(half_model, card, sentences, show_progress=False)
    words = [(a, b) for p, q in zip(full, half) for a, b in zip(p, q)]
    assert sum(a == b for a, b in words) / len(words) > 0.9
    with pytest.raises(RxError, match="--precision 'int8'"):
        load_task_model(run, card, precision="int8")
