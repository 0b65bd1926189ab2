"""Corpus readers: formats, blank lines, encodings, byte-order marks, duplicates, empty files."""

import pytest

from retrieval_xfer.data.text_files import iter_lines, read_corpus, read_gold_pairs, read_parallel
from retrieval_xfer.errors import RxError


def test_lines_and_tsv_formats(tmp_path):
    (tmp_path / "a.txt").write_bytes("\ufeffone\r\ntwo\n".encode("utf-8"))
    assert read_corpus(tmp_path / "a.txt") == (["1", "2"], ["one", "two"])
    (tmp_path / "b.tsv").write_text("x-1\tHello\tworld\nx-2\tBye\n", encoding="utf-8")
    assert read_corpus(tmp_path / "b.tsv", "tsv") == (["x-1", "x-2"], ["Hello\tworld", "Bye"])


def test_blank_lines_error_or_skip_keeping_line_numbers(tmp_path):
    (tmp_path / "a.txt").write_text("one\n\n  \nfour\n", encoding="utf-8")
    with pytest.raises(RxError, match=r"a.txt:2: blank line"):
        read_corpus(tmp_path / "a.txt")
    assert read_corpus(tmp_path / "a.txt", blank="skip") == (["1", "4"], ["one", "four"])


def test_undecodable_bytes_name_file_line_and_column(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("ok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(RxError, match=r"latin1.txt:2: not valid UTF-8 \(byte 0xe9 at column 4\)"):
        list(iter_lines(tmp_path / "latin1.txt"))


@pytest.mark.parametrize(
    "content,message",
    [
        ("", "empty corpus"),
        ("\n\n", "blank line"),
        ("id1 no tab\n", "expected 'id<TAB>sentence'"),
        ("a\tx\na\ty\n", "duplicate id 'a'"),
    ],
)
def test_malformed_tsv(tmp_path, content, message):
    (tmp_path / "c.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(RxError, match=message):
        read_corpus(tmp_path / "c.tsv", "tsv")


def test_parallel_files_must_align(tmp_path):
    (tmp_path / "a").write_text("1\n2\n3\n", encoding="utf-8")
    (tmp_path / "b").write_text("1\n2\n", encoding="utf-8")
    with pytest.raises(RxError, match="3 lines but .*b has 2"):
        read_parallel(tmp_path / "a", tmp_path / "b")


def test_a_blank_line_in_a_parallel_file_says_how_to_mend_it(tmp_path):
    """No --skip-blank hint: the Tatoeba reader has no such option, and skipping would misalign every later pair."""
    (tmp_path / "a").write_text("1\n\n3\n", encoding="utf-8")
    (tmp_path / "b").write_text("1\n2\n3\n", encoding="utf-8")
    with pytest.raises(RxError, match=r"a:2: blank line; line i pairs with line i of .*b, so delete line 2") as err:
        read_parallel(tmp_path / "a", tmp_path / "b")
    assert "--skip-blank" not in str(err.value)


def test_missing_file_and_gold_format(tmp_path):
    with pytest.raises(RxError, match="no such file"):
        read_corpus(tmp_path / "nope.txt")
    (tmp_path / "g").write_text("a\tb\nc\td\n\n", encoding="utf-8")
    assert read_gold_pairs(tmp_path / "g") == {("a", "b"), ("c", "d")}
    (tmp_path / "g").write_text("a b\n", encoding="utf-8")
    with pytest.raises(RxError, match="g:1: expected 'src_id<TAB>trg_id'"):
        read_gold_pairs(tmp_path / "g")
