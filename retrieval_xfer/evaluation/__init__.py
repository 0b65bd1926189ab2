"""Evaluators, one per task family. Retrieval: ``tatoeba.py`` (accuracy) and ``bucc.py`` (mining F1); the seven
zero-shot tasks: ``classification.py``, ``tagging.py``, ``qa.py``, driven language by language by ``zero_shot.py``.
Metrics are in ``metrics/``; ``report.py`` builds the XTREME report."""
