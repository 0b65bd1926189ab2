"""Where ``rx mine`` and ``rx score`` may write their pairs (``--format``'s files and the ``OUT.json`` sidecar), checked
before any work by the rules of ``outputs``: no output is an input, and an existing one is replaced only with
``--overwrite`` when the sidecar beside it says the same command wrote it."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.pair_formats import output_paths
from retrieval_xfer.outputs import OutputKind, check_not_an_input


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
    them). The sidecar and ``out`` follow ``outputs.check_replaceable_file``; moses's text files must be the
    sidecar's own too."""
    paths = output_paths(out, fmt, langs)
    sidecar = sidecar_path(out, kind)
    check_not_an_input([*paths, sidecar], inputs)
    if resuming:
        return paths
    if sidecar.exists() and not sidecar.is_dir() and not kind.is_own(sidecar):
        raise RxError(
            f"{sidecar}: exists and is not an {kind.name} sidecar; rx will not replace it: choose another --out"
        )
    for path in [*paths, sidecar]:
        if path.is_dir():
            raise RxError(f"{path}: is a folder; --out {out} --format {fmt} writes a file there: choose another --out")
        if path.exists():
            if not overwrite:
                raise RxError(f"{path}: already exists (pass --overwrite to replace it)")
            if not sidecar.exists():
                raise RxError(
                    f"{path}: not an {kind.name} output (no sidecar {sidecar.name}); --overwrite replaces only what "
                    f"{kind.name} wrote: choose another --out"
                )
    return paths
