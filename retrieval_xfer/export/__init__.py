"""Embedding export for downstream bitext mining: sharded ``.npy`` files, ids and a manifest."""

from retrieval_xfer.export.shards import export_embeddings, load_export

__all__ = ["export_embeddings", "load_export"]
