"""Margin-based bitext mining (Artetxe & Schwenk 2019), as XTREME and LASER run it for BUCC."""

from retrieval_xfer.mining.candidates import RETRIEVALS, Candidates, mine_candidates
from retrieval_xfer.mining.knn import knn
from retrieval_xfer.mining.margin import MARGINS, margin_scores
from retrieval_xfer.mining.sentences import MinedSentences, mine_sentences, unique_texts
from retrieval_xfer.mining.threshold import PRF, best_threshold, precision_recall_f1

__all__ = [
    "MARGINS", "PRF", "RETRIEVALS", "Candidates", "MinedSentences", "best_threshold", "knn", "margin_scores",
    "mine_candidates", "mine_sentences", "unique_texts",
    "precision_recall_f1",
]
