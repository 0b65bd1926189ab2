"""Integration: the readers on every real XTREME evaluation file in ../shared/data (counts from the data's own
SOURCE-NOTEs and README), and a real encoder with a freshly trained PAN-X head scored on real files.

Skipped with a reason when the data or the offline encoder is absent.
"""

import json

import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.eval_data import find_language_files, read_language_file

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "task,folder,languages,per_language",
    [
        ("xnli", "xtreme/xnli", 15, {"de": 2490, "sw": 2490}),
        ("pawsx", "xtreme/pawsx", 7, {"en": 2000}),
        ("xquad", "xquad", 12, {"th": 1190}),
        ("mlqa", "xtreme/mlqa", 7, {"en": 1148, "ar": 517, "de": 512, "es": 500, "hi": 507, "vi": 511, "zh": 504}),
    ],
)
def test_real_files_read_completely(shared_data, task, folder, languages, per_language):
    card = load_card(task)
    found = find_language_files(card, shared_data / folder, "dev")
    assert len(found) == languages
    for lang, n in per_language.items():
        assert len(read_language_file(card, found[lang]).examples) == n


def test_pawsx_placeholder_rows_are_dropped_and_counted(shared_data):
    card = load_card("pawsx")
    found = find_language_files(card, shared_data / "xtreme/pawsx", "dev")
    data = {lang: read_language_file(card, path) for lang, path in found.items()}
    for lang, path in found.items():
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        lines = [line for line in text.split("\n") if line]  # not splitlines(): ko has a U+2028 inside a sentence
        placeholders = sum(1 for line in lines if "NS" in line.split("\t")[:2])
        assert data[lang].skipped.get("placeholder sentence", 0) == placeholders
        assert len(data[lang].examples) == len(lines) - placeholders


def test_panx_head_on_the_real_encoder(shared_data, real_encoder, tmp_path):
    runner = CliRunner()
    run = tmp_path / "run"
    trained = runner.invoke(
        main,
        [
            "train",
            "--base",
            str(real_encoder),
            "--tasks",
            "panx_en",
            "--out",
            str(run),
            "--train-file",
            f"panx_en={shared_data / 'xtreme/panx/train-en.tsv'}",
            "--limit",
            "400",
            "--max-steps",
            "40",
            "--batch-size",
            "16",
            "--lr",
            "1e-4",
            "--max-length",
            "64",
            "--quiet",
        ],
    )
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "panx.json"
    result = runner.invoke(
        main,
        [
            "eval",
            "panx",
            "--model",
            str(run),
            "--data-dir",
            str(shared_data / "xtreme/panx"),
            "--langs",
            "en,de,yo",
            "--limit",
            "100",
            "--output",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert set(payload["scores"]) == {"en", "de", "yo"} and payload["head"] == "panx_en"
    assert payload["scores"]["en"]["n"] == 100
    for score in payload["scores"].values():  # F1 is the harmonic mean of the precision and recall it reports
        p, r = score["precision"], score["recall"]
        assert score["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=1e-6)
    assert payload["scores"]["en"]["f1"] > 10.0  # 40 steps on English NER find some English entities
