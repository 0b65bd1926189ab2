"""Task cards are checked against their schema at load time: a typo is one line naming the file and the key."""

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from retrieval_xfer.cli import main
from retrieval_xfer.data import cards
from retrieval_xfer.data.cards import list_cards, load_card
from retrieval_xfer.errors import CardError, RxError

TASKS = Path(__file__).resolve().parent.parent / "tasks"


@pytest.fixture
def tasks_copy(tmp_path, monkeypatch):
    folder = tmp_path / "tasks"
    shutil.copytree(TASKS, folder)
    monkeypatch.setenv("RX_TASKS_DIR", str(folder))
    return folder


def edit(folder: Path, name: str, change) -> Path:
    path = folder / f"{name}.yaml"
    raw = yaml.safe_load(path.read_text())
    change(raw)
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_shipped_card_loads_with_defaults_filled():
    loaded = list_cards()
    assert len(loaded) == len(list(TASKS.glob("*.yaml")))
    for card in loaded:
        assert isinstance(card, cards.TaskCard)
        for key, rule in cards.CARD_SCHEMA.items():  # every optional key absent from the file has its default
            raw = yaml.safe_load((TASKS / f"{card.name}.yaml").read_text())
            if key not in raw and rule.default is not None and not card.data_from:
                assert getattr(card, key) == rule.default, (card.name, key)


def test_a_card_is_frozen_and_replace_makes_a_copy():
    card = load_card("panx")
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.max_length = 12
    shorter = card.replace(max_length=12)
    assert (shorter.max_length, card.max_length, shorter.name) == (12, load_card("panx").max_length, "panx")


def test_value_sets_equal_the_registries_that_implement_them():
    from retrieval_xfer.data.task_data import READERS, SHAPERS
    from retrieval_xfer.evaluation.registry import evaluator_for
    from retrieval_xfer.modeling.heads import HEADS

    assert set(cards.READER_NAMES) == set(READERS)
    assert set(cards.HEAD_TYPES) == set(HEADS)
    assert set(cards.FORMATS) - {"retrieval", "masked-lm"} == set(SHAPERS)
    for card in cards.list_cards():
        if card.evaluator is not None:
            assert evaluator_for(card).name == card.evaluator
    from retrieval_xfer.mining.options import MiningOptions

    for card in cards.list_cards():  # a card's mining defaults name margins and rules that exist
        if card.mining is not None:
            assert MiningOptions().resolved(card.mining).margin == card.mining["margin"]


def test_data_from_is_resolved_once_at_load():
    mnli, xnli_en = load_card("mnli"), load_card("xnli_en")
    assert xnli_en.data_from == "mnli" and mnli.data_from is None
    assert xnli_en.sources == mnli.sources  # the readers never see data_from
    assert (xnli_en.name, xnli_en.kind, xnli_en.target_task) == ("xnli_en", "target", "xnli")
    squad_en = load_card("squad_en")
    assert squad_en.max_length == 384 and squad_en.sources == load_card("squad_v1").sources


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.update(max_lenght=128), "unknown key 'max_lenght'"),
        (lambda c: c.update(head="clasification"), "'head' is 'clasification'; allowed: classification"),
        (lambda c: c.update(max_length="long"), "'max_length' must be a int, not str"),
        (lambda c: c["sources"]["hub"][0].update(revison="abc"), "unknown key 'sources.hub[0].revison'"),
        (lambda c: c["sources"]["local"].update(reader="xml"), "'sources.local.reader' is 'xml'"),
        (lambda c: c.pop("format"), "missing key 'format'"),
    ],
)
def test_a_bad_card_is_one_line_naming_file_and_key(tasks_copy, change, message):
    path = edit(tasks_copy, "mnli", change)
    with pytest.raises(CardError) as caught:
        load_card("mnli")
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value) and isinstance(caught.value, RxError)


def test_a_bad_card_never_removes_commands_silently(tasks_copy):
    path = edit(tasks_copy, "xnli", lambda c: c.update(evaluater="classification"))
    runner = CliRunner()
    for args in (["tasks", "list"], ["eval", "--help"], ["eval", "xnli", "--help"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert (
            result.output.strip()
            == f"Error: {path}: unknown key 'evaluater' (allowed here: " + ", ".join(cards.CARD_SCHEMA) + ")"
        )
    assert runner.invoke(main, ["--help"]).exit_code == 0  # the top-level help does not read the cards


def test_data_from_loop_is_refused(tasks_copy):
    edit(tasks_copy, "mnli", lambda c: c.update(sources={"data_from": "xnli_en"}))
    with pytest.raises(CardError, match="loops back"):
        load_card("xnli_en")
