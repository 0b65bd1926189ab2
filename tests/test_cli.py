"""The rx command line end to end on a tiny model: happy paths, and every bad input as one line + exit 1."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import write_lines, write_tatoeba

from retrieval_xfer.cli import main

CORPUS = [
    "the cat sat on the mat",
    "der hund läuft",
    "le chat dort",
    "the big red house",
    "der blaue himmel",
    "le petit oiseau",
    "the green tree",
    "die sonne",
]


def rx(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.fixture()
def corpus(tmp_path):
    return write_lines(tmp_path / "corpus.txt", CORPUS)


@pytest.fixture()
def index(tmp_path, tiny_model, corpus):
    result = rx(
        "build-index", "--model", tiny_model, "--layer", 2, "--input", corpus, "--out", tmp_path / "idx", "--quiet"
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "idx"


def test_help_lists_every_verb():
    result = rx("--help")
    for verb in ("build-index", "search", "eval", "export", "mine", "info"):
        assert verb in result.output
    assert "tatoeba" in rx("eval", "--help").output and "bucc" in rx("eval", "--help").output


def test_build_search_info(index, tiny_model):
    result = rx("search", index, "--model", tiny_model, "--quiet", "-k", 3, "--json", "the cat sat on the mat")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout.strip())["hits"]
    assert hits[0]["id"] == "1" and hits[0]["sentence"] == CORPUS[0] and hits[0]["score"] == pytest.approx(1, abs=1e-4)
    assert len(hits) == 3
    info = rx("info", index).output
    assert "layer:       2 of 4" in info and "count:       8 sentences" in info and "dimension:   32" in info


def test_search_with_another_layer_or_model_is_refused(index, tiny_model, other_tiny_model):
    assert_one_line_error(
        rx("search", index, "--model", tiny_model, "--layer", 3, "--quiet", "x"),
        "layer differs: index built with 2, query encoder has 3",
    )
    assert_one_line_error(rx("search", index, "--model", other_tiny_model, "--quiet", "x"), "built with another model")


def test_corrupt_index_is_one_line(index, tiny_model):
    (index / "index.faiss").write_bytes(b"\x00" * 10)
    assert_one_line_error(rx("info", index), f"corrupt: checksum mismatch in {index / 'index.faiss'}")
    assert_one_line_error(rx("search", index, "--model", tiny_model, "x"), "corrupt: checksum mismatch")
    assert_one_line_error(rx("search", index, "--model", tiny_model, "x", "--no-verify"), "corrupt FAISS file")
    assert_one_line_error(rx("info", index.parent / "nothing"), "no such folder")


def test_one_flipped_bit_in_an_index_is_caught(tmp_path, tiny_model, corpus):
    out = tmp_path / "idx"
    assert rx("build-index", "--model", tiny_model, "--input", corpus, "--out", out, "--quiet").exit_code == 0
    data = bytearray((out / "index.faiss").read_bytes())
    data[-5] ^= 0x40  # inside the last vector: FAISS still reads the file, and would return a wrong score
    (out / "index.faiss").write_bytes(bytes(data))
    assert_one_line_error(rx("info", out), "corrupt: checksum mismatch in")
    assert_one_line_error(rx("search", out, "--model", tiny_model, "--quiet", "x"), "corrupt: checksum mismatch")


@pytest.mark.parametrize(
    "text", ["carriage\rreturn inside", "tab\tinside", "nul\x00inside", "\ufeffbom first", "long " * 200_000]
)
def test_index_keeps_every_sentence_byte_exact(tmp_path, tiny_model, text):
    from retrieval_xfer.indexing.store import load_index

    corpus = tmp_path / "c.txt"
    corpus.write_bytes(f"plain one\n{text}\nplain three\n".encode())
    out = tmp_path / "idx"
    assert (
        rx("build-index", "--model", tiny_model, "--input", corpus, "--out", out, "--quiet", "--layer", 2).exit_code
        == 0
    )
    saved = load_index(out)
    assert saved.sentences == ["plain one", text, "plain three"] and saved.ids == ["1", "2", "3"]
    assert rx("info", out).exit_code == 0


def test_existing_index_needs_overwrite(index, tiny_model, corpus):
    assert_one_line_error(
        rx("build-index", "--model", tiny_model, "--input", corpus, "--out", index, "--quiet"), "already exists"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda p: (p.mkdir(), (p / "thesis.tex").write_text("years of work")),
        lambda p: p.write_text("a file"),
        lambda p: (p.mkdir(), (p / "meta.json").write_text("{}")),
    ],
)
def test_overwrite_never_replaces_what_rx_did_not_build(tmp_path, tiny_model, corpus, make):
    out = tmp_path / "precious"
    make(out)
    before = sorted((p.name, p.read_bytes()) for p in ([out] if out.is_file() else out.iterdir()))
    assert_one_line_error(
        rx("build-index", "--model", tiny_model, "--input", corpus, "--out", out, "--quiet", "--overwrite"),
        "not an rx index folder",
    )
    assert sorted((p.name, p.read_bytes()) for p in ([out] if out.is_file() else out.iterdir())) == before


@pytest.mark.parametrize(
    "content,fragments",
    [
        (b"one\n\nthree\n", ["corpus.txt:2: blank line", "--skip-blank"]),
        ("one\nna\xefve\n".encode("latin-1"), ["corpus.txt:2: not valid UTF-8"]),
        (b"", ["corpus.txt: empty corpus"]),
    ],
)
def test_bad_corpus_never_leaves_an_index(tmp_path, tiny_model, content, fragments):
    (tmp_path / "corpus.txt").write_bytes(content)
    out = tmp_path / "idx"
    assert_one_line_error(
        rx("build-index", "--model", tiny_model, "--input", tmp_path / "corpus.txt", "--out", out, "--quiet"),
        *fragments,
    )
    assert not out.exists()


def test_skip_blank_keeps_line_numbers_as_ids(tmp_path, tiny_model):
    write_lines(tmp_path / "c.txt", ["alpha cat", "", "gamma dog"])
    assert (
        rx(
            "build-index",
            "--model",
            tiny_model,
            "--input",
            tmp_path / "c.txt",
            "--out",
            tmp_path / "i",
            "--skip-blank",
            "--quiet",
        ).exit_code
        == 0
    )
    assert (tmp_path / "i" / "ids.txt").read_text().split() == ["1", "3"]


def test_missing_input_and_layer_out_of_range(tmp_path, tiny_model, corpus):
    assert_one_line_error(rx("build-index", "--model", tiny_model, "--input", tmp_path / "nope.txt"), "no such file")
    assert_one_line_error(
        rx("build-index", "--model", tiny_model, "--layer", 5, "--input", corpus, "--quiet"),
        "--layer 5 is out of range",
        "has 4 layers",
    )
    assert_one_line_error(
        rx("build-index", "--model", tmp_path / "no-model", "--input", corpus), "no such model folder"
    )


def tatoeba_files(folder, n=8):
    return write_tatoeba(folder, CORPUS[:n], CORPUS[:n])


def test_eval_tatoeba_writes_json_and_table(tmp_path, tiny_model):
    tatoeba_files(tmp_path)
    out = tmp_path / "res.json"
    result = rx(
        "eval",
        "tatoeba",
        "--model",
        tiny_model,
        "--layer",
        2,
        "--data-dir",
        tmp_path,
        "--langs",
        "de",
        "--output",
        out,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert "en->xx (XTREME)" in result.stdout and "xx->en F1 (MTEB)" in result.stdout and "95% CI" in result.stdout
    saved = json.loads(out.read_text())
    assert (tmp_path / saved["outcomes"]["file"]).is_file() and saved["bootstrap"]["resamples"] == 1000
    assert saved["scores"]["de"] == {**saved["scores"]["de"], "en2xx": 100.0, "xx2en": 100.0, "mean": 100.0, "n": 8}
    assert saved["layer"] == 2 and saved["model"] == str(tiny_model) and saved["rx_version"]
    assert "timings" in saved and "averages" in saved


def test_eval_tatoeba_bad_input(tmp_path, tiny_model):
    tatoeba_files(tmp_path)
    assert_one_line_error(
        rx("eval", "tatoeba", "--model", tiny_model, "--data-dir", tmp_path, "--langs", "de,qq"),
        "unknown Tatoeba language 'qq'",
    )
    write_lines(tmp_path / "tatoeba.deu-eng.eng", CORPUS[:5])
    out = tmp_path / "res.json"
    assert_one_line_error(
        rx(
            "eval",
            "tatoeba",
            "--model",
            tiny_model,
            "--data-dir",
            tmp_path,
            "--langs",
            "de",
            "--output",
            out,
            "--quiet",
        ),
        "8 lines but",
        "has 5",
    )
    assert not out.exists()


def test_eval_bucc_json_fields(tmp_path, tiny_model):
    zh = [f"zh-{i}\t{s}" for i, s in enumerate(CORPUS)]
    en = [f"en-{i}\t{s}" for i, s in enumerate(reversed(CORPUS))]
    write_lines(tmp_path / "zh-en.dev.zh", zh)
    write_lines(tmp_path / "zh-en.dev.en", en)
    write_lines(tmp_path / "zh-en.dev.gold", [f"zh-{i}\ten-{len(CORPUS) - 1 - i}" for i in range(len(CORPUS))])
    out = tmp_path / "bucc.json"
    result = rx("eval", "bucc", "--model", tiny_model, "--layer", 2, "--data-dir", tmp_path, "--output", out, "--quiet")
    assert result.exit_code == 0, result.output
    score = json.loads(out.read_text())["scores"]["zh-en"]
    assert {"f1", "precision", "recall", "threshold"} <= set(score) and score["tuned_on_sample"]
    assert score["f1"] == pytest.approx(100.0)  # identical sentences embed identically
    assert "tuned on it" in result.stdout
    assert_one_line_error(
        rx("eval", "bucc", "--model", tiny_model, "--data-dir", tmp_path, "--pairs", "xx-en"),
        "unknown BUCC pair 'xx-en'",
    )


def test_mine_writes_scored_pairs_best_first(tmp_path, tiny_model):
    src = write_lines(tmp_path / "a.txt", CORPUS)
    trg = write_lines(tmp_path / "b.txt", list(reversed(CORPUS)) + ["an extra line"])
    out = tmp_path / "pairs.tsv"
    assert (
        rx("mine", "--model", tiny_model, "--layer", 2, "--src", src, "--trg", trg, "--out", out, "--quiet").exit_code
        == 0
    )
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    scores = [float(r[0]) for r in rows]
    assert scores == sorted(scores, reverse=True) and all(r[3] == r[4] for r in rows) and len(rows) == len(CORPUS)
    # ids are the line numbers: line i of a.txt is line len(CORPUS) - i + 1 of the reversed b.txt
    assert all(int(r[2]) == len(CORPUS) - int(r[1]) + 1 and r[3] == CORPUS[int(r[1]) - 1] for r in rows)
    sidecar = json.loads((tmp_path / "pairs.tsv.json").read_text())
    assert sidecar["pairs_written"] == len(rows) and sidecar["knn"]["kind"] == "exact"
    assert sidecar["compatibility"].startswith("checked") and not (tmp_path / "pairs.tsv.rx-mine").exists()
    assert_one_line_error(
        rx("mine", "--model", tiny_model, "--layer", 2, "--src", src, "--trg", trg, "--out", out, "--quiet"),
        "already exists (pass --overwrite",
    )
    assert (
        rx(
            "mine",
            "--model",
            tiny_model,
            "--layer",
            2,
            "--src",
            src,
            "--trg",
            trg,
            "--out",
            out,
            "--quiet",
            "--threshold",
            (scores[2] + scores[3]) / 2,
            "--overwrite",
        ).exit_code
        == 0
    )
    assert len(out.read_text().splitlines()) == 3


def test_mine_never_writes_over_its_input(tmp_path):
    vectors = np.eye(4, dtype=np.float32)
    np.save(tmp_path / "s.npy", vectors)
    np.save(tmp_path / "t.npy", vectors)
    before = (tmp_path / "s.npy").read_bytes()
    for out in (tmp_path / "s.npy", tmp_path / "t.npy"):
        assert_one_line_error(
            rx(
                "mine", "--src", tmp_path / "s.npy", "--trg", tmp_path / "t.npy", "--out", out, "--quiet", "--overwrite"
            ),
            "is the input",
        )
    assert (tmp_path / "s.npy").read_bytes() == before


def test_export_then_info(tmp_path, tiny_model, corpus):
    out = tmp_path / "ex"
    result = rx(
        "export",
        "--model",
        tiny_model,
        "--layer",
        2,
        "--input",
        corpus,
        "--out",
        out,
        "--shard-size",
        3,
        "--dtype",
        "float16",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert "(complete, checksums verified)" in rx("info", out).output
    from retrieval_xfer.export.reader import MANIFEST_FILE
    from retrieval_xfer.indexing.store import EXPORT_MANIFEST

    assert EXPORT_MANIFEST == MANIFEST_FILE
    assert_one_line_error(rx("search", out, "--model", tiny_model, "--quiet", "x"), "an rx export, not an index")
    assert np.load(out / "shard-00002.npy").shape == (2, 32)
    data = bytearray((out / "shard-00001.npy").read_bytes())
    data[-3] ^= 0x10  # inside the last vector: numpy still reads it
    (out / "shard-00001.npy").write_bytes(bytes(data))
    assert_one_line_error(rx("info", out), "corrupt: checksum mismatch in", "shard-00001.npy")
    assert "(complete, checksums not verified (--no-verify))" in rx("info", out, "--no-verify").output


def test_ctrl_c_exits_130_and_says_how_to_resume(tmp_path, monkeypatch, corpus):
    from retrieval_xfer.export import shards

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(shards, "export_corpus", interrupted)
    result = rx("export", "--model", "m", "--input", corpus, "--out", tmp_path / "ex")
    assert result.exit_code == 130
    assert result.output.strip() == "interrupted; run the same command again to resume after the last complete shard"


def test_folders_get_the_usual_permissions(index):
    import os
    import stat

    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(index.stat().st_mode) == 0o777 & ~mask  # not mkdtemp's 0700


def test_an_empty_prompt_is_not_the_index_prompt(tmp_path, tiny_model, corpus):
    built = rx(
        "build-index",
        "--model",
        tiny_model,
        "--layer",
        2,
        "--input",
        corpus,
        "--out",
        tmp_path / "p",
        "--prompt",
        "passage: ",
        "--quiet",
    )
    assert built.exit_code == 0, built.output
    given_empty = rx("search", tmp_path / "p", "--model", tiny_model, "--prompt", "", "--quiet", "x")
    assert given_empty.exit_code == 0 and "prompt '' |" in given_empty.output
    not_given = rx("search", tmp_path / "p", "--model", tiny_model, "--quiet", "x")
    assert "prompt 'passage: ' |" in not_given.output
    assert "the prompt the index was built" in " ".join(rx("search", "--help").output.split())


def test_export_checks_its_input_before_loading_the_model(tmp_path):
    result = rx(
        "export", "--model", tmp_path / "no-model", "--input", tmp_path / "missing.txt", "--out", tmp_path / "ex"
    )
    assert result.exit_code == 1 and "missing.txt: no such file" in result.output  # not "no such model folder"


def test_info_shows_only_the_parameters_of_the_index_type(index):
    info = rx("info", index).output
    assert "type:        flat Flat\n" in info and "nprobe" not in info and "hnsw" not in info


def test_queries_from_a_file_or_stdin_as_json_lines(index, tiny_model, tmp_path):
    queries = write_lines(tmp_path / "q.txt", [CORPUS[0], "", CORPUS[3]])
    from_file = rx("search", index, "--model", tiny_model, "--queries-file", queries, "--json", "-k", 1, "--quiet")
    assert from_file.exit_code == 0, from_file.output
    lines = [json.loads(line) for line in from_file.stdout.splitlines() if line.startswith("{")]
    assert [(r["query"], r["hits"][0]["id"]) for r in lines] == [(CORPUS[0], "1"), (CORPUS[3], "4")]
    from_stdin = CliRunner().invoke(
        main,
        ["search", str(index), "--model", str(tiny_model), "--queries-file", "-", "--json", "-k", "1", "--quiet"],
        input=f"{CORPUS[3]}\n",
    )
    assert [json.loads(line)["hits"][0]["id"] for line in from_stdin.stdout.splitlines() if line.startswith("{")] == [
        "4"
    ]
    assert rx("search", index, "--model", tiny_model).exit_code == 2


def test_prompt_name_takes_the_models_named_prompt(tiny_st_model, tmp_path):
    import shutil

    model = tmp_path / "st"
    shutil.copytree(tiny_st_model, model)
    (model / "config_sentence_transformers.json").write_text(json.dumps({"prompts": {"query": "query: "}}))
    folder = tatoeba_files(tmp_path / "data")
    named = rx(
        "eval",
        "tatoeba",
        "--model",
        model,
        "--data-dir",
        folder,
        "--langs",
        "de",
        "--prompt-name",
        "query",
        "--limit",
        5,
        "--quiet",
        "--output",
        tmp_path / "named.json",
    )
    plain = rx(
        "eval",
        "tatoeba",
        "--model",
        model,
        "--data-dir",
        folder,
        "--langs",
        "de",
        "--prompt",
        "query: ",
        "--limit",
        5,
        "--quiet",
        "--output",
        tmp_path / "plain.json",
    )
    assert named.exit_code == 0 and plain.exit_code == 0, named.output
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("named", "plain"))
    assert a["prompt"] == b["prompt"] == "query: " and a["scores"] == b["scores"] and a["scores"]["de"]["n"] == 5
    assert_one_line_error(
        rx("eval", "tatoeba", "--model", model, "--data-dir", folder, "--langs", "de", "--prompt-name", "passage"),
        "--prompt-name 'passage'",
        "its prompts: query ('query: ')",
    )
    assert "'demo' (8)" in rx("eval", "tatoeba", "--model", model, "--data-dir", folder, "--langs", "xx").output
