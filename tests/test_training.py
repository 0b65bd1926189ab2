"""Training: each head learns a learnable toy task, samplers keep their proportions, runs save and reload
exactly, resume equals an uninterrupted run, same seed gives the same run, and bad input fails in one line."""

import json
import random
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import write_tatoeba
from sentence_transformers import SentenceTransformer
from torch.utils.data import BatchSampler, ConcatDataset, SequentialSampler
from toy_data import ENGLISH, write_multiple_choice, write_ner, write_nli, write_qa

from retrieval_xfer.cli import main
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.encoding.loader import load_encoder
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.tatoeba import tatoeba_accuracy
from retrieval_xfer.modeling.collator import MultiTaskCollator, split_batch
from retrieval_xfer.modeling.features import build_rows
from retrieval_xfer.modeling.heads import load_head
from retrieval_xfer.training.callbacks import CheckpointState
from retrieval_xfer.training.runner import MLM_CARD, TrainConfig, build_encoder, build_heads, load_task_data, train
from retrieval_xfer.training.samplers import TemperatureBatchSampler, batch_sampler, temperature_probabilities
from retrieval_xfer.workflows.train import train_phase


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One small learnable dataset per head type, in each task's original file format."""
    folder, rng = tmp_path_factory.mktemp("train-data"), random.Random(0)
    return {
        "mnli": write_nli(folder / "nli.jsonl", rng, 48),
        "cosmosqa": write_multiple_choice(folder / "mc.csv", rng, 48),
        "panx_en": write_ner(folder / "ner.tsv", rng, 48),
        "squad_v1": write_qa(folder / "qa.json", rng, 48),
    }


def config(tiny_model, files, out, tasks, **kw):
    settings = dict(
        tasks=tasks,
        out=out,
        base=str(tiny_model),
        train_files={t: str(files[t]) for t in tasks},
        batch_size=8,
        lr=2e-3,
        warmup=0.0,
        max_steps=60,
        logging_steps=10,
        save_steps=1000,
        quiet=True,
    )
    return TrainConfig(**{**settings, **kw})


def loss_and_accuracy(model, head, task, card_format, rows):
    """Mean loss and accuracy of a head on rows, dropout off; accuracy counts labelled tokens/positions."""
    model.eval(), head.eval()
    collator = MultiTaskCollator(model[0].tokenizer, {task: card_format})
    features, labels = split_batch(collator([{**r, "dataset_name": task} for r in rows]))
    with torch.no_grad():
        loss = float(head(features, labels))
        logits = head.logits(features)
    if card_format == "span-qa":
        correct = (logits[0].argmax(-1) == labels[:, 0]) & (logits[1].argmax(-1) == labels[:, 1])
        return loss, float(correct.float().mean())
    predictions = logits.argmax(-1)
    keep = labels != -100
    return loss, float((predictions[keep] == labels[keep]).float().mean())


@pytest.mark.parametrize("task,chance", [("mnli", 1 / 3), ("cosmosqa", 1 / 4), ("panx_en", 1 / 7), ("squad_v1", None)])
def test_each_head_learns(tiny_model, files, tmp_path, task, chance):
    cfg = config(tiny_model, files, tmp_path / "run", [task])
    data = load_task_data(cfg)
    torch.manual_seed(cfg.seed)  # the runner's initial state, rebuilt to measure the start
    model = build_encoder(cfg)
    head = build_heads(model, data, None)[task]
    card = data[task][0]
    rows = build_rows(card, data[task][1].examples, head.config.get("labels", []), model[0].tokenizer, 64)
    loss_before, _ = loss_and_accuracy(model, head, task, card.format, rows)
    result = train(cfg)
    loss_after, accuracy = loss_and_accuracy(result.model, result.heads[task], task, card.format, rows)
    assert loss_after < 0.7 * loss_before
    chance = chance if chance is not None else 1 / np.mean([len(r["window_ids"]) for r in rows]) ** 2
    assert accuracy > max(chance, 0.5)


def test_sampler_proportions():
    sizes = [4000, 1000, 250]
    dataset = ConcatDataset([list(range(n)) for n in sizes])
    samplers = [BatchSampler(SequentialSampler(range(n)), batch_size=5, drop_last=False) for n in sizes]
    offsets = np.cumsum([0] + sizes)

    def counts(sampler):
        tally = np.zeros(3)
        for batch in sampler:
            task = int(np.searchsorted(offsets, batch[0], side="right") - 1)
            assert all(offsets[task] <= i < offsets[task + 1] for i in batch)  # one task per batch
            tally[task] += 1
        return tally

    make = lambda name, **kw: batch_sampler(name, **kw)(
        dataset, batch_samplers=samplers, generator=torch.Generator(), seed=0
    )
    np.testing.assert_array_equal(counts(make("proportional")), [800, 200, 50])
    np.testing.assert_array_equal(counts(make("round-robin")), [50, 50, 50])
    temperature = counts(make("temperature", temperature=2.0))
    expected = np.array(temperature_probabilities(sizes, 2.0)) * 1050
    np.testing.assert_allclose(expected, [600, 300, 150])  # ∝ sqrt(n)
    assert np.all(np.abs(temperature - expected) < 0.15 * expected)
    assert isinstance(make("temperature"), TemperatureBatchSampler)


@pytest.mark.parametrize("sampling", ["proportional", "round-robin", "temperature"])
def test_multi_task_run_with_all_head_types(tiny_model, files, tmp_path, sampling):
    tasks = ["mnli", "cosmosqa", "panx_en", "squad_v1"]
    result = train(config(tiny_model, files, tmp_path / "run", tasks, max_steps=12, logging_steps=1, sampling=sampling))
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["sampler"]["name"] == sampling and run["steps"] == 12 and set(run["tasks"]) == set(tasks)
    seen = {key.split("/")[1] for entry in run["losses"] for key in entry if key.startswith("loss/")}
    assert seen == set(tasks)  # 12 steps over 4 tasks: every sampler reaches every task
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert result.run == run


def test_run_folder_round_trip(tiny_model, files, tmp_path):
    tasks = ["mnli", "cosmosqa", "panx_en", "squad_v1"]
    result = train(config(tiny_model, files, tmp_path / "run", tasks, max_steps=8))
    loaded = SentenceTransformer(str(tmp_path / "run"))
    for task in tasks:
        head = load_head(tmp_path / "run" / "heads" / task, loaded)
        card_format = {
            "mnli": "pair-classification",
            "cosmosqa": "multiple-choice",
            "panx_en": "tagging",
            "squad_v1": "span-qa",
        }[task]
        data = load_task_data(config(tiny_model, files, tmp_path / "x", [task]))
        rows = build_rows(
            data[task][0], data[task][1].examples[:6], head.config.get("labels", []), loaded[0].tokenizer, 64
        )
        assert loss_and_accuracy(result.model, result.heads[task], task, card_format, rows) == pytest.approx(
            loss_and_accuracy(loaded, head, task, card_format, rows), abs=1e-6
        )
    # rx commands take a run folder as MODEL, at any layer
    out = CliRunner().invoke(
        main,
        [
            "build-index",
            "--model",
            str(tmp_path / "run"),
            "--layer",
            "2",
            "--quiet",
            "--input",
            str(files["mnli"]),
            "--out",
            str(tmp_path / "idx"),
        ],
    )
    assert out.exit_code == 0, out.output


def weights(folder):
    from safetensors.torch import load_file

    state = load_file(str(folder / "model.safetensors"))
    for head in sorted((folder / "heads").iterdir()):
        state.update({f"{head.name}.{k}": v for k, v in load_file(str(head / "head.safetensors")).items()})
    return state


class Crash(Exception):
    pass


def crash_after_first_checkpoint(settings, monkeypatch) -> None:
    """Train ``settings`` until its first checkpoint is saved, then crash (as a kill would stop it)."""
    original = CheckpointState.on_save

    def on_save_then_crash(self, args, state, control, **kwargs):
        original(self, args, state, control, **kwargs)
        raise Crash()

    monkeypatch.setattr(CheckpointState, "on_save", on_save_then_crash)
    with pytest.raises(Crash):
        train(settings)
    monkeypatch.setattr(CheckpointState, "on_save", original)


def test_resume_equals_uninterrupted(tiny_model, files, tmp_path, monkeypatch):
    tasks = ["mnli", "panx_en"]
    make = lambda out, **kw: config(
        tiny_model, files, tmp_path / out, tasks, max_steps=8, save_steps=4, logging_steps=2, **kw
    )
    train(make("full"))
    crash_after_first_checkpoint(make("resumed"), monkeypatch)
    assert (tmp_path / "resumed" / "checkpoints" / "checkpoint-4").is_dir()
    assert not (tmp_path / "resumed" / "run.json").exists()
    # a kill while checkpoint-8 was being written leaves it without its state file: resume passes over it
    shutil.copytree(
        tmp_path / "resumed" / "checkpoints" / "checkpoint-4",
        tmp_path / "resumed" / "checkpoints" / "checkpoint-8",
        ignore=shutil.ignore_patterns("rx_state.json", "heads"),
    )
    with pytest.raises(RxError, match="already exists"):
        train(make("resumed"))
    train(make("resumed", resume=True))
    full, resumed = weights(tmp_path / "full"), weights(tmp_path / "resumed")
    assert full.keys() == resumed.keys()
    for key in full:
        torch.testing.assert_close(full[key], resumed[key], rtol=0, atol=1e-6)


@pytest.mark.parametrize("damaged", ["optimizer.pt", "model.safetensors"])
def test_a_truncated_checkpoint_file_is_named_before_resuming(tiny_model, files, tmp_path, monkeypatch, damaged):
    make = lambda **kw: config(tiny_model, files, tmp_path / "run", ["mnli"], max_steps=8, save_steps=4, **kw)
    crash_after_first_checkpoint(make(), monkeypatch)
    path = tmp_path / "run" / "checkpoints" / "checkpoint-4" / damaged
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(RxError, match=f"{damaged}: truncated or damaged checkpoint file; delete .*checkpoint-4"):
        train(make(resume=True))


def test_same_seed_same_run(tiny_model, files, tmp_path):
    tasks = ["mnli", "cosmosqa"]
    a = train(config(tiny_model, files, tmp_path / "a", tasks, max_steps=10, logging_steps=2)).run
    b = train(config(tiny_model, files, tmp_path / "b", tasks, max_steps=10, logging_steps=2)).run
    strip = lambda losses: [
        {k: v for k, v in e.items() if "runtime" not in k and "per_second" not in k} for e in losses
    ]
    assert strip(a["losses"]) == strip(b["losses"])
    wa, wb = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def rx_train(*args):
    return CliRunner().invoke(main, ["train", *map(str, args), "--quiet"])


def test_bad_training_input_is_one_line(tiny_model, files, tmp_path):
    cases = [
        (
            ["--tasks", "mnli,nope", "--base", tiny_model, "--out", tmp_path / "o"],
            "unknown task 'nope'; trainable tasks:",
        ),
        (["--tasks", "mnli", "--init", files["mnli"], "--out", tmp_path / "o"], "not an rx run"),
        (["--tasks", "mnli", "--base", tiny_model, "--out", tmp_path / "o", "--epochs", "-1"], "--epochs"),
        (
            ["--tasks", "mnli", "--base", tiny_model, "--out", tmp_path / "o", "--sampling", "temperature"]
            + ["--temperature", "0"],
            "--temperature",
        ),
        (
            ["--tasks", "mnli", "--base", tiny_model, "--out", tmp_path / "o", "--train-file", f"qqp={files['mnli']}"],
            "--train-file for qqp, which is not in --tasks",
        ),
        (
            ["--tasks", "mnli", "--base", tiny_model, "--out", tmp_path / "o", "--train-file", "mnli"],
            "expected TASK=PATH",
        ),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"sentence1": "a", "sentence2": "b", "gold_label": "yes"}) + "\n")
    cases.append(
        (
            ["--tasks", "mnli", "--base", tiny_model, "--out", tmp_path / "o", "--train-file", f"mnli={bad}"],
            "bad.jsonl:1: label 'yes' is not one of",
        )
    )
    for args, message in cases:
        result = rx_train(*args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert not (tmp_path / "o").exists()


def test_qa_windows_map_answers_through_offsets(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    words = [ENGLISH[i % len(ENGLISH)] for i in range(60)]
    words[45] = "moon"
    context = " ".join(words)
    record = {
        "id": "1",
        "question": "where",
        "context": context,
        "is_impossible": False,
        "answers": [{"text": "moon", "answer_start": context.index("moon")}],
    }
    card = load_card("squad_v1").replace(doc_stride=8)
    rows = build_rows(card, [record], [], tokenizer, 24)
    assert len(rows) > 3  # 60 words do not fit one 24-token window
    with_answer = [r for r in rows if r["start"] > 0]
    assert with_answer and all(
        tokenizer.decode(r["window_ids"][r["start"] : r["end"] + 1]) == "moon" for r in with_answer
    )
    assert all(r["start"] == r["end"] == 0 for r in rows if r not in with_answer)  # no answer here: first token
    unanswerable = build_rows(card, [{**record, "answers": [], "is_impossible": True}], [], tokenizer, 24)
    assert all(r["start"] == r["end"] == 0 for r in unanswerable)


def test_qa_windows_with_a_long_question_cover_the_context(tiny_model):
    """A question longer than the window's room, and a stride larger than the room left for context, used to
    make the tokenizer panic; now the question is cut to half the window and every context token is in a window."""
    from transformers import AutoTokenizer

    from retrieval_xfer.modeling.features import tokenize_qa

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    question = " ".join(ENGLISH[i % len(ENGLISH)] for i in range(40))
    context = " ".join(ENGLISH[(3 * i) % len(ENGLISH)] for i in range(50))
    enc = tokenize_qa(tokenizer, question, context, 32, 128)
    context_tokens = len(tokenizer(context, add_special_tokens=False)["input_ids"])
    covered = set()
    for w, ids in enumerate(enc["input_ids"]):
        assert len(ids) <= 32
        sequence_ids = enc.sequence_ids(w)
        assert sum(s == 0 for s in sequence_ids) <= 16  # the question, cut to half the window
        covered |= {tuple(o) for o, s in zip(enc["offset_mapping"][w], sequence_ids) if s == 1}
    assert len(covered) == context_tokens
    with pytest.raises(RxError, match="too short for extractive QA"):
        tokenize_qa(tokenizer, "where", context, 12, 4)


def test_mlm_mixture_masks_only_real_tokens(tiny_model, files, tmp_path):
    corpus = tmp_path / "mlm.txt"
    corpus.write_text("\n".join(["der hund läuft schnell", "le chat dort", "the red house"] * 20) + "\n")
    cfg = config(tiny_model, files, tmp_path / "run", ["mnli"], mlm_file=str(corpus), max_steps=6, logging_steps=1)
    run = train(cfg).run
    assert set(run["tasks"]) == {"mnli", "mlm"} and run["tasks"]["mlm"]["examples"] == 60
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    torch.manual_seed(0)
    rows = build_rows(MLM_CARD, [{"text": "der hund läuft schnell über die grüne wiese"}] * 8, [], tokenizer, 32)
    batch = MultiTaskCollator(tokenizer, {"mlm": "masked-lm"}, mlm_probability=0.5)(
        [{**r, "dataset_name": "mlm"} for r in rows]
    )
    features, labels = split_batch(batch)
    original = tokenizer(["der hund läuft schnell über die grüne wiese"] * 8, return_tensors="pt")["input_ids"]
    masked = labels != -100
    assert masked.any() and torch.equal(labels[masked], original[masked])
    special = torch.isin(
        original, torch.tensor([tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id])
    )
    assert not (masked & special).any()
    assert (features[0]["input_ids"][masked] == tokenizer.mask_token_id).float().mean() > 0.5


def test_tatoeba_during_training(tiny_model, files, tmp_path):
    tatoeba = write_tatoeba(
        tmp_path / "tatoeba", ["der hund", "die katze", "ein haus"], ["the dog", "the cat", "a house"]
    )
    cfg = config(
        tiny_model,
        files,
        tmp_path / "run",
        ["mnli"],
        max_steps=4,
        eval_every=2,
        eval_data=str(tatoeba),
        eval_langs="de",
        eval_layer=2,
    )
    run = train_phase(cfg).run
    assert [e["step"] for e in run["evaluations"]] == [2, 4]
    assert all(e["layer"] == 2 for e in run["evaluations"])
    assert len((tmp_path / "run" / "eval_log.jsonl").read_text().splitlines()) == 2
    # The step-4 evaluation saw the final weights: it must equal rx's own Tatoeba on the saved run at layer 2.
    encoder = load_encoder(str(tmp_path / "run"), 2, show_progress=False)
    source, english = (
        encoder.encode(["der hund", "die katze", "ein haus"]),
        encoder.encode(["the dog", "the cat", "a house"]),
    )
    assert run["evaluations"][-1]["tatoeba/de"] == pytest.approx(sum(tatoeba_accuracy(source, english)) / 2)
    # ... and it went through the trainer's own logging (eval_ prefix), not a side channel.
    assert any("eval_tatoeba/de" in entry for entry in run["losses"])
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--tasks",
            "mnli",
            "--base",
            str(tiny_model),
            "--out",
            str(tmp_path / "o"),
            "--eval-every",
            "2",
            "--quiet",
        ],
    )
    assert result.exit_code != 0 and "--eval-every needs --eval-data" in result.output


def test_init_continues_encoder_and_reuses_heads_of_tasks_trained_again(tiny_model, files, tmp_path):
    from safetensors.torch import load_file

    train(config(tiny_model, files, tmp_path / "first", ["mnli"], max_steps=4))
    cfg = config(tiny_model, files, tmp_path / "second", ["mnli", "panx_en"], base=None, init=tmp_path / "first")
    data = load_task_data(cfg)
    model = build_encoder(cfg)
    heads = build_heads(model, data, cfg.init)
    saved_head = load_file(str(tmp_path / "first" / "heads" / "mnli" / "head.safetensors"))
    assert all(torch.equal(heads["mnli"].head_state_dict()[k], v) for k, v in saved_head.items())
    saved_encoder = load_file(str(tmp_path / "first" / "model.safetensors"))
    live = {k.removeprefix("0.auto_model."): v for k, v in model.state_dict().items()}
    assert all(torch.equal(live[k], v) for k, v in saved_encoder.items() if k in live)
    run = train(cfg).run
    assert run["init"] == str(tmp_path / "first") and run["base_model"] == str(tiny_model)


def test_bfloat16_mixed_precision_autocasts_and_is_recorded(tiny_model, files, tmp_path):
    """bfloat16 runs the forward under autocast (losses move off the float32 ones, but stay close), keeps the
    saved weights float32, and run.json says which precision trained the run."""
    steps = dict(max_steps=6, logging_steps=2)
    fp32 = train(config(tiny_model, files, tmp_path / "fp32", ["mnli"], **steps)).run
    bf16 = train(config(tiny_model, files, tmp_path / "bf16", ["mnli"], precision="bfloat16", **steps)).run
    losses = lambda run: np.array([e["loss"] for e in run["losses"] if "loss" in e])
    assert losses(fp32).shape == losses(bf16).shape and len(losses(fp32)) == 3
    assert not np.array_equal(losses(fp32), losses(bf16))
    np.testing.assert_allclose(losses(bf16), losses(fp32), rtol=0.05)
    assert bf16["hyperparameters"]["precision"] == "bfloat16" and fp32["hyperparameters"]["precision"] == "float32"
    assert all(t.dtype == torch.float32 for t in weights(tmp_path / "bf16").values())


def test_float16_training_without_a_gpu_is_one_line(tiny_model, files, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: float16 training is allowed")
    result = rx_train(
        "--tasks",
        "mnli",
        "--base",
        tiny_model,
        "--out",
        tmp_path / "o",
        "--train-file",
        f"mnli={files['mnli']}",
        "--precision",
        "float16",
    )
    assert result.exit_code != 0 and "--precision float16 needs a GPU" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()
