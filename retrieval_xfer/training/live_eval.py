"""Tatoeba on a few languages while training (``--eval-every``), on the live encoder at a chosen layer."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from transformers import TrainerCallback

from retrieval_xfer.data.tatoeba import resolve_languages
from retrieval_xfer.encoding.encoder import Encoder, EncoderSpec
from retrieval_xfer.encoding.loader import resolve_layer
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba
from retrieval_xfer.tasks import load_card


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


class TatoebaDuringTraining(TrainerCallback):
    """Every ``every`` optimizer steps, Tatoeba accuracy (both directions, mean) on ``languages`` from ``data_dir``,
    mean-pooled at ``layer`` (None: rx's default layer). Results go to the trainer's logs and ``log_path``."""

    def __init__(self, model: SentenceTransformer, every: int, data_dir: Path, languages: str,
                 layer: int | None, prompt: str, log_path: Path) -> None:
        self.model, self.every, self.data_dir, self.prompt, self.log_path = model, every, Path(data_dir), prompt, log_path
        self.card = load_card("tatoeba")
        self.languages = resolve_languages(languages, self.card)
        num_layers = model[0].auto_model.config.num_hidden_layers
        self.layer = resolve_layer(layer, num_layers, "the model in training")
        self.num_layers = num_layers
        self.history: list[dict[str, Any]] = []

    def evaluate(self) -> dict[str, float]:
        """Accuracies now: ``tatoeba/<lang>`` (mean of both directions) and ``tatoeba/mean``."""
        spec = EncoderSpec(model="(training)", weights_sha256="", layer=self.layer, num_layers=self.num_layers,
                           pooling="mean", prompt=self.prompt, max_length=int(self.model.max_seq_length),
                           dimension=self.model[0].auto_model.config.hidden_size)
        was_training = self.model.training
        self.model.eval()
        try:
            with pooled_at_layer(self.model, self.layer), torch.no_grad():
                result = evaluate_tatoeba(Encoder(self.model, spec, show_progress=False), self.languages, self.card,
                                          self.data_dir)
        finally:
            self.model.train(was_training)
        scores = {f"tatoeba/{code}": s["mean"] for code, s in result["scores"].items()}
        return {**scores, "tatoeba/mean": result["averages"]["mean"]}

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % self.every == 0:
            entry = {"step": state.global_step, "layer": self.layer, **self.evaluate()}
            self.history.append(entry)
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")
        return control
