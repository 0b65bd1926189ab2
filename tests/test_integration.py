"""Integration: the real multilingual encoder on the real Tatoeba and BUCC zh-en files in ../shared/data.

Skipped with a reason when the data or the encoder (made by ../shared/tools/offline-encoder/
fetch-multilingual-e5-small.sh, which `make test` runs) is absent.
"""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from transformers import AutoModel, AutoTokenizer

from retrieval_xfer.cli import main
from retrieval_xfer.data.text_files import read_parallel

pytestmark = pytest.mark.integration


def test_tatoeba_three_languages_matches_an_independent_computation(shared_data, real_encoder, tmp_path):
    out = tmp_path / "tatoeba.json"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "tatoeba",
            "--model",
            str(real_encoder),
            "--layer",
            "8",
            "--prompt",
            "query: ",
            "--data-dir",
            str(shared_data / "tatoeba/v1"),
            "--langs",
            "de,swh,jv",
            "--output",
            str(out),
            "--quiet",
            "--batch-size",
            "64",
            "--precision",
            "float32",  # compared below with a float32 computation (bfloat16 is measured in bench/precision_cpu.py)
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())["scores"]
    assert set(scores) == {"de", "swh", "jv"} and scores["jv"]["n"] == 205

    # Independent: the FULL 12-layer model through plain transformers, hidden_states[8], masked mean, argmax.
    tokenizer = AutoTokenizer.from_pretrained(real_encoder)
    model = AutoModel.from_pretrained(real_encoder).eval()

    def embed(sentences):
        rows = []
        for start in range(0, len(sentences), 64):
            batch = tokenizer(
                ["query: " + s for s in sentences[start : start + 64]],
                padding=True,
                truncation=True,
                max_length=512,
                return_tensors="pt",
            )
            with torch.no_grad():
                hidden = model(**batch, output_hidden_states=True).hidden_states[8]
            mask = batch["attention_mask"].unsqueeze(-1).float()
            rows.append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
        x = np.concatenate(rows)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    jav, eng = read_parallel(
        shared_data / "tatoeba/v1/tatoeba.jav-eng.jav", shared_data / "tatoeba/v1/tatoeba.jav-eng.eng"
    )
    sim = embed(eng) @ embed(jav).T
    en2xx = 100 * np.mean(sim.argmax(axis=1) == np.arange(len(jav)))
    xx2en = 100 * np.mean(sim.argmax(axis=0) == np.arange(len(jav)))
    assert scores["jv"]["en2xx"] == pytest.approx(en2xx, abs=100 / 205 + 1e-9)  # at most one tie may flip
    assert scores["jv"]["xx2en"] == pytest.approx(xx2en, abs=100 / 205 + 1e-9)
    assert scores["de"]["en2xx"] > 70  # a real multilingual encoder aligns German well; random would be 0.1


def test_bucc_zh_en_sample(shared_data, real_encoder, tmp_path):
    out = tmp_path / "bucc.json"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "bucc",
            "--model",
            str(real_encoder),
            "--layer",
            "8",
            "--prompt",
            "query: ",
            "--data-dir",
            str(shared_data / "bucc2018"),
            "--pairs",
            "zh-en",
            "--output",
            str(out),
            "--quiet",
            "--batch-size",
            "64",
            "--max-length",
            "128",
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    score = saved["scores"]["zh-en"]
    assert score["tuned_on_sample"] and score["evaluated_on"] == "dev" and score["n_gold"] == 257
    assert score["f1"] > 0
    recomputed_f1 = 2 * score["precision"] * score["recall"] / (score["precision"] + score["recall"])
    assert score["f1"] == pytest.approx(recomputed_f1)
    assert score["precision"] == pytest.approx(100 * score["n_correct"] / score["n_predicted"])
