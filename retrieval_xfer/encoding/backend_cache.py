"""The on-disk cache of exported and quantised models, so a second run with the same backend starts in seconds.

An entry is a folder ``<root>/<key>/`` whose key hashes what determines the exported graph: the source weights
(``weights_sha256``), the layer, the pooling, the backend and the quantisation. Its ``manifest.json`` lists the
SHA-256 of every file; an entry whose files no longer match (a corrupt or half-copied cache) is detected on load,
rebuilt, and said so. Entries are written through a temporary folder and renamed, never half-written.

Finding an entry by its key needs the weights hash, which needs the torch model loaded. So that a second run
need not load it, ``<root>/sources/<source key>/`` remembers, for one source folder (keyed by the SHA-256 of its
files) and one set of encoder settings, which entry it made, the torch ``EncoderSpec`` and the tokenizer. It is
only a shortcut: when it is missing or does not match, the model is loaded and the shortcut written again.
The root is ``--backend-cache``, else ``$RX_BACKEND_CACHE``, else ``~/.cache/retrieval_xfer/backends``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_directory, atomic_write_json
from retrieval_xfer.errors import RxError
from retrieval_xfer.json_file import read_json_object
from retrieval_xfer.provenance import file_sha256, now_iso

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def cache_root(given: str | None = None) -> Path:
    """Where exported models are kept: ``given``, else ``$RX_BACKEND_CACHE``, else
    ``~/.cache/retrieval_xfer/backends``."""
    return Path(given or os.environ.get("RX_BACKEND_CACHE") or Path.home() / ".cache" / "retrieval_xfer" / "backends")


def entry_key(weights_sha256: str, layer: int, pooling: str, backend: str, quantization: str) -> str:
    """The folder name of one exported model: 24 hex digits of the SHA-256 over what determines its graph."""
    text = json.dumps([FORMAT_VERSION, weights_sha256, layer, pooling, backend, quantization])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


SOURCES = "sources"
SHORTCUT = "shortcut.json"
TOKENIZER = "tokenizer"


def source_key(source_folder: Path, settings: list[Any]) -> str:
    """The shortcut's name for a model folder and the settings that make its encoder (layer, pooling, prompt,
    max length, backend, quantisation): a SHA-256 over every file under the folder (path and bytes) and them."""
    folder = Path(source_folder)
    digest = hashlib.sha256(json.dumps([FORMAT_VERSION, settings]).encode())
    for path in sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ):
        digest.update(f"{path.relative_to(folder).as_posix()}:{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:24]


def read_shortcut(root: Path, key: str) -> tuple[dict[str, Any], Path] | None:
    """``(shortcut, tokenizer folder)`` when the shortcut ``key`` exists, names an entry inside the cache root (a
    plain folder name) and its tokenizer files are intact."""
    folder = Path(root) / SOURCES / key
    try:
        shortcut = read_json_object(folder / SHORTCUT, "shortcut", missing="", required=("entry", "spec", "tokenizer"))
    except RxError:
        return None
    tokenizer = folder / TOKENIZER
    entry = shortcut["entry"]
    if not isinstance(entry, str) or Path(entry).name != entry or entry in ("", ".", ".."):
        return None  # an entry outside the cache root: not ours; the model is loaded through torch instead
    if not tokenizer.is_dir() or file_hashes(tokenizer) != shortcut["tokenizer"]:
        return None
    return shortcut, tokenizer


def write_shortcut(
    root: Path, key: str, entry: str, spec: dict[str, Any], save_tokenizer: Callable[[Path], Any]
) -> None:
    """Write (or replace) the shortcut ``key`` to ``entry``: the torch spec and the tokenizer ``save_tokenizer``
    saves into the folder it is given."""
    with atomic_directory(Path(root) / SOURCES / key, overwrite=True) as tmp:
        save_tokenizer(tmp / TOKENIZER)
        atomic_write_json(
            tmp / SHORTCUT,
            {
                "format_version": FORMAT_VERSION,
                "entry": entry,
                "spec": spec,
                "tokenizer": file_hashes(tmp / TOKENIZER),
                "created": now_iso(),
            },
        )


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
    return {
        "format_version": FORMAT_VERSION,
        "created": now_iso(),
        "files": hashes,
        "runtime_sha256": runtime_sha256(hashes),
        "bytes": sum(p.stat().st_size for p in Path(folder).iterdir()),
        **fields,
    }
