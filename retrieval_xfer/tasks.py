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


def list_cards() -> list[dict[str, Any]]:
    """Every task card, sorted by kind (intermediate, target, component, zero-shot, retrieval) then name."""
    order = {"intermediate": 0, "target": 1, "component": 2, "zero-shot": 3, "retrieval": 4}
    cards = [load_card(path.stem) for path in tasks_dir().glob("*.yaml")]
    return sorted(cards, key=lambda c: (order.get(c.get("kind"), 9), c["name"]))


def describe_sources(card: dict[str, Any]) -> tuple[str, str]:
    """``(hub, local)`` one-line summaries of where a task's data comes from."""
    sources = card.get("sources", {})
    if sources.get("combine"):
        hub = " + ".join(sources["combine"])
    elif sources.get("data_from"):
        hub = f"= {sources['data_from']}"
    else:
        hub = ", ".join(f"{h['dataset']}{'/' + h['config'] if h.get('config') else ''}" for h in sources.get("hub") or [])
    local = sources.get("local", {})
    if "reader" in local:
        local_text = local["reader"] + "".join(f" ({suffix}: {alt['reader']})"
                                               for suffix, alt in local.get("by_suffix", {}).items())
    else:
        local_text = "LASER/BUCC files" if card.get("kind") == "retrieval" else ("as " + hub.lstrip("= ") if hub else "-")
    return hub or "-", local_text
