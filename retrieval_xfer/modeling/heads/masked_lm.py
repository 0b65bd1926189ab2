"""Masked language modelling (continued multilingual MLM during intermediate training), decoder tied to embeddings."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.modeling.heads.base import TaskHead


class MaskedLMHead(TaskHead):
    """Input: one feature dict with masked ``input_ids``. Labels: (batch, seq) original ids at masked positions,
    -100 elsewhere. dense → GELU → LayerNorm → projection onto the (shared) input embedding matrix + bias."""

    head_type = "masked-lm"

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__(model, config)
        self.dense = nn.Linear(self.hidden, self.hidden)
        self.norm = nn.LayerNorm(self.hidden, eps=1e-5)
        self.bias = nn.Parameter(torch.zeros(model[0].auto_model.get_input_embeddings().num_embeddings))

    def logits(self, features: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """(batch, seq, vocabulary)."""
        x = self.norm(nn.functional.gelu(self.dense(self.token_embeddings(features[0]))))
        return x @ self.model[0].auto_model.get_input_embeddings().weight.T + self.bias

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        logits = self.logits(features)
        return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
