"""The encode loop every encoder shares: sentences grouped into batches of similar length, longest first, one
progress bar, input order back.

Batches hold as many sentences as fit in a token budget (``max_tokens``, default ``DEFAULT_MAX_TOKENS``): a
batch's sentence count times its longest sentence's tokens (what the forward pass computes on, padding included).
Short sentences then share a pass by the hundreds and long ones never exceed the budget's memory; on a 2-core CPU
it encodes Tatoeba 1.5x faster than 32 sentences a pass (bench/RESULTS.md). A fixed ``batch_size`` is the other
mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from retrieval_xfer.errors import RxError

DEFAULT_MAX_TOKENS = 2048  # the best of 1,024-16,384 on a CPU (bench/RESULTS.md); more work per pass than 32 sentences
_TOKENIZE_CHUNK = 4096  # sentences tokenized at once to measure their lengths (bounds the memory it takes)


def batching(batch_size: int | None, max_tokens: int | None) -> tuple[int | None, int | None]:
    """``(batch_size, max_tokens)`` to encode with, one of them None: a fixed batch when ``batch_size`` is given,
    else the token budget ``max_tokens`` (default ``DEFAULT_MAX_TOKENS``). RxError when both are given."""
    if batch_size is not None and max_tokens is not None:
        raise RxError("give --batch-size (sentences per pass) or --max-tokens (tokens per pass), not both")
    if batch_size is not None:
        return batch_size, None
    return None, max_tokens if max_tokens is not None else DEFAULT_MAX_TOKENS


def token_lengths(tokenizer, sentences: Sequence[str], prompt: str, max_length: int) -> np.ndarray:
    """Tokens of each sentence as the encoder sees it: prompt prepended, special tokens added, cut at
    ``max_length``."""
    lengths = np.zeros(len(sentences), dtype=np.int64)
    for start in range(0, len(sentences), _TOKENIZE_CHUNK):
        texts = [prompt + s for s in sentences[start : start + _TOKENIZE_CHUNK]]
        ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        lengths[start : start + len(texts)] = [len(i) for i in ids]
    return lengths


def batch_plan(lengths: Sequence[int], batch_size: int | None, max_tokens: int | None = None) -> list[np.ndarray]:
    """Row indices of each batch, longest sentences first: with ``max_tokens`` as many rows as keep rows x longest
    length <= ``max_tokens`` (at least one row), else ``batch_size`` rows per batch."""
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    if max_tokens is None:
        return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    batches, start = [], 0
    while start < len(order):
        rows = max(1, max_tokens // max(1, int(lengths[order[start]])))  # the first row is the batch's longest
        batches.append(order[start : start + rows])
        start += rows
    return batches


def encode_in_batches(
    sentences: Sequence[str],
    dimension: int,
    batches: list[np.ndarray],
    encode_batch: Callable[[list[str]], np.ndarray],
    desc: str,
    show_progress: bool,
) -> np.ndarray:
    """``encode_batch`` over each batch of ``batch_plan``; a float32 array of shape ``(len(sentences),
    dimension)`` in input order, with one progress bar counting sentences."""
    vectors = np.zeros((len(sentences), dimension), dtype=np.float32)
    with tqdm(total=len(sentences), desc=desc, unit="sent", disable=not show_progress) as bar:
        for rows in batches:
            vectors[rows] = np.asarray(encode_batch([sentences[i] for i in rows]), dtype=np.float32)
            bar.update(len(rows))
    return vectors


def sentence_batches(
    sentences: Sequence[str], tokenizer, prompt: str, max_length: int, batch_size: int | None, max_tokens: int | None
) -> list[np.ndarray]:
    """``batch_plan`` for ``sentences``: by token length under a token budget (measured with ``tokenizer``),
    else by character length (free to measure, and the order is all a fixed batch size needs)."""
    if max_tokens is None:
        return batch_plan([len(s) for s in sentences], batch_size)
    return batch_plan(token_lengths(tokenizer, sentences, prompt, max_length), batch_size, max_tokens)
