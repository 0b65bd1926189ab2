"""The head types by name (the ``head`` of a task card) and rebuilding a saved head from its folder."""

from __future__ import annotations

from pathlib import Path

from sentence_transformers import SentenceTransformer

from retrieval_xfer.errors import RunFolderError
from retrieval_xfer.json_file import read_json_object
from retrieval_xfer.modeling.heads.base import HEAD_CONFIG, TaskHead
from retrieval_xfer.modeling.heads.classification import ClassificationHead
from retrieval_xfer.modeling.heads.masked_lm import MaskedLMHead
from retrieval_xfer.modeling.heads.multiple_choice import MultipleChoiceHead
from retrieval_xfer.modeling.heads.span import SpanHead
from retrieval_xfer.modeling.heads.tagging import TaggingHead

HEADS: dict[str, type[TaskHead]] = {
    "classification": ClassificationHead,
    "multiple-choice": MultipleChoiceHead,
    "tagging": TaggingHead,
    "span": SpanHead,
    "masked-lm": MaskedLMHead,
}


def read_head_config(folder: Path) -> dict:
    """``head.json`` of a saved head: ``{"head_type": ..., "config": {...}}``; RunFolderError when missing or
    corrupt."""
    path = Path(folder) / HEAD_CONFIG
    saved = read_json_object(
        path,
        "head config",
        error=RunFolderError,
        missing=f"{path}: missing head config (the head folder is incomplete)",
    )
    if saved.get("head_type") not in HEADS or not isinstance(saved.get("config"), dict):
        raise RunFolderError(f"{path}: corrupt head config (expected head_type among {', '.join(HEADS)} and a config)")
    return saved


def load_head(folder: Path, model: SentenceTransformer) -> TaskHead:
    """Rebuild a saved head on ``model`` from its folder; RunFolderError when its files are missing or corrupt."""
    saved = read_head_config(folder)
    head = HEADS[saved["head_type"]](model, saved["config"])
    head.load_weights(folder)
    return head
