"""Atomic outputs: write into a temporary sibling, then rename, so a crash never leaves a half-written result."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from retrieval_xfer.errors import RxError


@contextlib.contextmanager
def atomic_directory(final: Path, overwrite: bool = False, locked: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``final``; on success it replaces ``final``, on error it is removed.

    Raises FileExistsError if ``final`` exists and ``overwrite`` is false (checked before any work is done).
    ``locked``: the caller holds ``final``'s output lock, so the temporaries of an earlier run of it that was
    killed (SIGKILL, a power cut: nothing could clean up) belong to nobody and are removed first.
    """
    final = Path(final)
    if final.exists() and not overwrite:
        raise FileExistsError(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if locked:
        for stale in [*final.parent.glob(f".{final.name}.tmp-*"), *final.parent.glob(f".{final.name}.old-*")]:
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; the folder gets the usual permissions
    try:
        try:
            yield tmp
        except OSError as err:  # a write inside the folder (a full disk): name the output being written
            raise named(err, final) from None
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))  # a fresh, empty name
            final.rename(trash)  # replaces the empty folder mkdtemp made
            tmp.rename(final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def named(err: BaseException, path: Path) -> BaseException:
    """``err`` itself, or, for an OSError that names no file (a write that failed on a full disk), the same error
    naming ``path``, so the one-line message says which output could not be written."""
    if isinstance(err, OSError) and not err.filename:
        return OSError(err.errno, err.strerror or str(err), str(path))
    return err


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write`` on a new temporary file in ``path``'s folder, then rename it to ``path`` atomically.

    The temporary file is made by ``mkstemp`` (a fresh, unpredictable name opened with ``O_EXCL``, never through
    a symlink another user placed), and removed if anything fails (a full disk included)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a result file gets the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise named(err, path) from None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (``atomic_write_file``)."""
    atomic_write_file(path, lambda f: f.write(text.encode("utf-8")))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically. A NaN or an infinity is not JSON: RxError naming the file
    and the first key holding one, and nothing written."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise RxError(f"{path}: {_non_finite_key(obj) or 'a value'} is not a finite number; nothing written") from None
    atomic_write_text(path, text + "\n")


def _non_finite_key(obj: Any, where: str = "") -> str:
    """The dotted key of the first NaN or infinity in ``obj`` (``where`` when ``obj`` itself is one)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "a value"
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else []
    for key, value in items:
        found = _non_finite_key(value, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return ""
