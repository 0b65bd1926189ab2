"""Human-readable descriptions of rx output folders (indexes and exports)."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.checksums import listed_file, verify_sha256
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.reader import MANIFEST_FILE, open_export, read_manifest
from retrieval_xfer.indexing.factory import IndexParams
from retrieval_xfer.indexing.store import META_FILE, load_index


def _encoder_lines(encoder: dict) -> list[str]:
    return [
        f"model:       {encoder['model']}",
        f"weights:     sha256 {encoder['weights_sha256'][:16]}…",
        f"layer:       {encoder['layer']} of {encoder['num_layers']} (hidden_states index; 0 = embeddings)",
        f"pooling:     {encoder['pooling']}{' + L2 normalisation' if encoder['normalized'] else ''}",
        f"prompt:      {encoder['prompt']!r}",
        f"max length:  {encoder['max_length']} tokens",
        f"dimension:   {encoder['dimension']}",
    ]


def _verify_shards(folder: Path, manifest: dict) -> None:
    """RxError when a shard of an (incomplete) export differs from the SHA-256 its manifest recorded."""
    for shard in manifest["shards"]:
        verify_sha256(listed_file(folder, shard["file"], folder / MANIFEST_FILE), shard.get("sha256"))
        verify_sha256(listed_file(folder, shard["ids"], folder / MANIFEST_FILE), shard.get("ids_sha256"))


def describe_folder(folder: Path, verify: bool = True) -> str:
    """Describe an index folder (``meta.json``) or an export folder (``manifest.json``); RxError otherwise, and,
    with ``verify``, when a file differs from the SHA-256 its folder recorded (as every other reader checks)."""
    folder = Path(folder)
    if (folder / META_FILE).is_file():
        saved = load_index(folder, verify)
        meta = saved.meta
        return "\n".join(
            [
                f"index:       {folder}",
                f"type:        {IndexParams(**meta.index).describe()}",
                f"count:       {meta.count} sentences{'' if meta.has_sentences else ' (sentences not stored)'}",
                *_encoder_lines(meta.encoder),
                f"source:      {meta.source}",
                f"built:       {meta.created_at} in {meta.build_seconds:.1f}s with rx {meta.rx_version}",
            ]
        )
    if (folder / MANIFEST_FILE).is_file():
        manifest = read_manifest(folder)
        if verify and manifest["complete"]:
            open_export(folder, verify=True)  # the same checks as rx mine and build-index make
        elif verify:
            _verify_shards(folder, manifest)
        state = "complete" if manifest["complete"] else "INCOMPLETE (re-run rx export to resume)"
        state += ", checksums verified" if verify else ", checksums not verified (--no-verify)"
        return "\n".join(
            [
                f"export:      {folder} ({state})",
                f"count:       {manifest['count']} embeddings in {len(manifest['shards'])} shard(s) of up to "
                f"{manifest['shard_size']}, {manifest['dtype']}",
                *_encoder_lines(manifest["encoder"]),
                f"source:      {manifest['input']['path']}",
                f"created:     {manifest['created_at']} with rx {manifest['rx_version']}",
            ]
        )
    if not folder.exists():
        raise RxError(f"{folder}: no such folder")
    raise RxError(f"{folder}: not an rx index or export folder (no meta.json or manifest.json)")
