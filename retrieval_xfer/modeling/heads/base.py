"""What every head shares: the encoder it sits on, token embeddings, and saving/loading its own weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save
from sentence_transformers import SentenceTransformer
from torch import nn

from retrieval_xfer.atomic import atomic_write_file, atomic_write_json
from retrieval_xfer.errors import RunFolderError

HEAD_CONFIG, HEAD_WEIGHTS = "head.json", "head.safetensors"


class TaskHead(nn.Module):
    """A loss module: ``forward(features, labels) -> loss`` over the shared encoder ``model``.

    Subclasses define ``head_type``, build their layers from ``config`` (a JSON-ready dict) and implement
    ``logits(features)``. Only the head's own parameters are saved by ``save``; the encoder is saved with the run.
    """

    head_type: str = ""

    def __init__(self, model: SentenceTransformer, config: dict[str, Any]) -> None:
        super().__init__()
        self.model = model
        self.config = dict(config)
        self.hidden = model[0].auto_model.config.hidden_size

    def token_embeddings(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """The encoder's last-layer token embeddings, (batch, seq, hidden)."""
        return self.model(dict(features))["token_embeddings"]

    def head_state_dict(self) -> dict[str, torch.Tensor]:
        """The head's own parameters (the encoder's are left out)."""
        return {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items() if not k.startswith("model.")}

    def save(self, folder: Path) -> None:
        """Write ``head.safetensors`` then ``head.json`` (type and config) into ``folder``, each atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_file(folder / HEAD_WEIGHTS, lambda f: f.write(save(self.head_state_dict())))
        atomic_write_json(folder / HEAD_CONFIG, {"head_type": self.head_type, "config": self.config})

    def load_weights(self, folder: Path) -> None:
        """Load the head's parameters saved by ``save`` (strict: every head parameter must be there).

        Raises RunFolderError when the weights file is missing, unreadable or does not fit this head."""
        path = Path(folder) / HEAD_WEIGHTS
        try:
            state = load_file(str(path))
        except FileNotFoundError:
            raise RunFolderError(f"{path}: missing head weights") from None
        except Exception as err:  # safetensors raises its own error types on a damaged file
            raise RunFolderError(f"{path}: corrupt head weights ({type(err).__name__})") from None
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("model.")]
        if missing or unexpected:
            raise RunFolderError(f"{path}: head weights do not match (missing {missing}, unexpected {unexpected})")
