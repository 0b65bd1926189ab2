"""Everything the input alone decides is checked before any model loads: each case gives a --model that does not
exist, so a check that came after loading would fail on the model instead of naming the real problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.cli import main
from retrieval_xfer.vectors import SAMPLE_CHUNK, ArrayVectors, sample_rows

NO_MODEL = "/nonexistent/model"


def rx(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def lines(path: Path, count: int, prefix: str) -> Path:
    path.write_text("".join(f"{prefix} sentence number {i}.\n" for i in range(count)), encoding="utf-8")
    return path


def refused(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    assert fragment in result.output, result.output
    assert "nonexistent" not in result.output  # the model was never looked at


@pytest.fixture()
def corpus(tmp_path):
    return lines(tmp_path / "c.de", 300, "Ein"), lines(tmp_path / "c.en", 300, "An")


def mine_auto(tmp_path, corpus, sample_src, sample_trg):
    return rx(
        "mine", "--model", NO_MODEL, "--src", corpus[0], "--trg", corpus[1], "--out", tmp_path / "p.tsv",
        "--threshold", "auto", "--sample-src", sample_src, "--sample-trg", sample_trg,
    )  # fmt: skip


def test_one_file_as_both_sample_sides_is_refused(tmp_path, corpus):
    english = lines(tmp_path / "s.en", 100, "An")
    refused(mine_auto(tmp_path, corpus, english, english), "100 of its 100 lines equal")


def test_a_sample_too_small_or_larger_than_the_corpus_is_refused(tmp_path, corpus):
    refused(
        mine_auto(tmp_path, corpus, lines(tmp_path / "s.de", 20, "Ein"), lines(tmp_path / "s.en", 20, "An")),
        "has 20 pairs; --threshold auto needs at least 50",
    )
    big = mine_auto(tmp_path, corpus, lines(tmp_path / "b.de", 600, "Kein"), lines(tmp_path / "b.en", 600, "No"))
    refused(big, "has 600 pairs, too many for a corpus side of 300 sentences")


def test_text_filters_on_a_npy_side_are_refused_before_the_knn(tmp_path):
    np.save(tmp_path / "x.npy", np.eye(4, dtype=np.float32))
    result = rx(
        "mine", "--src", tmp_path / "x.npy", "--trg", tmp_path / "x.npy", "--out", tmp_path / "o", "--numbers-agree"
    )
    assert result.exit_code == 1 and "x.npy: holds no sentences" in result.output
    assert not (tmp_path / "o.json").exists()


@settings(max_examples=100)
@given(st.integers(1, 5 * SAMPLE_CHUNK), st.integers(0, 6 * SAMPLE_CHUNK), st.integers(0, 3))
def test_sampled_rows_are_distinct_and_as_many_as_asked(n, count, seed):
    vectors = ArrayVectors(np.stack([np.arange(n) + 1.0, np.ones(n)], axis=1).astype(np.float32))
    rows = sample_rows(vectors, count, seed)
    assert len(rows) == min(count, n)
    assert len(np.unique(rows, axis=0)) == len(rows)  # no row drawn twice


def test_a_bad_index_factory_is_one_line_before_the_knn(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32))
    for factory, reason in [("IVF16,Bogus", "could not parse"), ("IVF16,PQ3", "multiple of the number of subq")]:
        args = ["mine", "--src", tmp_path / "x.npy", "--trg", tmp_path / "x.npy", "--out", tmp_path / "o.tsv"]
        result = rx(*args, "--index-factory", factory)
        assert result.exit_code == 1 and "faiss cannot build it" in result.output and reason in result.output
        assert "Traceback" not in result.output and not (tmp_path / "o.tsv").exists()


def test_a_full_disk_names_the_output(tmp_path, tiny_model, monkeypatch):
    import errno

    import faiss

    corpus = lines(tmp_path / "c.txt", 20, "A")

    def full_disk(index, path):
        raise RuntimeError("Error in faiss::FileIOWriter... Error: 'ret == (n)' failed: write error: No space left")

    monkeypatch.setattr(faiss, "write_index", full_disk)
    build = ["build-index", "--model", tiny_model, "--layer", 2, "--input", corpus, "--quiet"]
    result = rx(*build, "--out", tmp_path / "idx")
    assert result.exit_code == 1 and "idx: could not write index.faiss (" in result.output
    assert "No space left" in result.output and not (tmp_path / "idx").exists()

    from retrieval_xfer.atomic import atomic_write_text

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("os.replace", no_space)
    with pytest.raises(OSError) as caught:
        atomic_write_text(tmp_path / "result.json", "{}")
    assert caught.value.filename == str(tmp_path / "result.json") and not (tmp_path / "result.json").exists()


def test_an_index_refuses_a_model_copy_with_another_tokenizer(tmp_path, tiny_model):
    import json
    import shutil

    corpus = lines(tmp_path / "c.txt", 20, "der hund")
    index = tmp_path / "idx"
    assert (
        rx("build-index", "--model", tiny_model, "--layer", 2, "--input", corpus, "--out", index, "--quiet").exit_code
        == 0
    )
    same = tmp_path / "same"
    shutil.copytree(tiny_model, same)
    assert rx("search", index, "--model", same, "--layer", 2, "--quiet", "der hund").exit_code == 0
    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    tokenizer = json.loads((other / "tokenizer.json").read_text())
    tokenizer["normalizer"] = None  # same vocabulary and weights; upper case now becomes <unk>
    (other / "tokenizer.json").write_text(json.dumps(tokenizer))
    result = rx("search", index, "--model", other, "--layer", 2, "--quiet", "der hund")
    assert result.exit_code == 1 and "built with another tokenizer" in result.output


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda m: m.update(count="abc"), "'count' should be int"),
        (lambda m: m.update(index="flat"), "'index' should be dict"),
        (lambda m: m["encoder"].update(dimension="32"), "'dimension' should be int"),
        (lambda m: m["encoder"].update(normalized=1), "'normalized' should be bool"),
        (lambda m: m["index"].update(nprobe=[16]), "'nprobe' should be int"),
        (lambda m: m.update(checksums=["x"]), "'checksums' should be dict"),
        (lambda m: m.update(checksums={"index.faiss": 5}), "'checksums' should map file names"),
        (lambda m: m.update(unknown_key=1), "unexpected keyword"),
    ],
)
def test_a_hand_edited_index_meta_is_one_line(tmp_path, tiny_model, edit, named):
    import json

    corpus = lines(tmp_path / "c.txt", 10, "der hund")
    index = tmp_path / "idx"
    assert (
        rx("build-index", "--model", tiny_model, "--layer", 2, "--input", corpus, "--out", index, "--quiet").exit_code
        == 0
    )
    meta = json.loads((index / "meta.json").read_text())
    edit(meta)
    (index / "meta.json").write_text(json.dumps(meta))
    for command in (["info", index], ["search", index, "--model", tiny_model, "--quiet", "der"]):
        result = rx(*command)
        assert result.exit_code == 1 and "meta.json: corrupt metadata" in result.output and named in result.output
        assert "Traceback" not in result.output
