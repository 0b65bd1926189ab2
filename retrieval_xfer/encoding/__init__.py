"""Encoders: a model folder or hub id in, L2-normalised sentence vectors out (mean-pooled at a chosen layer)."""
