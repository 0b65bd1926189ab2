"""The one rule for every output rx writes: it never replaces what rx did not write, and never writes an input.

- An output that exists is replaced only with ``--overwrite``, and only when it is recognisably the output of the
  same command (its own marker: a manifest, a report, a sidecar of known keys).
- A folder output is replaced only when it holds nothing but that command's own files: anything else in it (a
  user's notes, the input itself) makes the command refuse, naming the first such entry.
- No output may be an input, lie inside an input folder, or hold an input (samples, gold and calibration files
  count as inputs).

Every check runs before any model loads. ``OutputKind`` describes what one command writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.errors import RxError


@dataclass(frozen=True)
class OutputKind:
    """What a command writes: its ``name`` in messages, the files it may leave in an output folder (``files``;
    names ending in ``/`` are its sub-folders), and the ``marker`` file whose JSON object holds every key of
    ``marker_keys`` (for a file output: its sidecar's suffix, e.g. ``.json``)."""

    name: str
    marker: str
    marker_keys: frozenset[str]
    files: frozenset[str] = frozenset()

    def is_own(self, marker_path: Path) -> bool:
        """Whether ``marker_path`` is this command's marker: a JSON object with every one of ``marker_keys``."""
        try:
            payload = json.loads(marker_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return False
        return isinstance(payload, dict) and self.marker_keys <= payload.keys()


def check_not_an_input(outputs: Iterable[Path], inputs: Iterable[Path | None]) -> None:
    """RxError when an output is an input, lies inside an input folder, or holds an input (an output folder that
    contains it)."""
    for output in outputs:
        target = Path(output).resolve()
        for given in inputs:
            if given is None:
                continue
            source = Path(given).resolve()
            if target == source or source in target.parents:
                raise RxError(f"{output}: is the input {given} (or inside it); write the output elsewhere")
            if target in source.parents:
                raise RxError(f"{output}: holds the input {given}; write the output elsewhere")


def check_replaceable_folder(folder: Path, kind: OutputKind, overwrite: bool) -> None:
    """RxError unless ``folder`` may be (re)written by the command of ``kind``: it does not exist, or it is empty,
    or ``overwrite`` is given, it holds ``kind``'s marker and nothing but ``kind``'s own files."""
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise RxError(f"{folder}: exists and is not a folder; choose another --out")
    entries = sorted(folder.iterdir())
    if not entries:
        return
    if not overwrite:
        raise RxError(f"{folder}: already exists (pass --overwrite to replace it)")
    if not kind.is_own(folder / kind.marker):
        raise RxError(
            f"{folder}: not an {kind.name} output (no {kind.marker} of rx's); --overwrite replaces only what "
            f"{kind.name} wrote: choose another --out"
        )
    for entry in entries:
        own = entry.name in kind.files or (entry.is_dir() and f"{entry.name}/" in kind.files)
        if not own:
            raise RxError(
                f"{folder}: holds {entry.name}, which {kind.name} did not write; --overwrite would delete it: move "
                "it away or choose another --out"
            )


def check_replaceable_file(path: Path, kind: OutputKind, overwrite: bool, also: Sequence[Path] = ()) -> None:
    """RxError unless file output ``path``, the other files it comes with (``also``: the files of a format that
    writes several) and its sidecar (``path`` + ``kind.marker``) may be written: none exists, or ``overwrite`` is
    given and the sidecar is ``kind``'s. A folder is never a file output, and a sidecar that is not rx's is never
    replaced."""
    path = Path(path)
    sidecar = path.with_name(path.name + kind.marker)
    if sidecar.exists() and not sidecar.is_dir() and not kind.is_own(sidecar):
        raise RxError(
            f"{sidecar}: exists and is not an {kind.name} sidecar; rx will not replace it: choose another --out"
        )
    for each in [path, *map(Path, also), sidecar]:
        if each.is_dir():
            raise RxError(f"{each}: is a folder; --out {path} writes a file there: choose another --out")
        if each.exists():
            if not overwrite:
                raise RxError(f"{each}: already exists (pass --overwrite to replace it)")
            if not sidecar.exists():
                raise RxError(
                    f"{each}: not an {kind.name} output (no sidecar {sidecar.name}); --overwrite replaces only what "
                    f"{kind.name} wrote: choose another --out"
                )


def check_own_file(path: Path, kind: OutputKind) -> None:
    """RxError when ``path`` exists and is not ``kind``'s own output (a folder, or a file whose JSON lacks
    ``kind.marker_keys``): outputs that rx rewrites on every run (a result file) still never replace a user's file."""
    path = Path(path)
    if path.is_dir():
        raise RxError(f"{path}: is a folder; give the file to write")
    if path.exists() and not kind.is_own(path):
        raise RxError(f"{path}: exists and is not an {kind.name} output; rx will not replace it: choose another path")
