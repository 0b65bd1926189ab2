"""The ``Encoder``: one fixed embedding function (model, layer, pooling, prompt) and batched encoding."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sentence_transformers import SentenceTransformer
from tqdm.auto import tqdm


@dataclass(frozen=True)
class EncoderSpec:
    """Everything that determines the vectors an encoder produces; stored in index and export metadata.

    ``layer`` follows Hugging Face ``hidden_states`` numbering (0 = embeddings, ``num_layers`` = last).
    ``pooling`` is ``"mean"`` (special tokens included), ``"mean-no-special"``, or ``"own:..."`` for a
    sentence-transformers model used with its own pipeline. ``weights_sha256`` hashes the parameters that run.
    """

    model: str
    weights_sha256: str
    layer: int
    num_layers: int
    pooling: str
    prompt: str
    max_length: int
    dimension: int
    normalized: bool = True

    def to_dict(self) -> dict:
        """A JSON-ready dict of the fields."""
        return dataclasses.asdict(self)


class Encoder:
    """Encodes sentences into L2-normalised float32 vectors with a sentence-transformers pipeline.

    Batches are sorted by length (sentence-transformers does it) to minimise padding; ``encode`` returns an
    array of shape (len(sentences), spec.dimension) in input order.
    """

    def __init__(self, model: SentenceTransformer, spec: EncoderSpec, batch_size: int = 32,
                 show_progress: bool = True) -> None:
        self.model = model
        self.spec = spec
        self.batch_size = batch_size
        self.show_progress = show_progress

    def encode(self, sentences: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """Encode ``sentences`` (the spec's prompt is prepended) to a float32 array, one unit-length row each.

        Sentences are sorted by length (longest first, so padding is minimal and memory peaks early) and fed
        in chunks, with one progress bar labelled ``desc`` counting sentences.
        """
        vectors = np.zeros((len(sentences), self.spec.dimension), dtype=np.float32)
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        chunk = self.batch_size * 16
        with tqdm(total=len(sentences), desc=desc, unit="sent", disable=not self.show_progress) as bar:
            for start in range(0, len(order), chunk):
                rows = order[start:start + chunk]
                vectors[rows] = self.model.encode(
                    [sentences[i] for i in rows],
                    prompt=self.spec.prompt or None,
                    batch_size=self.batch_size,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                ).astype(np.float32, copy=False)
                bar.update(len(rows))
        return vectors
