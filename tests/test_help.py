"""Every command's ``--help`` equals its snapshot in tests/help/: a refactor must not change a flag's meaning.

A deliberate change (a new option, a reworded help) is recorded by re-writing the snapshots and committing the diff:
``python tests/test_help.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from retrieval_xfer.cli import main

SNAPSHOTS = Path(__file__).parent / "help"


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """``path`` and the paths of every sub-command under it, depth first."""
    yield path
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in sorted(command.list_commands(context)):
            yield from command_paths(command.get_command(context, name), (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="rx", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(path: tuple[str, ...]) -> Path:
    return SNAPSHOTS / ("-".join(("rx", *path)) + ".txt")


@pytest.mark.parametrize("path", list(command_paths(main)), ids=lambda path: " ".join(("rx", *path)))
def test_help_is_unchanged(path: tuple[str, ...]) -> None:
    assert snapshot(path).is_file(), f"no snapshot for rx {' '.join(path)}: run python tests/test_help.py"
    assert help_text(path) == snapshot(path).read_text(encoding="utf-8")


def test_every_snapshot_names_a_command() -> None:
    known = {snapshot(path) for path in command_paths(main)}
    assert sorted(SNAPSHOTS.glob("*.txt")) == sorted(known)


if __name__ == "__main__":
    SNAPSHOTS.mkdir(exist_ok=True)
    for stale in SNAPSHOTS.glob("*.txt"):
        stale.unlink()
    for path in command_paths(main):
        snapshot(path).write_text(help_text(path), encoding="utf-8")
    sys.exit(0)
