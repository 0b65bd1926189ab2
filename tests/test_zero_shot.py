"""Zero-shot evaluators: batched predictions equal an independent one-example-at-a-time computation, trained
heads score what they learned on XTREME-format files, and bad input fails in one line."""

import json
import random
import shutil

import pytest
import torch
from click.testing import CliRunner
from toy_data import write_ner, write_nli, write_qa

from retrieval_xfer.cli import main
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.errors import RunFolderError, RxError
from retrieval_xfer.evaluation.classification import predict_labels
from retrieval_xfer.evaluation.outcomes import read_units
from retrieval_xfer.evaluation.qa import predict_answers
from retrieval_xfer.evaluation.tagging import predict_tags, split_long_sentence
from retrieval_xfer.modeling.task_model import load_task_model
from retrieval_xfer.training.runner import TrainConfig, train


@pytest.fixture(scope="module")
def run(tiny_model, tmp_path_factory):
    """A tiny run with an NLI, an NER and a QA head, trained on learnable toy data."""
    folder, rng = tmp_path_factory.mktemp("zero-shot"), random.Random(0)
    write_nli(folder / "nli.jsonl", rng, 48)
    write_ner(folder / "ner.tsv", rng, 48)
    write_qa(folder / "qa.json", rng, 48)
    files = {"xnli_en": folder / "nli.jsonl", "panx_en": folder / "ner.tsv", "squad_en": folder / "qa.json"}
    config = TrainConfig(
        tasks=list(files),
        out=folder / "run",
        base=str(tiny_model),
        train_files={k: str(v) for k, v in files.items()},
        batch_size=8,
        lr=2e-3,
        warmup=0.0,
        max_steps=150,
        save_steps=1000,
        quiet=True,
        sampling="round-robin",
    )
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
        single = [
            labels[int(model.head.logits([dict(tokenizer(r["text_a"], r["text_b"], return_tensors="pt"))]).argmax())]
            for r in records
        ]
    assert batched == single
    assert sum(p == r["label"] for p, r in zip(batched, records)) / len(records) > 0.8  # it learned the keyword


def test_tagging_batched_equals_one_by_one_and_long_sentences_are_cut(run, dev):
    from retrieval_xfer.data.eval_data import read_language_file

    card = load_card("panx").replace(max_length=24)
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
    from retrieval_xfer.modeling.features import tokenize_qa

    card = load_card("xquad").replace(max_length=16, doc_stride=4, max_answer_length=3)
    model = load_task_model(run, card)
    records = read_language_file(card, dev / "xquad" / "xquad.de.json").examples
    batched = predict_answers(model, card, records, batch_size=5, show_progress=False)
    expected = []
    with torch.no_grad():
        for r in records:
            enc = tokenize_qa(model.tokenizer, r["question"], r["context"], 16, 4)
            best = None
            for w, ids in enumerate(enc["input_ids"]):
                start, end = model.head.logits(
                    [{"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}]
                )
                context = [i for i, s in enumerate(enc.sequence_ids(w)) if s == 1]
                for s in context:
                    for e in context:
                        if s <= e < s + 3:
                            score = float(start[0, s] + end[0, e])
                            if best is None or score > best[0]:
                                offsets = enc["offset_mapping"][w]
                                best = (score, r["context"][offsets[s][0] : offsets[e][1]])
            expected.append(best[1])
    assert len(enc["input_ids"]) >= 1 and batched == expected


def test_cli_scores_each_task_and_writes_json(run, dev, tmp_path):
    runner = CliRunner()
    for task, key in (("xnli", "accuracy"), ("panx", "f1"), ("xquad", "f1")):
        out = tmp_path / f"{task}.json"
        result = runner.invoke(
            main, ["eval", task, "--model", str(run), "--data-dir", str(dev / task), "--output", str(out), "--quiet"]
        )
        assert result.exit_code == 0, result.output
        payload = json.loads(out.read_text())
        assert payload["task"] == task and payload["report_key"] == key
        assert set(payload["scores"]) == ({"de", "fr"} if task == "panx" else {"de"})
        mean = sum(s[key] for s in payload["scores"].values()) / len(payload["scores"])
        assert payload["averages"][key] == pytest.approx(mean)
        units = read_units(out, payload, key)  # per-example outcomes kept, and they rebuild each score
        assert set(units) == set(payload["scores"]) and "95% CI" in result.output
        for lang, score in payload["scores"].items():
            assert units[lang].units.score() == pytest.approx(score[key])
            assert score["ci95"][key][0] <= score[key] <= score["ci95"][key][1]
    assert json.loads((tmp_path / "panx.json").read_text())["scores"]["de"]["f1"] > 80  # house -> B-LOC learned


def test_bad_input_is_one_line(run, dev, tmp_path):
    runner = CliRunner()
    cases = [
        (
            ["eval", "udpos", "--model", str(run), "--data-dir", str(dev / "panx")],
            "no tagging head for udpos (it needs one of udpos_en; the run has panx_en, squad_en, xnli_en); "
            "train one with: rx train",
        ),
        (
            ["eval", "xnli", "--model", str(run), "--data-dir", str(dev / "xnli"), "--head", "panx_en"],
            "head 'panx_en' is a tagging head; xnli needs a classification head",
        ),
        (
            ["eval", "xnli", "--model", str(run), "--data-dir", str(dev / "xnli"), "--langs", "sw"],
            "no xnli data for language 'sw'",
        ),
        (["eval", "xnli", "--model", str(tmp_path), "--data-dir", str(dev / "xnli")], "not an rx run"),
    ]
    for args, message in cases:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda run: (run / "run.json").write_text('{"tasks": '), "run.json: corrupt run file"),
        (
            lambda run: (run / "heads" / "xnli_en" / "head.json").write_text("{not json"),
            "head.json: corrupt head config",
        ),
        (
            lambda run: (run / "heads" / "xnli_en" / "head.json").write_text('{"head_type": "nope", "config": {}}'),
            "head.json: corrupt head config (expected head_type among",
        ),
        (
            lambda run: (run / "heads" / "xnli_en" / "head.safetensors").write_bytes(b"\x00" * 10),
            "corrupt head weights",
        ),
        (lambda run: (run / "heads" / "xnli_en" / "head.safetensors").unlink(), "missing head weights"),
    ],
)
def test_a_damaged_run_folder_is_one_line(run, dev, tmp_path, damage, message):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    damage(copy)
    with pytest.raises(RunFolderError, match=message.replace("(", r"\(")):
        load_task_model(copy, load_card("xnli"))
    result = CliRunner().invoke(main, ["eval", "xnli", "--model", str(copy), "--data-dir", str(dev / "xnli")])
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_run_json_is_written_atomically(tmp_path, monkeypatch):
    from retrieval_xfer.modeling import run_folder

    run_folder.write_run(tmp_path, {"steps": 1})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # as if Ctrl-C came while run.json was being written

    monkeypatch.setattr("os.fdopen", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_folder.write_run(tmp_path, {"steps": 2})
    assert run_folder.read_run(tmp_path) == {"steps": 1}  # the old file is intact, no partial write
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # and no temporary file is left behind


def test_label_sets_must_match(run):
    card = load_card("xnli").replace(labels=["entailment", "not_entailment"])
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


def test_a_language_without_the_split_is_skipped_and_listed(run, dev, monkeypatch, rx_warns):
    from retrieval_xfer.data.eval_data import read_language_file
    from retrieval_xfer.errors import SplitMissingError
    from retrieval_xfer.evaluation import zero_shot

    card = load_card("udpos")

    def hub(card_, lang, split, limit=None):
        if lang == "kk":
            raise SplitMissingError("google/xtreme/udpos.Kazakh: no 'validation' split")
        return read_language_file(load_card("panx"), dev / "panx" / "dev-de.tsv", limit)

    monkeypatch.setattr(zero_shot, "read_language_hub", hub)
    model = load_task_model(run, load_card("panx").replace(name="udpos"))
    with rx_warns("udpos kk: skipped"):
        result = zero_shot.evaluate_zero_shot(
            model,
            load_card("panx").replace(name="udpos", comparability=card.comparability),
            {"el": None, "kk": None},
            "dev",
            show_progress=False,
        )
    assert list(result["scores"]) == ["el"] and "kk" in result["languages_without_split"]
    assert (
        result["scores"]["el"]["comparable_with_xtreme"] is False
        and "Ancient Greek" in result["scores"]["el"]["caveat"]
    )
    with pytest.raises(RxError, match="no language has a 'dev' split"):
        with rx_warns():
            zero_shot.evaluate_zero_shot(model, load_card("panx"), {"kk": None}, "dev", show_progress=False)
