"""Multiple choice (HellaSwag, CosmosQA, CommonsenseQA): one score per (context, choice) pair."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.modeling.heads.base import TaskHead
from retrieval_xfer.modeling.heads.classification import FirstTokenClassifier


class MultipleChoiceHead(TaskHead):
    """Input: one feature dict of (batch × num_choices, seq) pair sequences, choices of an example adjacent.
    Labels: (batch,) index of the right choice. Config: ``num_choices``, ``dropout`` (0.1).

    Each pair is scored by dropout → dense → tanh → dropout → linear(1) on its first token; the scores of an
    example's choices are a softmax over choices (cross-entropy).
    """

    head_type = "multiple-choice"

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__(model, {"dropout": 0.1, **config})
        self.scorer = FirstTokenClassifier(self.hidden, 1, self.config["dropout"])

    def logits(self, features: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """(batch, num_choices)."""
        return self.scorer(self.token_embeddings(features[0])).view(-1, self.config["num_choices"])

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self.logits(features), labels)
