"""Task heads, each a sentence-transformers loss module that owns its parameters (one shared encoder)."""

from retrieval_xfer.training.heads.base import TaskHead, load_head
from retrieval_xfer.training.heads.classification import ClassificationHead
from retrieval_xfer.training.heads.masked_lm import MaskedLMHead
from retrieval_xfer.training.heads.multiple_choice import MultipleChoiceHead
from retrieval_xfer.training.heads.span import SpanHead
from retrieval_xfer.training.heads.tagging import TaggingHead

HEADS: dict[str, type[TaskHead]] = {
    "classification": ClassificationHead,
    "multiple-choice": MultipleChoiceHead,
    "tagging": TaggingHead,
    "span": SpanHead,
    "masked-lm": MaskedLMHead,
}

__all__ = ["HEADS", "ClassificationHead", "MaskedLMHead", "MultipleChoiceHead", "SpanHead", "TaggingHead",
           "TaskHead", "load_head"]
