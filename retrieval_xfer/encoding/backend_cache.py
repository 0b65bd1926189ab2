"""The on-disk cache of exported and quantised models, so a second run with the same backend starts in seconds.

An entry is a folder ``<root>/<key>/`` whose key hashes what determines the exported graph: the source weights
(``weights_sha256``), the layer, the pooling, the backend and the quantisation. Its ``manifest.json`` lists the
SHA-256 of every file; an entry whose files no longer match (a corrupt or half-copied cache) is detected on load,
rebuilt, and said so. Entries are written through a temporary folder and renamed, never half-written.
The root is ``--backend-cache``, else ``$RX_BACKEND_CACHE``, else ``~/.cache/retrieval_xfer/backends``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.json_file import read_json_object
from retrieval_xfer.provenance import file_sha256, now_iso

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def cache_root(given: str | None = None) -> Path:
    """Where exported models are kept: ``given``, else ``$RX_BACKEND_CACHE``, else ``~/.cache/retrieval_xfer/backends``."""
    return Path(given or os.environ.get("RX_BACKEND_CACHE") or Path.home() / ".cache" / "retrieval_xfer" / "backends")


def entry_key(weights_sha256: str, layer: int, pooling: str, backend: str, quantization: str) -> str:
    """The folder name of one exported model: 24 hex digits of the SHA-256 over what determines its graph."""
    text = json.dumps([FORMAT_VERSION, weights_sha256, layer, pooling, backend, quantization])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def file_hashes(folder: Path) -> dict[str, str]:
    """``name → SHA-256`` of every model file in ``folder`` (the manifest left out)."""
    return {p.name: file_sha256(p) for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name != MANIFEST}


def runtime_sha256(hashes: dict[str, str]) -> str:
    """One hash of what runs: the SHA-256 over the sorted ``name:sha256`` lines of an entry's files."""
    return hashlib.sha256("\n".join(f"{n}:{h}" for n, h in sorted(hashes.items())).encode()).hexdigest()


def read_entry(folder: Path) -> tuple[dict[str, Any] | None, str]:
    """``(manifest, "")`` for a sound entry, ``(None, why)`` for a missing or damaged one."""
    manifest_file = Path(folder) / MANIFEST
    try:
        manifest = read_json_object(manifest_file, "cache manifest", missing="not cached")
    except RxError as err:
        return None, str(err)
    if file_hashes(folder) != manifest.get("files"):
        return None, f"{folder}: files do not match their recorded SHA-256 (corrupt or incomplete cache entry)"
    return manifest, ""


def manifest_for(folder: Path, **fields: Any) -> dict[str, Any]:
    """The manifest of a freshly built entry: the files' hashes, the runtime hash, when, and ``fields``."""
    hashes = file_hashes(folder)
    return {"format_version": FORMAT_VERSION, "created": now_iso(), "files": hashes,
            "runtime_sha256": runtime_sha256(hashes), "bytes": sum(p.stat().st_size for p in Path(folder).iterdir()),
            **fields}
