"""An exclusive lock on an output (a folder or file rx writes), held for a whole run: a second rx process that
would write the same output stops at once with one line naming the process that holds it.

The lock is ``flock`` on a small file beside the output (``.NAME.rx-lock``: the output itself may not exist yet,
or be replaced by a rename), removed when the run ends; the kernel releases the lock when the holder exits,
however it exits, so a killed run never leaves a stale lock (only its empty file, reused by the next run).
``flock`` is local to one machine unless the file system forwards it (NFSv4 does).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from retrieval_xfer.errors import RxError


def lock_path(output: Path) -> Path:
    """The lock file of ``output``."""
    output = Path(output)
    return output.parent / f".{output.name}.rx-lock"


@contextlib.contextmanager
def hold_output_lock(output: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``output`` while the block runs; RxError naming the holder if another process
    (or another run in this one) holds it."""
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path).st_ino:  # the holder removed this file as we opened it
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            raise RxError(f"{output}: in use by {_holder(fd)}; wait for it to finish or write elsewhere") from None
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
            ).encode(),
        )
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)  # removed while still held; a process that opened it meanwhile sees another inode
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        holder = {}
    if not holder:
        return "another rx process"
    return f"rx process {holder.get('pid')} on {holder.get('host')} (since {holder.get('since')})"


def check_free(output: Path) -> None:
    """RxError now if another process holds ``output``'s lock: a cheap early check before a long set-up (loading
    a model), made again for real by ``hold_output_lock``."""
    with hold_output_lock(output):
        pass
