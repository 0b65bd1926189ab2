"""Per-line language identification with a library that ships its model in its wheel (works offline).

Two are wrapped, both in the ``lid`` extra; ``bench/language_id.py`` compares them on real text (README:
"Preparing raw text" has the numbers and why ``py3langid`` is the default). ``identify`` returns ISO 639-1
codes (None where the library declines to answer)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from retrieval_xfer.errors import RxError
from retrieval_xfer.prepare.languages import candidate_codes
from retrieval_xfer.prepare.options import IDENTIFIERS


class LanguageIdentifier(Protocol):
    name: str

    def knows(self, lang: str) -> bool:
        """Whether ``lang`` (ISO 639-1) is one of the languages this identifier can answer."""

    def identify(self, texts: Sequence[str]) -> list[str | None]:
        """The ISO 639-1 code of each text's language."""


# ISO 639-3 individual languages an identifier may name, and the ISO 639-1 macrolanguage they belong to: asked for
# zh, a line py3langid calls Wu or Cantonese is Chinese (on real Chinese UI text it names 6 % of lines so).
MACROLANGUAGE = {"wuu": "zh", "yue": "zh", "cmn": "zh", "nb": "no", "nn": "no"}


def is_language(found: str | None, wanted: str) -> bool:
    """Whether an identifier's answer ``found`` counts as ``wanted`` (itself, or within the macrolanguage)."""
    return found == wanted or (found is not None and MACROLANGUAGE.get(found) == wanted)


def _missing(module: str) -> RxError:
    return RxError(f"language identification needs {module}: pip install 'retrieval_xfer[lid]' (or --lid none)")


class Py3LangId:
    """py3langid (langid.py's model, 97 languages, numpy): fast, one line at a time."""

    name = "py3langid"

    def __init__(self) -> None:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError:
            raise _missing("py3langid") from None
        self._model = LanguageIdentifier.from_model_file(MODEL_FILE)
        self._known = set(self._model.nb_classes)

    def knows(self, lang: str) -> bool:
        return lang in self._known

    def identify(self, texts: Sequence[str]) -> list[str | None]:
        return [self._model.classify(text)[0] for text in texts]


class Lingua:
    """lingua-language-detector (75 languages, Rust): accurate on short text, slower, ~1 GB of models in
    high-accuracy mode."""

    name = "lingua"

    def __init__(self) -> None:
        try:
            import lingua
        except ImportError:
            raise _missing("lingua-language-detector") from None
        self._detector = lingua.LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models().build()
        self._known = {language.iso_code_639_1.name.lower() for language in lingua.Language.all()}

    def knows(self, lang: str) -> bool:
        return lang in self._known

    def identify(self, texts: Sequence[str]) -> list[str | None]:
        found = self._detector.detect_languages_in_parallel_of(list(texts))
        return [language.iso_code_639_1.name.lower() if language is not None else None for language in found]


def load_identifier(name: str, lang: str) -> tuple[LanguageIdentifier, str]:
    """The identifier ``name`` (one of IDENTIFIERS) and the code it names ``lang`` by (``lang`` itself, its ISO
    639-1 code, or its macrolanguage's: ``languages.candidate_codes``). RxError in one line when it knows none of
    them: rx never drops a whole language because an identifier cannot name it, it refuses and says to keep
    every line with ``--lid none``."""
    if name not in IDENTIFIERS:
        raise RxError(f"--lid {name!r}: choose {', '.join(IDENTIFIERS)} or none")
    identifier: LanguageIdentifier = Py3LangId() if name == "py3langid" else Lingua()
    known = [code for code in candidate_codes(lang) if identifier.knows(code)]
    if not known:
        raise RxError(
            f"--lang {lang!r}: {name} does not know this language, so it cannot check the lines; --lid none keeps "
            "every line (README: Preparing raw text lists the languages each identifier knows)"
        )
    return identifier, known[0]
