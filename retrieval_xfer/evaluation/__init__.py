"""Evaluators, one per task family. Retrieval: ``tatoeba.py`` (accuracy) and ``bucc.py`` (mining F1); the seven
zero-shot tasks: ``classification.py``, ``tagging.py``, ``qa.py``, driven language by language by ``zero_shot.py``.
Metrics are in ``metrics/``; ``report.py`` builds the XTREME report."""

from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, tatoeba_accuracy
from retrieval_xfer.evaluation.zero_shot import evaluate_zero_shot, locate_data

__all__ = ["evaluate_bucc", "evaluate_tatoeba", "evaluate_zero_shot", "locate_data", "tatoeba_accuracy"]
