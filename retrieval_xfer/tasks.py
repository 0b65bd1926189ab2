"""Task cards: the declarative YAML files in ``tasks/`` (one per task). Code reads them; it never hard-codes them."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import yaml

from retrieval_xfer.errors import RxError


def tasks_dir() -> Path:
    """Where the cards live: ``$RX_TASKS_DIR``, the checkout's ``tasks/``, or the installed copy under share/."""
    candidates = [
        Path(os.environ["RX_TASKS_DIR"]) if os.environ.get("RX_TASKS_DIR") else None,
        Path(__file__).resolve().parent.parent / "tasks",
        Path(sys.prefix) / "share" / "retrieval_xfer" / "tasks",
    ]
    for folder in candidates:
        if folder is not None and folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    raise RxError("no task cards found (set RX_TASKS_DIR to the project's tasks/ folder)")


def load_card(name: str) -> dict[str, Any]:
    """Read ``tasks/<name>.yaml``; RxError naming the valid cards when it does not exist or is malformed."""
    folder = tasks_dir()
    path = folder / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise RxError(f"unknown task {name!r}; task cards: {valid}")
    try:
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RxError(f"{path}: malformed task card ({err.__class__.__name__})") from None
    if not isinstance(card, dict) or card.get("name") != name:
        raise RxError(f"{path}: malformed task card (its 'name' must be {name!r})")
    return card
