"""Tatoeba test sets: choosing languages by ISO 639-1 or 639-3 code, and reading the LASER files or the hub."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.data.cards import TaskCard
from retrieval_xfer.data.hub import hub_source, load_hub_split
from retrieval_xfer.data.text_files import read_parallel
from retrieval_xfer.errors import RxError


@dataclass
class TatoebaLanguage:
    """One language as the user named it (``code``) and as the files name it (``iso3``)."""

    code: str
    iso3: str


@dataclass
class TatoebaPairs:
    """Line-aligned sentences: ``source[i]`` (the other language) translates ``english[i]``."""

    language: TatoebaLanguage
    source: list[str]
    english: list[str]
    origin: str


def resolve_languages(spec: str, card: TaskCard) -> list[TatoebaLanguage]:
    """Parse ``--langs``: a set name from the card (``xtreme``, ``demo``), ``all``, or a comma list of codes.

    Codes may be ISO 639-3 (as in the LASER files) or ISO 639-1; results are keyed by the code as given.
    Raises RxError for an unknown code, naming it.
    """
    iso3_to_iso1: dict[str, str | None] = card.languages
    iso1_to_iso3 = {iso1: iso3 for iso3, iso1 in iso3_to_iso1.items() if iso1}
    spec = spec.strip()
    if spec == "all":
        return [TatoebaLanguage(code, code) for code in iso3_to_iso1]
    codes = card.language_sets.get(spec) or [c.strip() for c in spec.split(",") if c.strip()]
    if not codes:
        raise RxError("--langs is empty; give 'xtreme', 'demo', 'all' or a comma-separated list of language codes")
    languages, seen = [], set()
    for code in codes:
        key = code.lower()
        iso3 = key if key in iso3_to_iso1 else iso1_to_iso3.get(key)
        if iso3 is None:
            sets = ", ".join(f"'{name}' ({len(langs)})" for name, langs in card.language_sets.items())
            raise RxError(
                f"unknown Tatoeba language {code!r}; use ISO 639-1 or 639-3 codes (e.g. de or deu), "
                f"{sets} or 'all' ({len(iso3_to_iso1)})"
            )
        if iso3 not in seen:
            seen.add(iso3)
            languages.append(TatoebaLanguage(code, iso3))
    return languages


def read_tatoeba_local(data_dir: Path, language: TatoebaLanguage, card: TaskCard) -> TatoebaPairs:
    """Read ``tatoeba.<iso3>-eng.<iso3>`` and ``tatoeba.<iso3>-eng.eng`` from ``data_dir`` (LASER layout)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RxError(f"{data_dir}: no such data folder")
    layout = card.sources["local"]
    source = data_dir / layout["source"].format(code=language.iso3)
    english = data_dir / layout["english"].format(code=language.iso3)
    if not source.exists() and not english.exists():
        raise RxError(f"{data_dir}: no Tatoeba files for {language.code!r} (expected {source.name} and {english.name})")
    src_lines, eng_lines = read_parallel(source, english)
    return TatoebaPairs(language, src_lines, eng_lines, str(source))


def read_tatoeba_hub(language: TatoebaLanguage, card: TaskCard) -> TatoebaPairs:
    """Read a language from the first hub source in the card that has it (MTEB's copy, then XTREME's)."""
    errors = []
    for hub in card.sources["hub"]:
        config = hub["config"].format(code=language.iso3)
        try:
            rows = load_hub_split(hub["dataset"], config, hub["split"], revision=hub.get("revision"))
        except RxError as err:
            errors.append(str(err))
            continue
        # google/xtreme's tatoeba configs keep the line's trailing newline: strip, as the LASER files are read
        return TatoebaPairs(
            language,
            [str(s).strip() for s in rows[hub["source"]]],
            [str(s).strip() for s in rows[hub["english"]]],
            hub_source(hub["dataset"], config, hub["split"], hub.get("revision")),
        )
    raise RxError(f"Tatoeba {language.code!r} from the hub failed: {errors[-1] if errors else 'no hub source'}")
