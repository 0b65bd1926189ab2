"""Fast answers about the Hugging Face Hub, so that an unreachable hub fails in seconds, not after retries."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

_TRUE = {"1", "true", "yes", "on"}


def hub_offline_requested() -> bool:
    """True when the user asked for offline mode (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the hub endpoint (``HF_ENDPOINT``, default huggingface.co) opens within ``timeout``.

    Returns False at once in offline mode. This is a reachability probe, not an authentication check.
    """
    if hub_offline_requested():
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False
