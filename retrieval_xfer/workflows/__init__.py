"""Workflows: one function per job that composes packages which may not import each other.

Encoding a corpus and then indexing, searching or mining it (``index.py``, ``search.py``, ``mine.py``), and a
training phase with an evaluator run during it (``train.py``). The CLI and ``rx experiment`` call these; the
packages below (``encoding``, ``indexing``, ``mining``, ``training``, ``evaluation``) never import this one.
"""
