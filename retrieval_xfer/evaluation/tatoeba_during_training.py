"""Tatoeba while training (``rx train --eval-every``): a sentence-transformers evaluator on the live encoder.

The trainer calls it every ``eval_steps`` steps and logs what it returns through its own logging (console,
TensorBoard, ``state.log_history``), prefixed ``eval_``. It pools ``hidden_states[layer]`` of the weights being
trained (no copy), so the numbers are those ``rx eval tatoeba --layer K`` would give for a checkpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.tatoeba import resolve_languages
from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.encoding.loader import resolve_layer
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba
from retrieval_xfer.specs import EncoderSpec


@contextlib.contextmanager
def pooled_at_layer(model: SentenceTransformer, layer: int) -> Iterator[None]:
    """Make the model's Transformer emit ``hidden_states[layer]`` as its token embeddings, for the duration.

    The live weights are used as they are (no copy); the model's own configuration is restored afterwards.
    """
    transformer = model[0]
    saved = transformer.modality_config
    transformer.modality_config = {**saved, "text": {**saved["text"], "method_output_name": ["hidden_states", layer]}}
    try:
        yield
    finally:
        transformer.modality_config = saved


class TatoebaDuringTraining(SentenceEvaluator):
    """Tatoeba accuracy (mean of both directions) on ``languages`` read from ``data_dir``, mean-pooled at ``layer``.

    Inputs: the model being trained (passed by the trainer). Output: ``{"tatoeba/<lang>": accuracy, ...,
    "tatoeba/mean": mean accuracy, "layer": layer}``; ``primary_metric`` is ``tatoeba/mean``. ``layer=None`` is
    rx's default layer of the model (resolved on the first call).
    """

    def __init__(self, data_dir: Path, languages: str, layer: int | None = None, prompt: str = "") -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.card = load_card("tatoeba")
        self.languages = resolve_languages(languages, self.card)
        self.requested_layer = layer
        self.prompt = prompt
        self.primary_metric = "tatoeba/mean"

    def __call__(
        self, model: SentenceTransformer, output_path: str | None = None, epoch: float = -1, steps: int = -1
    ) -> dict[str, float]:
        config = model[0].auto_model.config
        layer = resolve_layer(self.requested_layer, config.num_hidden_layers, "the model in training")
        spec = EncoderSpec(
            model="(training)",
            weights_sha256="",
            layer=layer,
            num_layers=config.num_hidden_layers,
            pooling="mean",
            prompt=self.prompt,
            max_length=int(model.max_seq_length),
            dimension=config.hidden_size,
        )
        was_training = model.training
        model.eval()
        try:
            with pooled_at_layer(model, layer), torch.no_grad():
                result = evaluate_tatoeba(
                    Encoder(model, spec, show_progress=False), self.languages, self.card, self.data_dir
                )
        finally:
            model.train(was_training)
        scores: dict[str, Any] = {f"tatoeba/{code}": s["mean"] for code, s in result["scores"].items()}
        return {**scores, "tatoeba/mean": result["averages"]["mean"], "layer": float(layer)}
