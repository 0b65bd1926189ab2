"""Evaluators, one per task family. Retrieval: ``tatoeba.py`` (accuracy) and ``bucc.py`` (mining F1)."""

from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, tatoeba_accuracy

__all__ = ["evaluate_bucc", "evaluate_tatoeba", "tatoeba_accuracy"]
