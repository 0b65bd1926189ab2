"""Extractive QA (SQuAD, TyDiQA): start and end logits per token; no answer = both at the first token."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.modeling.heads.base import TaskHead


class SpanHead(TaskHead):
    """Input: one feature dict of (question, context window) sequences. Labels: (batch, 2) start and end token
    positions (0, 0 when the window holds no answer). Loss: mean of the start and end cross-entropies."""

    head_type = "span"

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__(model, config)
        self.qa_outputs = nn.Linear(self.hidden, 2)

    def logits(self, features: list[dict[str, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and end logits, each (batch, seq); padding positions are masked to a large negative value."""
        feature = features[0]
        start, end = self.qa_outputs(self.token_embeddings(feature)).unbind(dim=-1)
        pad = feature["attention_mask"] == 0
        return start.masked_fill(pad, -1e4), end.masked_fill(pad, -1e4)

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        start, end = self.logits(features)
        ce = nn.functional.cross_entropy
        return (ce(start, labels[:, 0]) + ce(end, labels[:, 1])) / 2
