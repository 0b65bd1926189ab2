"""Mean pooling that leaves out special tokens (``--pool-skip-special``), as a sentence-transformers module."""

from __future__ import annotations

import torch
from sentence_transformers.base.modules import Module


class SpecialTokenFreeMeanPooling(Module):
    """Masked mean of token embeddings over the tokens that are kept by the attention mask and are not special.

    Input features: ``token_embeddings`` (batch, seq, dim), ``attention_mask`` (batch, seq), ``input_ids``.
    Output: adds ``sentence_embedding`` (batch, dim). A sentence made only of special tokens falls back to the
    plain masked mean (never a division by zero).
    """

    config_keys: list[str] = ["special_token_ids"]

    def __init__(self, special_token_ids: list[int]) -> None:
        super().__init__()
        self.special_token_ids = sorted(int(i) for i in special_token_ids)

    def forward(self, features: dict[str, torch.Tensor], **kwargs) -> dict[str, torch.Tensor]:
        tokens = features["token_embeddings"]
        mask = features["attention_mask"].bool()
        special = torch.isin(features["input_ids"], torch.tensor(self.special_token_ids, device=tokens.device))
        keep = mask & ~special
        keep = torch.where(keep.any(dim=1, keepdim=True), keep, mask)
        weights = keep.unsqueeze(-1).to(tokens.dtype)
        features["sentence_embedding"] = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return features

    def save(self, output_path: str, *args, **kwargs) -> None:
        self.save_config(output_path)
