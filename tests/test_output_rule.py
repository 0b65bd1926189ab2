"""The output rule (``retrieval_xfer/outputs.py``): an output is replaced only with --overwrite, only when it is the
same command's own output, and only when it holds nothing else; no output is ever an input. Each case runs the
real command and checks that the user's file is byte for byte what it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main

GERMAN = ["Das Fenster zeigt alle offenen Dokumente an.", "Wählen Sie im Menü den Eintrag Datei aus."]


def rx(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def refused(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_prepare_overwrites_its_own_folder_and_nothing_else(tmp_path):
    source = write(tmp_path / "raw.de", GERMAN)
    out = tmp_path / "out"
    assert rx("prepare", source, "--lang", "de", "--lid", "none", "--out", out, "--quiet").exit_code == 0
    assert rx("prepare", source, "--lang", "de", "--lid", "none", "--out", out, "--overwrite", "--quiet").exit_code == 0
    (out / "thesis.tex").write_text("precious")
    result = rx("prepare", source, "--lang", "de", "--lid", "none", "--out", out, "--overwrite", "--quiet")
    refused(result, "holds thesis.tex, which rx prepare did not write")
    assert (out / "thesis.tex").read_text() == "precious"


def test_prepare_refuses_a_folder_with_a_foreign_report(tmp_path):
    source = write(tmp_path / "raw.de", GERMAN)
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "report.json").write_text('{"title": "my report"}')
    result = rx("prepare", source, "--lang", "de", "--lid", "none", "--out", folder, "--overwrite")
    refused(result, "not an rx prepare output")
    assert (folder / "report.json").read_text() == '{"title": "my report"}'


def test_prepare_never_writes_over_its_input(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    source = write(folder / "raw.de", GERMAN)
    result = rx("prepare", source, "--lang", "de", "--lid", "none", "--out", folder, "--overwrite")
    refused(result, "holds the input")
    assert source.read_text(encoding="utf-8").splitlines() == GERMAN


@pytest.fixture()
def sides(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.standard_normal((6, 8)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.standard_normal((6, 8)).astype(np.float32))
    return tmp_path / "x.npy", tmp_path / "y.npy"


def test_mine_never_replaces_a_users_json_beside_the_pairs_file(tmp_path, sides):
    out = tmp_path / "pairs"
    (tmp_path / "pairs.json").write_text('{"mine": "not rx"}')
    refused(rx("mine", "--src", sides[0], "--trg", sides[1], "--out", out), "pairs.json: exists and is not")
    assert (tmp_path / "pairs.json").read_text() == '{"mine": "not rx"}' and not out.exists()


def test_mine_overwrites_only_its_own_pairs_file(tmp_path, sides):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    refused(rx("mine", "--src", sides[0], "--trg", sides[1], "--out", notes, "--overwrite"), "not an rx mine output")
    assert notes.read_text() == "my notes"
    out = tmp_path / "pairs.tsv"
    assert rx("mine", "--src", sides[0], "--trg", sides[1], "--out", out).exit_code == 0
    refused(rx("mine", "--src", sides[0], "--trg", sides[1], "--out", out), "already exists")
    assert rx("mine", "--src", sides[0], "--trg", sides[1], "--out", out, "--overwrite").exit_code == 0
    assert json.loads((tmp_path / "pairs.tsv.json").read_text())["pairs_written"] == len(out.read_text().splitlines())


def test_mine_never_writes_its_sample_or_a_folder(tmp_path, sides):
    sample = write(tmp_path / "sample.de", GERMAN)
    english = write(tmp_path / "sample.en", ["The window shows every open document.", "Choose File."])
    args = ["mine", "--src", sides[0], "--trg", sides[1], "--threshold", "auto", "--sample-trg", english]
    refused(rx(*args, "--sample-src", sample, "--out", sample, "--overwrite"), "is the input")
    assert sample.read_text(encoding="utf-8").splitlines() == GERMAN
    (tmp_path / "folder").mkdir()
    refused(rx("mine", "--src", sides[0], "--trg", sides[1], "--out", tmp_path / "folder"), "is a folder")


def test_build_index_overwrite_keeps_other_files(tmp_path, tiny_model):
    corpus = write(tmp_path / "corpus.txt", GERMAN)
    out = tmp_path / "idx"
    build = ["build-index", "--model", tiny_model, "--layer", 2, "--input", corpus, "--out", out, "--quiet"]
    assert rx(*build).exit_code == 0
    assert rx(*build, "--overwrite").exit_code == 0
    (out / "README.md").write_text("how I built it")
    refused(rx(*build, "--overwrite"), "holds README.md, which rx build-index did not write")
    assert (out / "README.md").read_text() == "how I built it"


def test_export_never_writes_among_a_users_files(tmp_path, tiny_model):
    corpus = write(tmp_path / "corpus.txt", GERMAN)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    export = ["export", "--model", tiny_model, "--layer", 2, "--input", corpus, "--quiet"]
    refused(rx(*export, "--out", folder), "is not an rx export (no manifest.json)")
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    refused(rx(*export, "--out", tmp_path), "holds the input")


def test_eval_output_never_replaces_a_users_file(tmp_path):
    from helpers import write_tatoeba

    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}')
    data = tmp_path / "tatoeba"
    write_tatoeba(data, ["a b c"], ["a b c"])
    result = rx("eval", "tatoeba", "--model", "/nonexistent", "--data-dir", data, "--langs", "de", "--output", notes)
    refused(result, "notes.json: exists and is not an rx eval output")  # before the model is looked at
    assert notes.read_text() == '{"my": "notes"}'


def test_eval_output_replaces_its_own_result_only_with_overwrite(tmp_path, tiny_model):
    from helpers import write_tatoeba

    data = tmp_path / "tatoeba"
    write_tatoeba(data, ["der hund", "die katze", "das haus"], ["der hund", "die katze", "das haus"])
    out = tmp_path / "result.json"
    args = ["eval", "tatoeba", "--model", tiny_model, "--layer", 2, "--data-dir", data, "--langs", "de", "--quiet"]
    assert rx(*args, "--output", out).exit_code == 0
    first = json.loads(out.read_text())
    refused(rx(*args, "--output", out), "already exists (pass --overwrite")
    assert rx(*args, "--output", out, "--overwrite").exit_code == 0
    assert json.loads(out.read_text())["scores"] == first["scores"]
