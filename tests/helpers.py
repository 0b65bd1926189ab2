"""Test helpers: a deterministic stand-in encoder whose geometry the tests design, and file writers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from retrieval_xfer.specs import EncoderSpec


class KeyedEncoder:
    """Encodes ``"<lang>:<key> ..."`` to the unit vector of ``key`` plus a little language noise.

    Two sentences with the same key are near-identical (a true translation); different keys are random
    vectors in 64 dimensions (cosine about ±0.15). Same interface as ``retrieval_xfer.encoding.Encoder``.
    """

    def __init__(self, noise: float = 0.05, dimension: int = 256) -> None:
        self.noise = noise
        self.show_progress = False
        self.spec = EncoderSpec(
            model="keyed",
            weights_sha256="0" * 64,
            layer=1,
            num_layers=1,
            pooling="mean",
            prompt="",
            max_length=16,
            dimension=dimension,
        )

    def _rng(self, text: str) -> np.random.Generator:
        return np.random.default_rng(int(hashlib.sha256(text.encode()).hexdigest()[:12], 16))

    def encode(self, sentences, desc: str = "") -> np.ndarray:
        rows = []
        for sentence in sentences:
            lang, key = sentence.split(":", 1)
            v = self._rng(key.split()[0]).standard_normal(self.spec.dimension)
            v = v / np.linalg.norm(v) + self.noise * self._rng(sentence).standard_normal(self.spec.dimension)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.spec.dimension)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def write_tatoeba(folder: Path, source: list[str], english: list[str], code: str = "deu") -> Path:
    """A Tatoeba folder in the LASER layout: ``tatoeba.<code>-eng.<code>`` and ``tatoeba.<code>-eng.eng``."""
    write_lines(folder / f"tatoeba.{code}-eng.{code}", source)
    write_lines(folder / f"tatoeba.{code}-eng.eng", english)
    return folder
