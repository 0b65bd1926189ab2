"""Human-readable descriptions of rx output folders (indexes and exports)."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.export.reader import MANIFEST_FILE, read_manifest
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


def describe_folder(folder: Path) -> str:
    """Describe an index folder (``meta.json``) or an export folder (``manifest.json``); RxError otherwise."""
    folder = Path(folder)
    if (folder / META_FILE).is_file():
        saved = load_index(folder)
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
        state = "complete" if manifest["complete"] else "INCOMPLETE (re-run rx export to resume)"
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
