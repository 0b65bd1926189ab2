"""Pin every unpinned hub source of the task cards to the commit its dataset's default branch names now.

Run by a maintainer with internet (the hub is needed; this machine's CI has none):

    python scripts/pin_hub_revisions.py            # rewrites tasks/*.yaml in place, prints what it pinned
    python scripts/pin_hub_revisions.py --check    # lists the unpinned sources, changes nothing (exit 1 if any)

Each ``{dataset: NAME, ...}`` line without a ``revision`` gets ``revision: <commit>`` after its dataset name;
existing pins are kept. Every result already records the commit it read (``hf://NAME@commit/...``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from retrieval_xfer.data.hub import resolve_revision
from retrieval_xfer.hub import hub_reachable

UNPINNED = re.compile(r"\{dataset: (?P<name>[\w./-]+),(?! revision:)")


def pin_file(path: Path, resolve=resolve_revision) -> list[str]:
    """Pin the unpinned sources of one card in place; return the dataset names pinned."""
    text, pinned = path.read_text(encoding="utf-8"), []

    def pin(match: re.Match) -> str:
        commit = resolve(match["name"], None)
        if not commit:
            raise SystemExit(f"{path}: {match['name']}: the hub did not say which commit its default branch names")
        pinned.append(match["name"])
        return f"{{dataset: {match['name']}, revision: {commit},"

    path.write_text(UNPINNED.sub(pin, text), encoding="utf-8")
    return pinned


def main(argv: list[str]) -> int:
    cards = sorted((Path(__file__).resolve().parent.parent / "tasks").glob("*.yaml"))
    if "--check" in argv:
        unpinned = [f"{card.name}: {m['name']}" for card in cards for m in UNPINNED.finditer(card.read_text("utf-8"))]
        print("\n".join(unpinned) or "every hub source is pinned")
        return 1 if unpinned else 0
    if not hub_reachable():
        print("the Hugging Face Hub cannot be reached: pinning needs it", file=sys.stderr)
        return 1
    for card in cards:
        for name in pin_file(card):
            print(f"{card.name}: pinned {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
