"""FAISS indexes over sentence vectors, saved as folders with the ids, the sentences and ``meta.json``."""
