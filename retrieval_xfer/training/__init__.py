"""Intermediate-task training through sentence-transformers: task heads as losses on one shared encoder."""
