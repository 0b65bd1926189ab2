"""Checking the files an rx folder lists in its own JSON (an export's manifest, an index's meta.json): each name
must stay inside its folder, and each file must still have the SHA-256 recorded when it was written."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.provenance import file_sha256


def listed_file(folder: Path, name: object, listed_in: Path) -> Path:
    """``folder / name`` for a file name read from ``listed_in``; RxError for anything but a plain file name (an
    absolute path, ``..``, a subfolder), which would let a crafted file send rx outside ``folder``."""
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise RxError(f"{listed_in}: corrupt ({name!r} is not a plain file name)")
    return Path(folder) / name


def verify_sha256(path: Path, expected: str | None) -> None:
    """RxError ``corrupt: checksum mismatch in PATH`` when ``path``'s SHA-256 is not ``expected`` (``None``: a file
    written before checksums were recorded, nothing to compare)."""
    if expected is not None and file_sha256(path) != expected:
        raise RxError(f"corrupt: checksum mismatch in {path}")
