"""Connecting to Ray (the ``ray`` extra): a given cluster address, or a local Ray started on this machine.

An unreachable address fails in seconds (a TCP probe before ``ray.init``, which would otherwise retry for
minutes); a missing extra is one line naming it.
"""

from __future__ import annotations

import socket
from types import ModuleType
from urllib.parse import urlparse

from retrieval_xfer.errors import RxError

LOCAL = "local"
_DEFAULT_PORTS = {"ray": 10001, "": 6379}


def import_ray() -> ModuleType:
    """The ``ray`` module, or RxError naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise RxError("--ray needs Ray: pip install 'retrieval_xfer[ray]'") from None
    return ray


def _probe(address: str, timeout: float) -> None:
    parsed = urlparse(address if "://" in address else f"//{address}")
    host, port = parsed.hostname, parsed.port or _DEFAULT_PORTS.get(parsed.scheme, 6379)
    if not host:
        raise RxError(f"--ray {address!r}: expected HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as err:
        raise RxError(f"--ray {address}: no Ray cluster answers at {host}:{port} ({err.strerror or err})") from None


def connect(address: str | None, num_cpus: int | None = None, timeout: float = 5.0) -> ModuleType:
    """``ray`` connected to ``address`` (``None`` or ``"local"``: a local Ray on this machine's cores, or
    ``num_cpus``). Reuses a connection this process already has."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address in (None, "", LOCAL):
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        return ray
    _probe(address, timeout)
    ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    return ray
