"""XTREME's metrics, each a pure function of predictions and gold labels (no model, no files)."""

from retrieval_xfer.evaluation.metrics.classification import accuracy
from retrieval_xfer.evaluation.metrics.qa import normalize_answer, qa_scores
from retrieval_xfer.evaluation.metrics.tagging import entity_f1, word_accuracy

__all__ = ["accuracy", "entity_f1", "normalize_answer", "qa_scores", "word_accuracy"]
