"""Reading an export folder back without loading it: memory-mapped shards, ids, the encoder spec, and the
sentences when the exported file is still at hand. Every defect is one line naming the folder and the problem."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_xfer.checksums import listed_file, verify_sha256
from retrieval_xfer.errors import RxError
from retrieval_xfer.json_file import read_json_object
from retrieval_xfer.provenance import file_sha256
from retrieval_xfer.specs import EncoderSpec
from retrieval_xfer.vectors import NpyVectors, ShardedVectors

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"


def is_export(path: Path) -> bool:
    """Whether ``path`` is an export folder (it has ``manifest.json``)."""
    return Path(path).is_dir() and (Path(path) / MANIFEST_FILE).is_file()


def read_manifest(folder: Path) -> dict[str, Any]:
    """``manifest.json`` of an export; RxError when it is missing or corrupt."""
    return read_json_object(
        Path(folder) / MANIFEST_FILE,
        "manifest",
        missing=f"{folder}: not an rx export (no {MANIFEST_FILE})",
        required=("encoder", "shards", "count", "complete", "input", "dtype", "shard_size"),
    )


def resume_command(folder: Path, manifest: dict[str, Any]) -> str:
    """The ``rx export`` command that finishes an incomplete export (same settings, same folder)."""
    spec = manifest["encoder"]
    args = [
        "rx",
        "export",
        "--model",
        spec["model"],
        "--input",
        manifest["input"]["path"],
        "--out",
        str(folder),
        "--shard-size",
        str(manifest["shard_size"]),
        "--dtype",
        manifest["dtype"],
    ]
    if not spec["pooling"].startswith("own:"):
        args += ["--layer", str(spec["layer"])]
    if spec["pooling"] == "mean-no-special":
        args.append("--pool-skip-special")
    if spec.get("prompt"):
        args += ["--prompt", spec["prompt"]]
    if manifest.get("format", "lines") != "lines":
        args += ["--input-format", manifest["format"]]
    if manifest.get("blank") == "skip":
        args.append("--skip-blank")
    return shlex.join(args)


@dataclass
class ExportCorpus:
    """A complete export: ``vectors`` (memory-mapped, read block by block), ``ids`` (row i ↔ ids[i]), the
    ``spec`` of the encoder that made them, and the ``manifest``."""

    folder: Path
    vectors: ShardedVectors
    ids: list[str]
    spec: EncoderSpec
    manifest: dict[str, Any]

    def input_file(self) -> Path | None:
        """The exported text file, if it still exists with the bytes it had (same size and SHA-256), so its
        sentences line up with the vectors; otherwise ``None``, with a warning when it exists but changed."""
        source = Path(self.manifest["input"]["path"])
        if not source.is_file():
            return None
        if source.stat().st_size != self.manifest["input"]["bytes"] or file_sha256(source) != self.manifest[
            "input"
        ].get("sha256"):
            logger.warning(
                f"{source}: changed since {self.folder} was exported from it (its SHA-256 differs); "
                "its sentences are not shown"
            )
            return None
        return source


def open_export(folder: Path, verify: bool = True) -> ExportCorpus:
    """Open a complete export for reading. RxError for a folder that is not an export, an incomplete export
    (naming the command that finishes it), a missing or truncated shard, ids that disagree with the vectors, or,
    with ``verify``, a shard or ids file whose SHA-256 is not the one the manifest recorded."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest["complete"]:
        raise RxError(
            f"{folder}: export is incomplete ({manifest['count']} of {manifest.get('total', '?')} "
            f"sentences); finish it with: {resume_command(folder, manifest)}"
        )
    try:
        spec = EncoderSpec(**manifest["encoder"])
    except TypeError as err:
        raise RxError(f"{folder / MANIFEST_FILE}: corrupt encoder block ({err})") from None
    parts, ids = [], []
    for shard in manifest["shards"]:
        vector_file = listed_file(folder, shard["file"], folder / MANIFEST_FILE)
        ids_file = listed_file(folder, shard["ids"], folder / MANIFEST_FILE)
        if verify:
            verify_sha256(vector_file, shard.get("sha256"))
            verify_sha256(ids_file, shard.get("ids_sha256"))
        vectors = NpyVectors(vector_file)
        try:
            shard_ids = ids_file.read_text(encoding="utf-8").split("\n")[:-1]
        except (OSError, UnicodeDecodeError) as err:
            raise RxError(f"{folder / shard['ids']}: unreadable ids ({type(err).__name__})") from None
        if not len(vectors) == len(shard_ids) == shard["count"]:
            raise RxError(
                f"{folder / shard['file']}: {len(vectors)} vectors and {len(shard_ids)} ids, manifest "
                f"says {shard['count']}: corrupt export"
            )
        if vectors.dimension != spec.dimension:
            raise RxError(f"{folder / shard['file']}: dimension {vectors.dimension}, the encoder's is {spec.dimension}")
        parts.append(vectors)
        ids.extend(shard_ids)
    if len(ids) != manifest["count"] or not parts:
        raise RxError(f"{folder}: corrupt export ({len(ids)} ids in shards, manifest says {manifest['count']})")
    return ExportCorpus(folder, ShardedVectors(parts), ids, spec, manifest)
