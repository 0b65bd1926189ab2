"""rx prepare: normalisation, filters, language identification and de-duplication of raw text, with a map back
to the input's line numbers, a report, streaming memory and one-line errors."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.prepare.dedup import DuplicateFinder, is_set
from retrieval_xfer.prepare.filters import LineFilter
from retrieval_xfer.prepare.normalise import duplicate_key, normalise_text
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.prepare.pipeline import prepare_file

GERMAN = [
    "Das Fenster zeigt alle offenen Dokumente an.",
    "Wählen Sie im Menü den Eintrag Datei aus.",
    "Die Ebene wird mit der gewählten Farbe gefüllt.",
    "Klicken Sie auf die Schaltfläche, um fortzufahren.",
    "In diesem Dialog stellen Sie die Seitenränder ein.",
]
ENGLISH = ["The window shows every open document.", "Choose the File entry from the menu bar."]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("\uff21\uff22\uff23 \u2460", "ABC 1"),  # full-width letters and a circled digit: NFKC
        ("\u201eGut\u201c, sagte er \u2013 \u00bbja\u00ab", '"Gut", sagte er - "ja"'),
        ("  zwei \t  Leer\u00a0zeichen \u200b ", "zwei Leer zeichen"),
        ("ein Wort , dann Punkt .", "ein Wort, dann Punkt."),
        ("Bonjour !", "Bonjour !"),  # French spacing before ! is kept
        ("Stra\u00dfe\u00ad", "Straße"),  # the soft hyphen goes
        ("a\x00b\x1fc", "a b c"),
    ],
)
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


def test_near_duplicates_share_a_key_and_others_do_not():
    assert duplicate_key(normalise_text("Das ist gut!")) == duplicate_key(normalise_text(" das  IST gut ."))
    assert duplicate_key("Seite 1") != duplicate_key("Seite 2")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("Ja", "too short"),
        ("x" * 30, "too long"),
        ("12 345 678,90 €", "few letters"),
        ("Ein Satz.", None),
    ],
)
def test_line_filter(text, reason):
    assert LineFilter(min_chars=5, max_chars=20, min_letters=0.5).reason(text) == reason


def test_duplicate_finder_equals_a_set_based_reference(tmp_path):
    rng = random.Random(3)
    pool = [f"satz {i}" for i in range(300)]
    lines = []
    for _ in range(5000):
        line = rng.choice(pool)
        lines.append(line.upper() if rng.random() < 0.3 else line)  # case variants: near duplicates
    finder = DuplicateFinder(tmp_path / "buckets", chunk=777)  # several spills
    for line in lines:
        finder.add(duplicate_key(line), line)
    exact, near = finder.find()
    seen_text, seen_key = set(), set()
    for i, line in enumerate(lines):
        key = duplicate_key(line)
        expected = "exact" if line in seen_text else "near" if key in seen_key else None
        seen_text.add(line)
        seen_key.add(key)
        found = "exact" if is_set(exact, i) else "near" if is_set(near, i) else None
        assert found == expected, (i, line)
    assert not list((tmp_path / "buckets").iterdir())


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_prepare_keeps_clean_german_and_maps_each_line_back(tmp_path):
    raw = [
        GERMAN[0],
        ENGLISH[0],  # wrong language
        GERMAN[1],
        GERMAN[0],  # exact duplicate
        "  " + GERMAN[1].upper() + " ",  # near duplicate
        "123 456 789",  # few letters
        "",  # empty
        "Ja",  # too short
        GERMAN[2],
        ENGLISH[1],
        GERMAN[3],
        GERMAN[4],
    ]
    source = write(tmp_path / "raw.de", raw)
    report = prepare_file(source, tmp_path / "out", PrepareOptions(lang="de"), quiet=True)
    kept = (tmp_path / "out" / "lines.txt").read_text(encoding="utf-8").splitlines()
    numbers = [int(n) for n in (tmp_path / "out" / "line_numbers.txt").read_text().split()]
    assert kept == [GERMAN[0], GERMAN[1], GERMAN[2], GERMAN[3], GERMAN[4]]
    assert [normalise_text(raw[n - 1]) for n in numbers] == kept
    assert report["dropped"] == {
        "wrong language": 2,
        "exact duplicate": 1,
        "near duplicate": 1,
        "few letters": 1,
        "empty": 1,
        "too short": 1,
    }
    assert report["kept"] + sum(report["dropped"].values()) == report["input_lines"] == len(raw)
    assert report["examples"]["wrong language"][0] == [2, ENGLISH[0]]
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == report


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    runner = CliRunner()
    bad = tmp_path / "bad.de"
    bad.write_bytes((GERMAN[0] + "\n").encode() + b"\xff\xfe kaputt\n" + (GERMAN[1] + "\n").encode())
    out = tmp_path / "out"
    result = runner.invoke(main, ["prepare", str(bad), "--lang", "de", "--out", str(out), "--quiet"])
    assert result.exit_code == 1 and f"{bad}: line 2 is not UTF-8" in result.output and not out.exists()
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(
        main, ["prepare", str(bad), "--lang", "de", "--out", str(out), "--errors", "replace", "--quiet"]
    )
    assert result.exit_code == 0 and json.loads((out / "report.json").read_text())["undecodable_lines_replaced"] == 1

    english = write(tmp_path / "en.txt", ENGLISH)
    empty_out = tmp_path / "empty"
    result = runner.invoke(main, ["prepare", str(english), "--lang", "de", "--out", str(empty_out), "--quiet"])
    assert result.exit_code == 1 and "no line is left after filtering (wrong language: 2)" in result.output
    assert not empty_out.exists() and not list(tmp_path.glob(".empty*tmp*"))

    result = runner.invoke(main, ["prepare", str(english), "--lang", "xx", "--out", str(empty_out)])
    assert result.exit_code == 1 and "--lang 'xx': not an ISO 639-1 or ISO 639-3 language code" in result.output
    result = runner.invoke(main, ["prepare", str(english), "--lang", "xx", "--lid", "none", "--out", str(empty_out)])
    assert result.exit_code == 1 and "--lang 'xx': not an ISO 639-1 or ISO 639-3 language code" in result.output
    result = runner.invoke(main, ["prepare", str(english), "--lang", "kw", "--out", str(empty_out)])
    assert result.exit_code == 1 and "--lang 'kw': py3langid does not know this language" in result.output

    result = runner.invoke(main, ["prepare", str(bad), "--lang", "de", "--out", str(out), "--errors", "replace"])
    assert result.exit_code == 1 and "already exists (pass --overwrite to replace it)" in result.output
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("precious")
    result = runner.invoke(
        main, ["prepare", str(bad), "--lang", "de", "--out", str(thesis), "--errors", "replace", "--overwrite"]
    )
    assert result.exit_code == 1 and "not an rx prepare output (no report.json of rx's)" in result.output
    assert (thesis / "chapter1.tex").read_text() == "precious"


def test_lingua_agrees_on_clear_sentences(tmp_path):
    pytest.importorskip("lingua", reason="the lid extra (lingua-language-detector) is not installed")
    source = write(tmp_path / "raw.de", GERMAN + ENGLISH)
    report = prepare_file(source, tmp_path / "out", PrepareOptions(lang="de", lid="lingua"), quiet=True)
    assert report["kept"] == len(GERMAN) and report["dropped"] == {"wrong language": 2}


MEASURE = """
import sys
from pathlib import Path
from retrieval_xfer.memory import peak_rss_bytes
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.prepare.pipeline import prepare_file
prepare_file(Path(sys.argv[1]), Path(sys.argv[2]), PrepareOptions(lang="de", lid="none"), quiet=True)
print(peak_rss_bytes())
"""


def test_memory_does_not_grow_with_the_input(tmp_path):
    """Peak RSS for 400,000 lines stays within 8 MiB of that for 40,000 (bench/prepare_stream.py: 10 M lines)."""
    rng = random.Random(0)
    words = "der die das und ist nicht ein eine mit auf Datei Fenster Menü Bild Ebene Farbe".split()
    peaks = []
    for n in (40_000, 400_000):
        path = tmp_path / f"in-{n}.txt"
        with open(path, "w", encoding="utf-8") as f:
            for _ in range(n):
                f.write(" ".join(rng.choice(words) for _ in range(6)) + ".\n")
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(path), str(tmp_path / f"out-{n}")], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        peaks.append(int(done.stdout.split()[-1]))
    assert peaks[1] - peaks[0] < 8 * 2**20, peaks


def test_only_undecodable_lines_count_as_replaced(tmp_path):
    source = tmp_path / "mixed.de"
    lines = [GERMAN[0] + " \ufffd", GERMAN[1]]  # a valid line holding U+FFFD itself, then a clean one
    source.write_bytes(("\n".join(lines) + "\n").encode() + b"Kaputt \xff hier steht etwas.\n")
    report = prepare_file(source, tmp_path / "out", PrepareOptions(lang="de", errors="replace"), quiet=True)
    assert report["undecodable_lines_replaced"] == 1 and report["input_lines"] == 3


@pytest.mark.parametrize("splitter", ["moses", "pysbd"])
def test_paragraphs_split_into_sentences_each_mapped_to_its_line(tmp_path, splitter):
    pytest.importorskip("sentence_splitter" if splitter == "moses" else "pysbd", reason="the split extra is missing")
    paragraph = f"{GERMAN[0]} {GERMAN[1]}"  # two sentences on one line
    abbreviations = "Das gilt z. B. für Dr. Müller und seine Kollegen im Büro."  # one sentence, four periods
    raw = [paragraph, ENGLISH[0], abbreviations, f"{GERMAN[2]} {ENGLISH[1]} {GERMAN[0]}"]
    source = write(tmp_path / "raw.de", raw)
    options = PrepareOptions(lang="de", split_sentences=splitter)
    report = prepare_file(source, tmp_path / "out", options, quiet=True)
    kept = (tmp_path / "out" / "lines.txt").read_text(encoding="utf-8").splitlines()
    numbers = [int(n) for n in (tmp_path / "out" / "line_numbers.txt").read_text().split()]
    # the English sentence inside line 4 is dropped alone, and its last sentence repeats line 1's first
    assert kept == [GERMAN[0], GERMAN[1], abbreviations, GERMAN[2]]
    assert numbers == [1, 1, 3, 4]
    assert report["input_lines"] == 4 and report["sentences"] == 2 + 1 + 1 + 3
    assert report["dropped"] == {"wrong language": 2, "exact duplicate": 1}
    assert report["examples"]["wrong language"] == [[2, ENGLISH[0]], [4, ENGLISH[1]]]


def test_chinese_paragraphs_split_with_pysbd(tmp_path):
    pytest.importorskip("pysbd", reason="the split extra (pysbd) is not installed")
    sentences = [
        "今天的天气非常好，我们一起去公园散步吧。",
        "这个软件可以帮助你管理所有的文件！",
        "你想喝咖啡还是喝茶？",
    ]
    source = write(tmp_path / "raw.zh", ["".join(sentences)])
    options = PrepareOptions(lang="zh", split_sentences="pysbd", lid="none")
    report = prepare_file(source, tmp_path / "out", options, quiet=True)
    kept = (tmp_path / "out" / "lines.txt").read_text(encoding="utf-8").splitlines()
    assert kept == [normalise_text(sentence) for sentence in sentences]  # NFKC: full-width ，！？ become ASCII
    assert report["sentences"] == 3 and report["kept"] == 3


def test_splitter_errors_are_one_line(tmp_path, monkeypatch):
    pytest.importorskip("sentence_splitter", reason="the split extra is missing")
    runner = CliRunner()
    source = write(tmp_path / "raw.zh", ["今天的天气非常好。"])
    out = tmp_path / "out"
    base = ["prepare", str(source), "--lang", "zh", "--out", str(out), "--lid", "none"]
    result = runner.invoke(main, [*base, "--split-sentences", "moses"])
    assert (
        result.exit_code == 1
        and "--lang 'zh': the moses sentence splitter does not know this language" in result.output
    )
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()
    monkeypatch.setitem(sys.modules, "pysbd", None)  # as if the split extra were not installed
    result = runner.invoke(main, [*base, "--split-sentences", "pysbd"])
    assert result.exit_code == 1 and "needs pysbd: pip install 'retrieval_xfer[split]'" in result.output
    assert not out.exists()


def test_a_killed_prepare_leaves_nothing_behind_once_run_again(tmp_path):
    import os
    import signal
    import time

    source = tmp_path / "big.de"
    with source.open("w", encoding="utf-8") as f:
        for i in range(400_000):
            f.write(f"Das ist der Satz Nummer {i} in einer langen Datei.\n")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "retrieval_xfer", "prepare", str(source), "--lang", "de", "--lid", "none"]
    process = subprocess.Popen([*command, "--out", str(out), "--quiet"])
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.tmp-*")) and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert list(tmp_path.glob(".out.tmp-*")), "the run was killed before it made its temporary folder"
    assert subprocess.run([*command, "--out", str(out), "--quiet"]).returncode == 0
    assert not list(tmp_path.glob(".out.tmp-*")) and not list(tmp_path.glob(".out.old-*"))
    assert len((out / "lines.txt").read_text(encoding="utf-8").splitlines()) == 400_000
