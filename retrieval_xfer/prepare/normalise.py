"""Text normalisation before mining: Unicode NFKC, whitespace and punctuation (in the spirit of Moses'
``normalize-punctuation.perl`` that stopes runs), and the key by which two lines count as near duplicates.

Text is counted and keyed the same way in every script: a letter is a Unicode letter or mark (categories L* and
M*: the vowel signs of Devanagari, Bengali, Tamil or Thai are marks, and "तो" and "ती" differ only by one), a
digit is a Unicode number (N*)."""

from __future__ import annotations

import re
import unicodedata

# After NFKC: the quotes, dashes and spaces it leaves as they are, mapped to one form each.
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",  # ‘ ’ ‚ ‛ ′
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',  # “ ” „ ‟ ″ « »
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",  # hyphens and dashes
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",  # soft hyphen
        "\u200b": "",  # zero-width space, word joiner, BOM (the joiners ZWJ/ZWNJ stay: Persian and Indic
        "\u2060": "",  # spelling needs them; the duplicate key ignores them)
        "\ufeff": "",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE = re.compile(r" (?=[,.)\]}](?:\s|$))")  # "word ," -> "word,"; French " ;", " !" kept
_KEPT_IN_KEY = frozenset("LMNS")


class _KeyTable(dict):
    """``str.translate``'s table for ``duplicate_key``: a character of a kept category maps to itself, any other to
    nothing; filled as characters are met (one category lookup per distinct character, not per character)."""

    def __missing__(self, code: int) -> int | None:
        self[code] = code if unicodedata.category(chr(code))[0] in _KEPT_IN_KEY else None
        return self[code]


_KEY_TABLE = _KeyTable()


def is_letter(char: str) -> bool:
    """Whether ``char`` is a letter of any script: Unicode category L* (letters) or M* (combining marks)."""
    return unicodedata.category(char)[0] in "LM"


def normalise_text(line: str) -> str:
    """``line`` in NFKC, with one form of quotes and dashes, no control or zero-width characters, single spaces,
    no space before closing punctuation, and no leading or trailing space."""
    text = unicodedata.normalize("NFKC", line).translate(_PUNCTUATION)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return _SPACE_BEFORE.sub("", text)


def duplicate_key(normalised: str) -> str:
    """What two lines must share to be near duplicates: the case-folded letters, marks, numbers and symbols
    (Unicode L*, M*, N*, S*) of a line that ``normalise_text`` made, in NFKC; punctuation, spaces, invisible
    characters (joiners) and case do not count."""
    folded = unicodedata.normalize("NFKC", normalised.casefold())
    kept = folded.translate(_KEY_TABLE)
    return unicodedata.normalize("NFKC", kept)  # a mark left beside a letter once a space between them went


def line_key(line: str) -> str:
    """``duplicate_key`` of a raw line (normalised first): what ``--dedup-pairs`` compares."""
    return duplicate_key(normalise_text(line))
