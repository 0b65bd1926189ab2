"""The ``Encoder``: one fixed embedding function (model, layer, pooling, prompt) and batched encoding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from retrieval_xfer.encoding.batching import encode_longest_first
from retrieval_xfer.specs import EncoderSpec


class Encoder:
    """Encodes sentences into L2-normalised float32 vectors with a sentence-transformers pipeline.

    Batches are sorted by length (sentence-transformers does it) to minimise padding; ``encode`` returns an
    array of shape (len(sentences), spec.dimension) in input order.
    """

    def __init__(
        self, model: SentenceTransformer, spec: EncoderSpec, batch_size: int = 32, show_progress: bool = True
    ) -> None:
        self.model = model
        self.spec = spec
        self.batch_size = batch_size
        self.show_progress = show_progress

    def encode(self, sentences: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """Encode ``sentences`` (the spec's prompt is prepended) to a float32 array, one unit-length row each.

        Sentences are sorted by length (longest first, so padding is minimal and memory peaks early) and fed
        in chunks, with one progress bar labelled ``desc`` counting sentences.
        """
        return encode_longest_first(
            sentences,
            self.spec.dimension,
            self.batch_size * 16,
            lambda texts: self.model.encode(
                texts,
                prompt=self.spec.prompt or None,
                batch_size=self.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            ),
            desc,
            self.show_progress,
        )
