"""Languages by pre-training resources: the documented CC-100 size table and the groups the report uses."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RESOURCES_FILE = Path(__file__).resolve().parent.parent / "resources" / "language_resources.yaml"


@cache
def language_resources() -> dict[str, Any]:
    """The documented CC-100 size table (``retrieval_xfer/resources/language_resources.yaml``)."""
    return yaml.safe_load(RESOURCES_FILE.read_text(encoding="utf-8"))


def resource_group(lang: str) -> str:
    """``high``/``medium``/``low`` by the language's CC-100 size, or ``unseen`` when it has none."""
    table = language_resources()
    size = table["sizes"].get(lang)
    if size is None:
        return table["unseen_group"]
    return next(name for name, lowest in table["groups"].items() if size >= lowest)


def group_names() -> list[str]:
    """Resource groups from the richest to ``unseen``."""
    table = language_resources()
    return [*table["groups"], table["unseen_group"]]
