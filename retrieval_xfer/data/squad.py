"""SQuAD-format JSON (SQuAD v1.1/v2.0, TyDiQA-GoldP, XQuAD, MLQA) into flat question records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError


def iter_squad(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, record)`` per question: ``id``, ``context``, ``question``, ``answers`` (list of
    ``{"text", "answer_start"}``) and ``is_impossible`` (SQuAD v2.0 questions without an answer).

    ``location`` is ``"article 3, paragraph 1, question 12"`` for messages. RxError on malformed JSON or missing keys.
    """
    path = Path(path)
    if not path.is_file():
        raise RxError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except UnicodeDecodeError as err:
        raise RxError(f"{path}: not valid UTF-8 (byte offset {err.start})") from None
    except json.JSONDecodeError as err:
        raise RxError(f"{path}:{err.lineno}: malformed JSON ({err.msg})") from None
    except (KeyError, TypeError):
        raise RxError(f"{path}: not SQuAD format (no top-level 'data' list)") from None
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            for q, qa in enumerate(paragraph.get("qas", [])):
                where = f"article {a}, paragraph {p}, question {q}"
                try:
                    answers = [
                        {"text": x["text"], "answer_start": int(x["answer_start"])} for x in qa.get("answers", [])
                    ]
                    record = {
                        "id": str(qa["id"]),
                        "context": paragraph["context"],
                        "question": qa["question"],
                        "answers": answers,
                        "is_impossible": bool(qa.get("is_impossible", False)),
                    }
                except (KeyError, TypeError, ValueError) as err:
                    raise RxError(f"{path}: {where}: missing or malformed field ({err})") from None
                yield where, record
