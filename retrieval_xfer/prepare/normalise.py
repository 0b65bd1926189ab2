"""Text normalisation before mining: Unicode NFKC, whitespace and punctuation (in the spirit of Moses'
``normalize-punctuation.perl`` that stopes runs), and the key by which two lines count as near duplicates."""

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
        "\u200b": "",  # zero-width space, joiners, BOM
        "\u200c": "",
        "\u200d": "",
        "\u2060": "",
        "\ufeff": "",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE = re.compile(r" ([,.)\]}](?:\s|$))")  # "word ," -> "word,"; French " ;", " !" kept
_NOT_KEY = re.compile(r"[\W_]+")


def normalise_text(line: str) -> str:
    """``line`` in NFKC, with one form of quotes and dashes, no control or zero-width characters, single spaces,
    no space before closing punctuation, and no leading or trailing space."""
    text = unicodedata.normalize("NFKC", line).translate(_PUNCTUATION)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    return _SPACE_BEFORE.sub(r"\1", text)


def duplicate_key(normalised: str) -> str:
    """What two lines must share to be near duplicates: the case-folded letters and digits of a line that
    ``normalise_text`` made (punctuation, spaces and case differences do not count)."""
    return _NOT_KEY.sub("", normalised.casefold())


def line_key(line: str) -> str:
    """``duplicate_key`` of a raw line (normalised first): what ``--dedup-pairs`` compares."""
    return duplicate_key(normalise_text(line))
