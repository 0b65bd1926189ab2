"""Token tagging (CCG supertags, UPOS, NER): a linear layer per token, first sub-word of each word labelled."""

from __future__ import annotations

from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.modeling.heads.base import TaskHead


class TaggingHead(TaskHead):
    """Input: one feature dict (batch, seq). Labels: (batch, seq) tag ids, -100 on sub-words that are not the
    first of a word, on special tokens and on padding. Config: ``labels`` (tag names), ``dropout`` (0.1)."""

    head_type = "tagging"

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__(model, {"dropout": 0.1, **config})
        self.dropout = nn.Dropout(self.config["dropout"])
        self.classifier = nn.Linear(self.hidden, len(self.config["labels"]))

    def logits(self, features: list[dict[str, torch.Tensor]]) -> torch.Tensor:
        """(batch, seq, num_tags)."""
        return self.classifier(self.dropout(self.token_embeddings(features[0])))

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor) -> torch.Tensor:
        logits = self.logits(features)
        return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-100)
