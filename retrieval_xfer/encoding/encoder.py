"""The ``Encoder``: one fixed embedding function (model, layer, pooling, prompt) and batched encoding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sentence_transformers import SentenceTransformer

from retrieval_xfer.encoding.batching import batching, encode_in_batches, sentence_batches
from retrieval_xfer.specs import EncoderSpec


class Encoder:
    """Encodes sentences into L2-normalised float32 vectors with a sentence-transformers pipeline.

    Batches group sentences of similar length (as many as fit in ``max_tokens``, default 2,048, or a fixed
    ``batch_size``: see ``encoding.batching``); ``encode`` returns an array of shape (len(sentences),
    spec.dimension) in input order.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        spec: EncoderSpec,
        batch_size: int | None = None,
        show_progress: bool = True,
        max_tokens: int | None = None,
    ) -> None:
        self.model = model
        self.spec = spec
        self.batch_size, self.max_tokens = batching(batch_size, max_tokens)
        self.show_progress = show_progress

    @property
    def tokenizer(self):
        """The model's tokenizer (what the token budget and speed measurements count with)."""
        return self.model.tokenizer

    def batches(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """Row indices of each forward pass over ``sentences``, longest first (``encoding.batching``)."""
        return sentence_batches(
            sentences, self.tokenizer, self.spec.prompt, self.spec.max_length, self.batch_size, self.max_tokens
        )

    def encode(self, sentences: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """Encode ``sentences`` (the spec's prompt is prepended) to a float32 array, one unit-length row each.

        Sentences are sorted by length (longest first, so padding is minimal and memory peaks early) and fed
        one batch at a time, with one progress bar labelled ``desc`` counting sentences.
        """
        return encode_in_batches(
            sentences,
            self.spec.dimension,
            self.batches(sentences),
            lambda texts: self.model.encode(
                texts,
                prompt=self.spec.prompt or None,
                batch_size=len(texts),
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            ),
            desc,
            self.show_progress,
        )
