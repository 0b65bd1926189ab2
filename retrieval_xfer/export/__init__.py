"""Embedding export for downstream bitext mining: sharded ``.npy`` files, ids and a manifest."""
