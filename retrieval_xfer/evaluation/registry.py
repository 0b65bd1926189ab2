"""Every evaluator in one registry: a task card's ``evaluator`` names an entry here, and the entry says what the
evaluation takes (its options dataclass, and whether ``--model`` is an encoder or a run folder with a head), how
it runs, how its table is printed and how ``rx report`` names its languages.

``rx eval <task>`` (one command per card), an experiment file's ``targets``/``retrieval`` and ``evaluation`` keys,
the experiment's evaluation step and ``rx report``'s task list all come from the cards and this registry, so a
new task in an existing family is a card, and a new family is an evaluator module plus one ``register`` call
(DESIGN.md: "Adding a task"). An evaluator outside the package registers itself when its module is imported: a
card names that module in ``evaluator_module``.

Functions are named as ``"module:function"`` and imported when used, so reading the registry (``rx --help``,
``rx report``) loads no model stack.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from retrieval_xfer.data.cards import TaskCard, list_cards, load_card
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.retrieval_options import BuccOptions, TatoebaOptions
from retrieval_xfer.evaluation.zero_shot_options import ZeroShotOptions


@dataclass(frozen=True)
class EvalContext:
    """Where an evaluation's result goes (``results_dir``: its side files, e.g. BUCC's predictions, go there too)
    and whether to show progress bars."""

    results_dir: Path = Path("results")
    quiet: bool = False


@dataclass(frozen=True)
class Evaluator:
    """One family of evaluations.

    ``options``: the dataclass of its settings (its fields, nested ones flattened, are ``rx eval``'s options and
    the experiment file's keys). ``model``: ``"encoder"`` (a hub id or folder, with the encoder options) or
    ``"run"`` (a folder ``rx train`` wrote, with a head). ``run``: ``"module:function"`` called as
    ``run(card, model, options, context)`` (model: ``EncoderOptions`` or the run's ``Path``) returning the result
    payload (``task``, ``model``, ``scores`` per language with the card's ``report_key``, ``averages``).
    ``table``: ``"module:function"`` from the payload to the printed table. ``scorer``: a zero-shot family's
    per-language scoring function (the zero-shot loop calls it). ``describe``: the command's help from the card.
    ``language_code``: the ISO code ``rx report`` files a score key under."""

    name: str
    options: type
    model: Literal["encoder", "run"]
    run: str
    table: str
    describe: Callable[[TaskCard], str]
    language_code: Callable[[TaskCard, str], str] = lambda card, key: key
    scorer: str | None = None

    def load(self, what: Literal["run", "table", "scorer"]) -> Callable[..., Any]:
        """The function named by ``run``, ``table`` or ``scorer``, imported now."""
        module, _, name = str(getattr(self, what)).partition(":")
        return getattr(importlib.import_module(module), name)


EVALUATORS: dict[str, Evaluator] = {}


def register(evaluator: Evaluator) -> Evaluator:
    """Add ``evaluator`` (replacing one of the same name: re-importing a module is harmless); returns it."""
    EVALUATORS[evaluator.name] = evaluator
    return evaluator


def evaluator_for(card: TaskCard) -> Evaluator:
    """The evaluator of ``card`` (importing the card's ``evaluator_module`` first, if any); RxError in one line when
    the card has none or names one nobody registered."""
    if card.evaluator is None:
        raise RxError(f"task {card.name!r} is not evaluated (its card names no evaluator)")
    if card.evaluator not in EVALUATORS and card.evaluator_module:
        try:
            importlib.import_module(card.evaluator_module)
        except ImportError as err:
            raise RxError(
                f"task {card.name!r}: evaluator_module {card.evaluator_module!r} cannot be imported: {err}"
            ) from None
    if card.evaluator not in EVALUATORS:
        known = ", ".join(sorted(EVALUATORS))
        raise RxError(f"task {card.name!r}: no evaluator {card.evaluator!r} is registered (known: {known})")
    return EVALUATORS[card.evaluator]


def evaluated_cards(kind: str | None = None) -> list[TaskCard]:
    """Every card with an evaluator (``kind``: only ``zero-shot`` or only ``retrieval`` ones), in name order."""
    return [c for c in list_cards() if c.evaluator is not None and (kind is None or c.kind == kind)]


def evaluator_of_task(task: str) -> Evaluator:
    """``evaluator_for(load_card(task))``."""
    return evaluator_for(load_card(task))


def _zero_shot_help(card: TaskCard) -> str:
    return (
        f"Zero-shot {card.name} ({card.format}, {card.metric}): scores a run's {card.head} head "
        f"({' or '.join(card.trained_by)}) on each language and their average. Writes a JSON result file."
    )


for _family, _scorer in (
    ("classification", "retrieval_xfer.evaluation.classification:evaluate_classification"),
    ("tagging", "retrieval_xfer.evaluation.tagging:evaluate_tagging"),
    ("qa", "retrieval_xfer.evaluation.qa:evaluate_qa"),
):
    register(
        Evaluator(
            name=_family,
            options=ZeroShotOptions,
            model="run",
            run="retrieval_xfer.evaluation.zero_shot:run_zero_shot",
            table="retrieval_xfer.evaluation.zero_shot:zero_shot_table",
            describe=_zero_shot_help,
            scorer=_scorer,
        )
    )

register(
    Evaluator(
        name="tatoeba",
        options=TatoebaOptions,
        model="encoder",
        run="retrieval_xfer.evaluation.tatoeba:run_tatoeba",
        table="retrieval_xfer.evaluation.tatoeba:tatoeba_table",
        describe=lambda card: (
            "Tatoeba accuracy per language in both directions (en->xx is XTREME's number, xx->en MTEB's)."
        ),
        language_code=lambda card, key: card.languages.get(key) or key,  # ISO 639-3 -> 639-1 where one exists
    )
)

register(
    Evaluator(
        name="bucc",
        options=BuccOptions,
        model="encoder",
        run="retrieval_xfer.evaluation.bucc:run_bucc",
        table="retrieval_xfer.evaluation.bucc:bucc_table",
        describe=lambda card: (
            "BUCC 2018 mining F1: threshold tuned on the sample split, applied to the training/test split. Mining "
            f"options not given take the card's (tasks/{card.name}.yaml: k=4, ratio margin, max retrieval, as "
            "XTREME)."
        ),
        language_code=lambda card, key: key.split("-")[0],  # zh-en -> zh
    )
)
