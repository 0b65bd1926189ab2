"""UD-POS read from the original UD release folder: XTREME's treebank selection, fused forms and filters.

Every expectation below was worked out by hand from the CoNLL-U lines (which word of a multi-word token is
closest to the root, and the precedence lists of ud-conversion-tools), not by running the reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.eval_data import ReleaseFiles, read_language_file
from retrieval_xfer.data.task_data import read_task_file
from retrieval_xfer.data.ud_release import find_release_files, iter_ud_xtreme
from retrieval_xfer.errors import RxError, SplitMissingError
from retrieval_xfer.evaluation.zero_shot import locate_data


def word(ident, form, upos, head, deps="_"):
    return f"{ident}\t{form}\t_\t{upos}\t_\t_\t{head}\t_\t{deps}\t_"


def fused(span, form):
    return f"{span}\t{form}\t_\t_\t_\t_\t_\t_\t_\t_"


def write(path: Path, *sentences: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("# sent_id = x\n" + "\n".join(lines) + "\n\n" for lines in sentences), encoding="utf-8")
    return path


def sentences(path: Path) -> list[tuple[list[str], list[str]]]:
    return [(s["tokens"], s["tags"]) for _, s in iter_ud_xtreme(path)]


VENGO_DEL_MERCADO = [
    word(1, "Vengo", "VERB", 0),
    fused("2-3", "del"),
    word(2, "de", "ADP", 4),
    word(3, "el", "DET", 4),
    word(4, "mercado", "NOUN", 1),
]
DAMELO = [
    fused("1-3", "Dámelo"),
    word(1, "Da", "VERB", 0),
    word(2, "me", "PRON", 1),
    word(3, "lo", "PRON", 1),
    word(4, ".", "PUNCT", 1),
]


def test_a_fused_token_takes_the_tag_of_its_word_nearest_the_root(tmp_path):
    path = write(tmp_path / "UD_Spanish-AnCora" / "es_ancora-ud-dev.conllu", VENGO_DEL_MERCADO, DAMELO)
    # "del": de and el both hang from mercado (a tie); Spanish ranks ADP before DET. "Dámelo": Da is the root.
    assert sentences(path) == [
        (["Vengo", "del", "mercado"], ["VERB", "ADP", "NOUN"]),
        (["Dámelo", "."], ["VERB", "PUNCT"]),
    ]


def test_enhanced_dependencies_count_as_ancestors(tmp_path):
    zum = [
        word(1, "Ich", "PRON", 2),
        word(2, "gehe", "VERB", 0),
        fused("3-4", "zum"),
        word(3, "zu", "ADP", 5),
        word(4, "dem", "DET", 5),
        word(5, "Markt", "NOUN", 2),
        word(6, ".", "PUNCT", 2),
    ]
    plain = write(tmp_path / "a" / "de_gsd-ud-dev.conllu", zum)
    assert sentences(plain)[0][1][2] == "ADP"  # a tie between zu and dem: ADP before DET
    zum[3] = word(3, "zu", "ADP", 5, deps="5:case|1:dep")  # an enhanced head adds Ich (and its head) above zu
    enhanced = write(tmp_path / "b" / "de_gsd-ud-dev.conllu", zum)
    assert sentences(enhanced)[0] == (["Ich", "gehe", "zum", "Markt", "."], ["PRON", "VERB", "DET", "NOUN", "PUNCT"])


def test_the_precedence_list_is_the_languages_own(tmp_path, rx_warns):
    tie = [word(1, "x", "VERB", 0), fused("2-3", "ab"), word(2, "a", "NOUN", 1), word(3, "b", "PRON", 1)]
    # the default list ranks NOUN before PRON; French's has PRON before NOUN (and no NOUN-first rule)
    assert sentences(write(tmp_path / "d" / "de_x-ud-dev.conllu", tie))[0][1] == ["VERB", "NOUN"]
    assert sentences(write(tmp_path / "f" / "fr_x-ud-dev.conllu", tie))[0][1] == ["VERB", "PRON"]
    # Spanish's list lacks NOUN (XTREME's converter stops on the file): ranked last, with a warning
    with rx_warns("tagged NOUN, not in the precedence list"):
        assert sentences(write(tmp_path / "e" / "es_x-ud-dev.conllu", tie))[0][1] == ["VERB", "PRON"]
    # neither NOUN nor ADJ listed: the first tied word wins
    tie[3] = word(3, "b", "ADJ", 1)
    with rx_warns("tagged ADJ, NOUN, not in the precedence list"):
        assert sentences(write(tmp_path / "s" / "es_x-ud-dev.conllu", tie))[0][1] == ["VERB", "NOUN"]


def test_sentences_without_text_are_dropped_and_words_cleaned(tmp_path):
    path = write(
        tmp_path / "UD_Persian-Seraji" / "fa_seraji-ud-dev.conllu",
        [word(1, "_", "NOUN", 0), word(2, "_", "VERB", 1), word(3, "_", "PUNCT", 1)],  # no text: dropped
        [word(1, "_", "NOUN", 0), word(2, "a", "VERB", 1)],  # all but one blank: dropped
        [word(1, "_", "SYM", 0), word(2, "a", "VERB", 1), word(3, "b", "NOUN", 2)],  # one blank of 3: kept
        [word(1, "می\u200cخواهم", "VERB", 0), "1.1\tgap\t_\tX\t_\t_\t_\t_\t0:root\t_", word(2, "học sinh", "NOUN", 1)],
    )  # ZWNJ and inner spaces removed; the empty node 1.1 is no word
    assert sentences(path) == [(["_", "a", "b"], ["SYM", "VERB", "NOUN"]), (["میخواهم", "họcsinh"], ["VERB", "NOUN"])]


def release(tmp_path: Path) -> Path:
    root = tmp_path / "ud-treebanks-v2.5"
    write(root / "UD_Greek-GDT" / "el_gdt-ud-dev.conllu", [word(1, "Γεια", "INTJ", 0)])
    write(root / "UD_Ancient_Greek-Perseus" / "grc_perseus-ud-dev.conllu", [word(1, "λόγος", "NOUN", 0)])
    write(root / "UD_Classical_Chinese-Kyoto" / "lzh_kyoto-ud-dev.conllu", [word(1, "子", "NOUN", 0)])
    write(root / "UD_German-HDT" / "de_hdt-ud-dev.conllu", [word(1, "zwei", "NUM", 0)])
    write(root / "UD_German-GSD" / "de_gsd-ud-dev.conllu", [word(1, "eins", "NUM", 0)])
    write(root / "UD_German-GSD" / "de_gsd-ud-train.conllu", [word(1, "Haus", "NOUN", 0)])
    write(root / "UD_English-EWT" / "en_ewt-ud-train.conllu", [word(1, "one", "NUM", 0)])
    write(root / "UD_English-GUM" / "en_gum-ud-train.conllu", [word(1, "two", "NUM", 0)])
    write(root / "UD_English-ESL" / "en_esl-ud-train.conllu", [word(1, "_", "NUM", 0)])  # released without text
    write(root / "UD_Kazakh-KTB" / "kk_ktb-ud-test.conllu", [word(1, "бір", "NUM", 0)])
    write(root / "UD_Kazakh-KTB" / "kk_ktb-ud-train.conllu", [word(1, "екі", "NUM", 0)])
    return root


def test_treebanks_are_chosen_by_iso_prefix_in_file_name_order(tmp_path):
    root = release(tmp_path)
    files = find_release_files(root, load_card("udpos").languages)["dev"]
    assert {lang: [p.name for p in paths] for lang, paths in files.items()} == {
        "de": ["de_gsd-ud-dev.conllu", "de_hdt-ud-dev.conllu"],
        "el": ["el_gdt-ud-dev.conllu"],
    }
    card = load_card("udpos")
    data = locate_data(card, "all", "dev", root)
    assert sorted(data) == ["de", "el", "en", "kk"]  # grc and lzh are not Greek and Chinese
    german = read_language_file(card, data["de"])
    assert [s["tokens"] for s in german.examples] == [["eins"], ["zwei"]]
    assert "de_gsd-ud-dev.conllu, de_hdt-ud-dev.conllu" in german.source
    with pytest.raises(SplitMissingError, match="no 'dev' files for kk \\(it has train, test\\)"):
        read_language_file(card, data["kk"])
    assert isinstance(data["kk"], ReleaseFiles)
    with pytest.raises(RxError, match="no udpos data for language 'fi'"):
        locate_data(card, "fi", "dev", root)


def test_english_training_data_from_the_release_folder(tmp_path):
    data = read_task_file(load_card("udpos_en"), release(tmp_path))
    assert [s["tokens"] for s in data.examples] == [["one"], ["two"]]  # en_esl has no text; en_ewt before en_gum
    with pytest.raises(RxError, match="no en training files of a UD release"):
        read_task_file(load_card("udpos_en"), tmp_path / "ud-treebanks-v2.5" / "UD_Greek-GDT")


def test_a_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "UD_X" / "de_x-ud-dev.conllu", [word(1, "a", "NOUN", 0), "2\tb\tNOUN"])
    with pytest.raises(RxError, match="de_x-ud-dev.conllu:3: expected 10 tab-separated"):
        sentences(path)
