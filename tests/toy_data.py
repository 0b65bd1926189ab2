"""Toy training and evaluation files, one writer per format, shared by the tests (never copied between them).

Each dataset is learnable by a tiny model: the label is carried by a keyword (NLI: cat/dog/fish in the
hypothesis; multiple choice: the answer "cat house"; NER: "house" is B-LOC; QA: the answer is "moon").
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from conftest import WORDS

ENGLISH = [w for w in WORDS[:21] if w not in ("cat", "dog", "fish", "moon", "house", "tree")]
KEYWORD = {"entailment": "cat", "neutral": "dog", "contradiction": "fish"}


def sentence(rng: random.Random, n: int) -> str:
    """``n`` random filler words (never a keyword)."""
    return " ".join(rng.choice(ENGLISH) for _ in range(n))


def write_nli(path: Path, rng: random.Random, n: int, tsv: bool = False) -> Path:
    """MNLI jsonl (``sentence1``, ``sentence2``, ``gold_label``), or XTREME's XNLI TSV with CRLF when ``tsv``."""
    rows = []
    for i in range(n):
        label = list(KEYWORD)[i % 3]
        rows.append((sentence(rng, 4), f"{KEYWORD[label]} {sentence(rng, 2)}", label))
    if tsv:
        path.write_text("".join(f"{a}\t{b}\t{c}\r\n" for a, b, c in rows))
    else:
        path.write_text(
            "".join(json.dumps({"sentence1": a, "sentence2": b, "gold_label": c}) + "\n" for a, b, c in rows)
        )
    return path


def write_multiple_choice(path: Path, rng: random.Random, n: int) -> Path:
    """CosmosQA CSV: id, context, question, answer0..3, label (the right answer is "cat house")."""
    with path.open("w") as f:
        f.write("id,context,question,answer0,answer1,answer2,answer3,label\n")
        for i in range(n):
            answers = [sentence(rng, 2) for _ in range(4)]
            answers[i % 4] = "cat house"
            f.write(f"x{i},{sentence(rng, 5)},why,{','.join(answers)},{i % 4}\n")
    return path


def write_ner(path: Path, rng: random.Random, n: int, length: int = 4) -> Path:
    """PAN-X token<TAB>tag, a blank line after each sentence; "house" is B-LOC."""
    with path.open("w") as f:
        for _ in range(n):
            words = sentence(rng, length).split() + ["house"]
            rng.shuffle(words)
            f.write("".join(f"{w}\t{'B-LOC' if w == 'house' else 'O'}\n" for w in words) + "\n")
    return path


def write_qa(path: Path, rng: random.Random, n: int) -> Path:
    """SQuAD v1.1 JSON, one question per article; the answer "moon" at its character offset."""
    articles = []
    for i in range(n):
        context = f"{sentence(rng, 1 + i % 5)} moon {sentence(rng, 3)}"
        qa = {"id": str(i), "question": "where", "answers": [{"text": "moon", "answer_start": context.index("moon")}]}
        articles.append({"paragraphs": [{"context": context, "qas": [qa]}]})
    path.write_text(json.dumps({"data": articles}))
    return path
