"""Sentence or sentence-pair classification (NLI, QQP, PAWS-X) over the first token."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.modeling.heads.base import TaskHead


class FirstTokenClassifier(nn.Module):
    """dropout → dense → tanh → dropout → linear, applied to the first token (the RoBERTa/XLM-R recipe)."""

    def __init__(self, hidden: int, outputs: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, outputs)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.dropout(tokens[:, 0])
        x = torch.tanh(self.dense(x))
        return self.out_proj(self.dropout(x))


class ClassificationHead(TaskHead):
    """Input: one feature dict (a text or a text pair encoded as one sequence). Labels: (batch,) class ids.

    Config: ``labels`` (list of names), ``dropout`` (0.1). Loss: cross-entropy.
    """

    head_type = "classification"

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__(model, {"dropout": 0.1, **config})
        self.classifier = FirstTokenClassifier(self.hidden, len(self.config["labels"]), self.config["dropout"])

    def logits(self, features: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """(batch, num_labels)."""
        return self.classifier(self.token_embeddings(features[0]))

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(self.logits(features), labels)
