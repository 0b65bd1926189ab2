"""Extractive-QA exact match and F1 with SQuAD v1.1's answer normalisation, or MLQA's per-language one.

SQuAD (English): lower-case, drop ASCII punctuation, drop the articles a/an/the, split on whitespace.
MLQA: lower-case, drop every Unicode punctuation character, drop the language's articles (below), then split on
whitespace, except Chinese, where each CJK character and each punctuation mark is a token of its own
("mixed segmentation") and the other runs are split on whitespace.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence

_ASCII_PUNCT = frozenset(string.punctuation)
_UNICODE_PUNCT = (
    frozenset(chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)).startswith("P")) | _ASCII_PUNCT
)
_ARTICLES = {  # MLQA's evaluation script's lists; languages absent here (hi, zh, ...) have none
    "en": r"\b(a|an|the)\b",
    "es": r"\b(un|una|unos|unas|el|la|los|las)\b",
    "vi": r"\b(của|là|cái|chiếc|những)\b",
    "de": r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b",
    "ar": r"\sال^|ال",
}
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_MIXED_SEGMENTATION = {"zh"}


def _mixed_segmentation(text: str) -> list[str]:
    tokens, run = [], ""
    for char in text:
        if _CJK.match(char) or char in _UNICODE_PUNCT:
            tokens.extend(run.split())
            run = ""
            tokens.append(char)
        else:
            run += char
    tokens.extend(run.split())
    return tokens


def answer_tokens(text: str, normalization: str = "squad", lang: str = "en") -> list[str]:
    """The tokens F1 counts: ``normalization`` is ``"squad"`` or ``"mlqa"`` (then ``lang`` picks the rules)."""
    text = text.lower()
    if normalization == "squad":
        text = "".join(ch for ch in text if ch not in _ASCII_PUNCT)
        return re.sub(_ARTICLES["en"], " ", text).split()
    if normalization != "mlqa":
        raise ValueError(f"unknown answer normalisation {normalization!r} (squad or mlqa)")
    text = "".join(ch for ch in text if ch not in _UNICODE_PUNCT)
    if lang in _ARTICLES:
        text = re.sub(_ARTICLES[lang], " ", text)
    return _mixed_segmentation(text) if lang in _MIXED_SEGMENTATION else text.split()


def normalize_answer(text: str, normalization: str = "squad", lang: str = "en") -> str:
    """The normalised answer string exact match compares (tokens joined by single spaces)."""
    return " ".join(answer_tokens(text, normalization, lang))


def _f1(prediction: list[str], gold: list[str]) -> float:
    common = sum((Counter(prediction) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(prediction), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def qa_per_question(
    predictions: dict[str, str], golds: dict[str, Sequence[str]], normalization: str = "squad", lang: str = "en"
) -> tuple[list[float], list[float]]:
    """Each question's exact match (0 or 1) and F1 (0 to 1) against its best gold answer, in ``golds``' order (id →
    gold answer texts). A question without a prediction scores 0."""
    exact, f1 = [], []
    for qid, answers in golds.items():
        predicted = predictions.get(qid, "")
        exact.append(
            float(
                max(
                    normalize_answer(predicted, normalization, lang) == normalize_answer(a, normalization, lang)
                    for a in answers
                )
            )
        )
        tokens = answer_tokens(predicted, normalization, lang)
        f1.append(max(_f1(tokens, answer_tokens(a, normalization, lang)) for a in answers))
    return exact, f1


def qa_scores(
    predictions: dict[str, str], golds: dict[str, Sequence[str]], normalization: str = "squad", lang: str = "en"
) -> dict[str, float]:
    """Mean exact match and F1 (×100) over the questions of ``golds`` (``qa_per_question``'s means)."""
    if not golds:
        raise ValueError("no questions to score")
    exact, f1 = qa_per_question(predictions, golds, normalization, lang)
    return {"exact_match": 100.0 * sum(exact) / len(golds), "f1": 100.0 * sum(f1) / len(golds)}
