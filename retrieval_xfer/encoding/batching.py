"""The encode loop every encoder shares: longest sentences first, in chunks, one progress bar, input order back."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm


def encode_longest_first(
    sentences: Sequence[str],
    dimension: int,
    chunk: int,
    encode_chunk: Callable[[list[str]], np.ndarray],
    desc: str,
    show_progress: bool,
) -> np.ndarray:
    """``encode_chunk`` over ``sentences`` sorted by length, longest first (padding is minimal and memory peaks
    early), ``chunk`` at a time; a float32 array of shape ``(len(sentences), dimension)`` in input order."""
    vectors = np.zeros((len(sentences), dimension), dtype=np.float32)
    order = np.argsort([-len(s) for s in sentences], kind="stable")
    with tqdm(total=len(sentences), desc=desc, unit="sent", disable=not show_progress) as bar:
        for start in range(0, len(order), chunk):
            rows = order[start : start + chunk]
            vectors[rows] = np.asarray(encode_chunk([sentences[i] for i in rows]), dtype=np.float32)
            bar.update(len(rows))
    return vectors
