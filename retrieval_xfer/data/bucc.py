"""BUCC 2018 splits: the original files (BUCC's or XTREME's split names) and the hub copy (gold pairs only)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.data.hub import hub_source, load_hub_split
from retrieval_xfer.data.text_files import read_corpus, read_gold_pairs
from retrieval_xfer.errors import RxError

logger = logging.getLogger(__name__)


@dataclass
class BuccSplit:
    """Two comparable corpora (``id<TAB>sentence``) and, when known, the gold ``(src_id, trg_id)`` pairs
    (``gold_excluded``: gold pairs left out because an id is not in the corpora, with ``allow_missing_gold``)."""

    pair: str
    split: str
    src_ids: list[str]
    src_sentences: list[str]
    trg_ids: list[str]
    trg_sentences: list[str]
    gold: set[tuple[str, str]] | None
    origin: str
    gold_excluded: int = 0


def parse_pair(pair: str, card: TaskCard) -> tuple[str, str]:
    """``"zh-en"`` → ``("zh", "en")``; RxError for a pair the card does not list."""
    if pair not in card.pairs:
        raise RxError(f"unknown BUCC pair {pair!r}; choose from {', '.join(card.pairs)}")
    src, trg = pair.split("-")
    return src, trg


def resolve_pairs(pairs: str | list[str] | None, data_dir: Path | None, card: TaskCard) -> list[str]:
    """The pairs to evaluate: ``pairs`` (a comma string or a list, each checked), else every pair with a tuning
    split in ``data_dir``, else (the hub) every pair of the card."""
    if pairs:
        chosen = [p.strip() for p in pairs.split(",")] if isinstance(pairs, str) else [str(p) for p in pairs]
        chosen = [p for p in chosen if p]
        for pair in chosen:
            parse_pair(pair, card)
        return chosen
    return available_pairs(data_dir, card) if data_dir else list(card.pairs)


def _check_gold(
    path: Path, gold: set[tuple[str, str]], src_ids: list[str], trg_ids: list[str], allow_missing: bool
) -> tuple[set[tuple[str, str]], int]:
    """Gold pairs whose ids both occur in the corpora; the others are an RxError (a pair that can never be mined
    would silently lower recall) or, with ``allow_missing``, a warning and left out (their count is returned)."""
    sources, targets = set(src_ids), set(trg_ids)
    missing = sorted(p for p in gold if p[0] not in sources or p[1] not in targets)
    if not missing:
        return gold, 0
    first = missing[0][0] if missing[0][0] not in sources else missing[0][1]
    if not allow_missing:
        raise RxError(
            f"{path}: {len(missing)} gold pair(s) name ids absent from the corpora (first: {first!r}); "
            "fix the files, or pass --allow-missing-gold to leave those pairs out"
        )
    logger.warning(
        f"{path}: left out {len(missing)} gold pair(s) whose ids are absent from the corpora (first: {first!r})"
    )
    return gold - set(missing), len(missing)


def find_local_split(
    data_dir: Path, pair: str, role: str, card: TaskCard, allow_missing_gold: bool = False
) -> BuccSplit | None:
    """Read the first split of ``role`` (``tune`` or ``apply``) present in ``data_dir`` or ``data_dir/<pair>``.

    Returns None when no split of that role exists. Raises RxError when a split is incomplete (a side missing,
    or, for the tuning split, its gold file missing), a file is malformed, or the gold names ids the corpora do
    not have (unless ``allow_missing_gold``: then those pairs are left out and counted).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RxError(f"{data_dir}: no such data folder")
    src, trg = parse_pair(pair, card)
    layout = card.sources["local"]
    for folder in (data_dir, data_dir / pair):
        for split in card.splits[role]:
            names = {
                key: folder / layout[key].format(pair=pair, split=split, src=src, trg=trg)
                for key in ("source", "target", "gold")
            }
            if not names["source"].exists() and not names["target"].exists():
                continue
            for key in ("source", "target"):
                if not names[key].exists():
                    raise RxError(f"{names[key]}: missing ({split} split of {pair} is incomplete)")
            if role == "tune" and not names["gold"].exists():
                raise RxError(f"{names['gold']}: missing (the {split} split tunes the threshold and needs its gold)")
            src_ids, src_sentences = read_corpus(names["source"], "tsv")
            trg_ids, trg_sentences = read_corpus(names["target"], "tsv")
            gold, excluded = None, 0
            if names["gold"].exists():
                gold, excluded = _check_gold(
                    names["gold"], read_gold_pairs(names["gold"]), src_ids, trg_ids, allow_missing_gold
                )
            return BuccSplit(
                pair, split, src_ids, src_sentences, trg_ids, trg_sentences, gold, str(names["source"]), excluded
            )
    return None


def read_hub_split(pair: str, role: str, card: TaskCard) -> BuccSplit:
    """Read a split from the hub copy. It holds only the gold pairs, so mining among them is an easier task."""
    src, _ = parse_pair(pair, card)
    hub = card.sources["hub"][0]
    config, split = hub["config"].format(src=src), hub["splits"][role]
    rows = load_hub_split(hub["dataset"], config, split, revision=hub.get("revision"))
    sources, targets = [str(s).strip() for s in rows[hub["source"]]], [str(t).strip() for t in rows[hub["target"]]]
    if hub.get("source_id") and hub.get("target_id"):  # BUCC's own ids, so predictions match BUCC's gold files
        src_ids, trg_ids = [str(i) for i in rows[hub["source_id"]]], [str(i) for i in rows[hub["target_id"]]]
    else:
        src_ids = [f"{src}-{i:09d}" for i in range(len(sources))]
        trg_ids = [f"en-{i:09d}" for i in range(len(targets))]
    return BuccSplit(
        pair,
        split,
        src_ids,
        sources,
        trg_ids,
        targets,
        set(zip(src_ids, trg_ids)),
        f"{hub_source(hub['dataset'], config, split, hub.get('revision'))} (gold pairs only)",
    )


def available_pairs(data_dir: Path, card: TaskCard) -> list[str]:
    """The card's pairs that have a tuning split in ``data_dir``; RxError when there is none."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RxError(f"{data_dir}: no such data folder")
    layout, found = card.sources["local"], []
    for pair in card.pairs:
        src, trg = pair.split("-")
        names = [
            folder / layout["source"].format(pair=pair, split=split, src=src, trg=trg)
            for folder in (data_dir, data_dir / pair)
            for split in card.splits["tune"]
        ]
        if any(name.exists() for name in names):
            found.append(pair)
    if not found:
        raise RxError(f"{data_dir}: no BUCC files found (expected e.g. zh-en.sample.zh or zh-en.dev.zh)")
    return found
