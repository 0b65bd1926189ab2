"""Where ``rx mine`` and ``rx score`` may write their pairs (``--format``'s files and the ``OUT.json`` sidecar), checked
before any work by the rules of ``outputs``: no output is an input, and an existing one is replaced only with
``--overwrite`` when the sidecar beside it says the same command wrote it."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.mining.pair_formats import output_paths
from retrieval_xfer.outputs import OutputKind, check_not_an_input, check_replaceable_file


def sidecar_path(out: Path, kind: OutputKind) -> Path:
    """``OUT.json``: what the run wrote and measured."""
    return Path(out).with_name(Path(out).name + kind.marker)


def check_pair_outputs(
    out: Path,
    fmt: str,
    langs: tuple[str | None, str | None],
    kind: OutputKind,
    inputs: list[Path | None],
    overwrite: bool,
    resuming: bool = False,
) -> list[Path]:
    """The files ``fmt`` writes for ``out``; RxError naming the first one that is an input (or inside one), a
    folder, or exists and may not be replaced (``resuming``: an unfinished run of the same output, which rewrites
    them): ``outputs.check_replaceable_file`` for ``out``, the format's other files and the sidecar."""
    paths = output_paths(out, fmt, langs)
    sidecar = sidecar_path(out, kind)
    check_not_an_input([*paths, sidecar], inputs)
    if resuming:
        return paths
    check_replaceable_file(Path(out), kind, overwrite, also=[p for p in paths if p != Path(out)])
    return paths
