"""Text in any script: rx prepare's letter count and near-duplicate key on the 112 Tatoeba languages, and the
normalisation functions' properties on arbitrary Unicode (hypothesis)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.errors import RxError
from retrieval_xfer.prepare.filters import LineFilter
from retrieval_xfer.prepare.normalise import duplicate_key, line_key, normalise_text
from retrieval_xfer.prepare.options import PrepareOptions
from retrieval_xfer.prepare.pipeline import LINE_NUMBERS_FILE, prepare_file
from retrieval_xfer.prepare.sentences import BoundedSplitter, bounded_pieces


def modulo_case_space_punctuation(text: str) -> str:
    """An independent statement of "the same sentence but for case, spacing and punctuation" (the third-party
    ``regex`` module's Unicode classes, not ``unicodedata``)."""
    return regex.sub(r"[\p{P}\p{Z}\p{C}\s]+", "", unicodedata.normalize("NFKC", text).casefold())


def letter_share(text: str) -> float:
    """Letters and marks among the visible characters, counted with ``regex``'s classes."""
    visible = regex.sub(r"\s+", "", text)
    return len(regex.findall(r"[\p{L}\p{M}]", visible)) / max(len(visible), 1)


@pytest.mark.parametrize(
    "first, second",
    [
        ("तो जपानी आहे का?", "ती जपानी आहे का?"),  # Marathi: he / she, one vowel sign apart
        ("यह किताब है।", "यह कताब है।"),  # Hindi: a vowel sign (i) missing
        ("அவன் வந்தான்.", "அவள் வந்தாள்."),  # Tamil: he came / she came
        ("Es kostet 5 €.", "Es kostet 5 $."),  # a currency symbol is not punctuation
        ("ข้าวมันไก่", "ข่าวมันไก่"),  # Thai: tone marks
    ],
)
def test_sentences_that_differ_in_a_mark_or_symbol_have_different_keys(first, second):
    assert line_key(first) != line_key(second)


@pytest.mark.parametrize(
    "first, second",
    [
        ("तो जपानी आहे का?", "तो  जपानी आहे का"),
        ("Das ist gut!", " das  IST gut ."),
        ("می\u200cخواهم بروم.", "میخواهم بروم"),  # Persian: the zero-width non-joiner is spelling, not content
        ("「你好」", "你好。"),
    ],
)
def test_case_space_and_punctuation_variants_share_a_key(first, second):
    assert line_key(first) == line_key(second)


@pytest.mark.parametrize("text", ["तो जपानी आहे का?", "నేను ఇంటికి వెళ్తున్నాను.", "আমি বাংলায় কথা বলি।", "நான் வீட்டுக்குப் போகிறேன்."])
def test_indic_sentences_are_letters(text):
    assert LineFilter().reason(normalise_text(text)) is None


def test_zero_width_joiners_are_kept_in_the_text():
    assert normalise_text("می\u200cخواهم") == "می\u200cخواهم"


def tatoeba_languages(shared: Path) -> list[Path]:
    """The non-English side of every Tatoeba pair."""
    return sorted(p for p in (shared / "tatoeba" / "v1").glob("tatoeba.*-eng.*") if p.suffix != ".eng")


def test_rx_prepare_keeps_the_text_of_all_112_tatoeba_languages(shared_data, tmp_path):
    files = tatoeba_languages(shared_data)
    assert len(files) == 112
    shares = {}
    for path in files:
        lang = path.suffix[1:]
        lines = path.read_text(encoding="utf-8").splitlines()
        report = prepare_file(path, tmp_path / lang, PrepareOptions(lang=lang, lid="none"), quiet=True)
        candidates = [normalise_text(line) for line in lines]
        candidates = [text for text in candidates if 5 <= len(text) <= 1000]
        few = report["dropped"].get("few letters", 0)
        # every line dropped as "few letters" really has under half letters, by an independent count
        assert few == sum(letter_share(text) < 0.5 for text in candidates), lang
        shares[lang] = 1 - few / len(candidates)
        # near duplicates are exactly the lines equal to an earlier one but for case, spacing and punctuation
        kept_texts = [text for text in candidates if letter_share(text) >= 0.5]
        seen_text, seen_key, exact, near = set(), set(), 0, 0
        for text in kept_texts:
            key = modulo_case_space_punctuation(text)
            if text in seen_text:
                exact += 1
            elif key in seen_key:
                near += 1
            seen_text.add(text)
            seen_key.add(key)
        assert report["dropped"].get("exact duplicate", 0) == exact, lang
        assert report["dropped"].get("near duplicate", 0) == near, lang
        kept_numbers = (tmp_path / lang / LINE_NUMBERS_FILE).read_text().split()
        assert len(kept_numbers) == report["kept"] == len(kept_texts) - exact - near
    worst = min(shares, key=shares.get)
    assert shares[worst] >= 0.99, f"{worst} keeps only {shares[worst]:.1%} of its lines"


# assigned characters only: Python's unicodedata and the regex module may know different Unicode versions
UNICODE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cn")), max_size=60)


@settings(max_examples=300)
@given(UNICODE_TEXT)
def test_normalise_is_idempotent_and_keys_are_stable(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert once == once.strip() and "  " not in once and "\n" not in once
    assert line_key(text) == duplicate_key(once) == line_key(once)
    assert duplicate_key(duplicate_key(once)) == duplicate_key(once)


@settings(max_examples=300)
@given(UNICODE_TEXT, st.sampled_from([" ", "  ", ".", "!", "?", ",", "\u3002", "\u00bf", "\u200c"]))
def test_case_space_and_punctuation_never_change_the_key(text, noise):
    key = line_key(text)
    assert line_key(text.upper().lower()) == line_key(text.lower())
    assert line_key(noise + text + noise) == key


@settings(max_examples=300)
@given(UNICODE_TEXT)
def test_the_key_keeps_every_letter_mark_number_and_symbol(text):
    folded = unicodedata.normalize("NFKC", normalise_text(text).casefold())
    assert line_key(text) == unicodedata.normalize("NFKC", regex.sub(r"[^\p{L}\p{M}\p{N}\p{S}]", "", folded))


@settings(max_examples=200)
@given(UNICODE_TEXT)
def test_the_letter_filter_counts_like_an_independent_count(text):
    text = normalise_text(text)
    reason = LineFilter(min_chars=1, max_chars=1000).reason(text)
    if text:
        assert (reason == "few letters") == (letter_share(text) < 0.5)


def test_the_report_is_json_with_every_script(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("तो जपानी आहे का?\nती जपानी आहे का?\nతెలుగు వాక్యం ఇది.\n", encoding="utf-8")
    report = prepare_file(path, tmp_path / "out", PrepareOptions(lang="mr", lid="none"), quiet=True)
    assert report["kept"] == 3
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["kept"] == 3


@settings(max_examples=300)
@given(st.text(st.sampled_from(list("ab .!?。।\n\t")), max_size=400), st.integers(4, 50))
def test_bounded_pieces_cover_the_text_within_the_limit(text, limit):
    pieces = list(bounded_pieces(text, limit))
    assert "".join(pieces) == text
    assert all(len(piece) <= limit for piece in pieces)
    assert all(len(piece) >= limit // 2 for piece in pieces[:-1])  # so the number of pieces is linear


def test_a_long_line_is_cut_after_sentence_ends_and_splits_into_the_same_sentences():
    pytest.importorskip("sentence_splitter", reason="the split extra is not installed")
    from retrieval_xfer.prepare.sentences import MosesSplitter

    sentences = [f"Satz Nummer {i} endet hier, z. B. mit einem Punkt." for i in range(300)]
    line = " ".join(sentences)
    assert all(piece.endswith(".") for piece in bounded_pieces(line, 1000))
    assert BoundedSplitter(MosesSplitter("de"), limit=1000).split(line) == MosesSplitter("de").split(line) == sentences


def test_a_line_without_spaces_is_cut_at_the_limit():
    assert [len(p) for p in bounded_pieces("x" * 25, 10)] == [10, 10, 5]


class _CountingSplitter:
    """Splits after ". " like a trivial splitter, and records the longest text it was handed."""

    name = "counting"

    def __init__(self) -> None:
        self.longest = 0

    def split(self, text: str) -> list[str]:
        self.longest = max(self.longest, len(text))
        return [part.strip() + ("." if i < text.count(". ") else "") for i, part in enumerate(text.split(". "))]


@settings(max_examples=200)
@given(st.lists(st.text(st.sampled_from(list("abc d")), min_size=1, max_size=80), max_size=40), st.integers(8, 60))
def test_the_bounded_splitter_never_hands_more_than_its_limit(words, limit):
    text = ". ".join(words)
    counting = _CountingSplitter()
    pieces = BoundedSplitter(counting, limit).split(text)
    assert counting.longest <= limit
    assert "".join(pieces).replace(" ", "").replace(".", "") == text.replace(" ", "").replace(".", "")


def test_every_tatoeba_code_and_every_iso_639_1_code_is_a_language(shared_data):
    from retrieval_xfer.prepare.languages import check_language, language_codes

    for path in tatoeba_languages(shared_data):
        check_language(path.suffix[1:])
    for code in ("de", "hi", "sw", "jv", "zh", "pt-BR", "zh_Hant", "kor", "jav", "yue"):
        check_language(code)
    assert sum(len(code) == 2 for code in language_codes()) == 184  # ISO 639-1 has 184 codes
    for typo in ("xx", "english", "DE", "", "e"):
        with pytest.raises(RxError, match="not an ISO 639-1 or ISO 639-3 language code"):
            check_language(typo)


@pytest.mark.parametrize("code, known_as", [("kor", "ko"), ("cmn", "zh"), ("pes", "fa"), ("de", "de"), ("deu", "de")])
def test_an_identifier_knows_a_language_by_its_other_codes(shared_data, tmp_path, code, known_as):
    pytest.importorskip("py3langid", reason="the lid extra is not installed")
    from retrieval_xfer.prepare.language_id import load_identifier

    assert load_identifier("py3langid", code)[1] == known_as
    tatoeba = {"kor": "kor", "cmn": "cmn", "pes": "pes", "de": "deu", "deu": "deu"}[code]
    path = shared_data / "tatoeba" / "v1" / f"tatoeba.{tatoeba}-eng.{tatoeba}"
    report = prepare_file(path, tmp_path / "out", PrepareOptions(lang=code, lid="py3langid"), quiet=True)
    assert report["identified_as"] == known_as and report["kept"] > 0.6 * report["input_lines"]


def test_a_language_no_identifier_knows_is_refused_not_dropped(tmp_path):
    pytest.importorskip("py3langid", reason="the lid extra is not installed")
    path = tmp_path / "ang.txt"
    path.write_text("Hwæt! We Gardena in geardagum.\n", encoding="utf-8")
    with pytest.raises(RxError, match="py3langid does not know this language.*--lid none keeps every line"):
        prepare_file(path, tmp_path / "out", PrepareOptions(lang="ang", lid="py3langid"), quiet=True)
    assert prepare_file(path, tmp_path / "out", PrepareOptions(lang="ang", lid="none"), quiet=True)["kept"] == 1


def test_language_id_dropping_most_of_a_file_says_so(shared_data, tmp_path, caplog):
    pytest.importorskip("py3langid", reason="the lid extra is not installed")
    path = shared_data / "tatoeba" / "v1" / "tatoeba.bos-eng.bos"
    with caplog.at_level("WARNING", logger="retrieval_xfer"):
        report = prepare_file(path, tmp_path / "out", PrepareOptions(lang="bos", lid="py3langid"), quiet=True)
    dropped = report["dropped"]["wrong language"]
    assert dropped > report["input_lines"] / 2 and sum(report["wrong_language_as"].values()) <= dropped
    assert {"hr", "sr"} & set(report["wrong_language_as"])  # Bosnian is taken for its neighbours
    assert any("--lid none keeps every line" in r.message and "(as hr" in r.message for r in caplog.records)
