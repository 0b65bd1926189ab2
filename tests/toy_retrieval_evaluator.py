"""A retrieval task family that lives outside rx (the registry test's plug-in): its options, its reader and its
evaluator in one module, registered on import. Cards name it with ``evaluator: toy-nn`` and
``evaluator_module: toy_retrieval_evaluator``.

The task: files ``{lang}.tsv`` of ``english<TAB>other`` lines; the score is en->xx 1-nearest-neighbour accuracy x100
(row i of one side translates row i of the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.registry import EvalContext, Evaluator, register
from retrieval_xfer.evaluation.results import format_table, result_header


@dataclass(frozen=True)
class ToyOptions:
    """Where the files are and which languages."""

    data_dir: Path | None = field(default=None, metadata={"help": "Folder with LANG.tsv files.", "path": True})
    langs: str = field(default="all", metadata={"help": "'all' or codes like xx,yy."})


def read_pairs(path: Path) -> tuple[list[str], list[str]]:
    """The reader: English and other-language sides of ``path``."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r[0] for r in rows], [r[1] for r in rows]


def run_toy(card: TaskCard, encoder: EncoderOptions, options: ToyOptions, context: EvalContext) -> dict[str, Any]:
    """Encode both sides of each language and score en->xx 1-NN accuracy."""
    if options.data_dir is None:
        raise RxError(f"{card.name}: give --data-dir")
    files = sorted(Path(options.data_dir).glob("*.tsv"))
    if options.langs != "all":
        files = [f for f in files if f.stem in options.langs.split(",")]
    loaded = encoder.load()
    scores = {}
    for path in files:
        english, other = read_pairs(path)
        x, y = loaded.encode(english), loaded.encode(other)
        hits = (x @ y.T).argmax(axis=1) == np.arange(len(english))
        scores[path.stem] = {card.report_key: 100.0 * float(hits.mean()), "n": len(english)}
    average = sum(s[card.report_key] for s in scores.values()) / len(scores)
    return {
        **result_header(card.name, loaded.spec),
        "scores": scores,
        "averages": {card.report_key: average, "n_languages": len(scores)},
    }


def toy_table(result: dict[str, Any]) -> str:
    """One row per language."""
    return format_table(["lang", "accuracy", "n"], [[k, s["accuracy"], s["n"]] for k, s in result["scores"].items()])


register(
    Evaluator(
        name="toy-nn",
        options=ToyOptions,
        model="encoder",
        run=f"{__name__}:run_toy",
        table=f"{__name__}:toy_table",
        describe=lambda card: f"{card.name}: en->xx nearest-neighbour accuracy (a plug-in evaluator).",
    )
)
