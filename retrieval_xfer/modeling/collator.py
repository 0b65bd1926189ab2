"""One collator for every task format in a multi-task run; each batch holds rows of one task only.

Output per batch: ``dataset_name`` (routes the batch to its head), one tokenized feature group
(``<group>_input_ids``, ``<group>_attention_mask`` ...) that the trainer hands to the head as ``features[0]``,
and ``label`` (a tensor). Labels never enter the feature group, because every key there reaches the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch


def _group(name: str, encoded: dict[str, Any]) -> dict[str, torch.Tensor]:
    return {f"{name}_{key}": value for key, value in encoded.items() if key != "offset_mapping"}


@dataclass
class MultiTaskCollator:
    """``tasks`` maps a task name to ``(format, max_length)``; formats as in ``modeling.features``."""

    tokenizer: Any
    tasks: dict[str, tuple[str, int]]
    mlm_probability: float = 0.15
    valid_label_columns: list[str] = field(default_factory=lambda: ["label"])  # read by the trainer's samplers
    _by_format: dict[str, Callable] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_format = {
            "pair-classification": self._pairs,
            "multiple-choice": self._choices,
            "tagging": self._tags,
            "span-qa": self._windows,
            "masked-lm": self._masked,
        }

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        name = rows[0]["dataset_name"]
        fmt, max_length = self.tasks[name]
        return {"dataset_name": name, **self._by_format[fmt](rows, max_length)}

    def _encode(self, *texts, max_length: int, **kwargs) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            *texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt", **kwargs
        )

    def _pairs(self, rows: list[dict], max_length: int) -> dict[str, Any]:
        second = [r["text_b"] for r in rows]
        encoded = self._encode([r["text_a"] for r in rows], second if any(second) else None, max_length=max_length)
        return {**_group("pair", encoded), "label": torch.tensor([r["label"] for r in rows])}

    def _choices(self, rows: list[dict], max_length: int) -> dict[str, Any]:
        first = [r["context"] for r in rows for _ in r["choices"]]
        second = [choice for r in rows for choice in r["choices"]]
        encoded = self._encode(first, second, max_length=max_length)
        return {**_group("choices", encoded), "label": torch.tensor([r["label"] for r in rows])}

    def _tags(self, rows: list[dict], max_length: int) -> dict[str, Any]:
        encoded = self._encode([r["tokens"] for r in rows], max_length=max_length, is_split_into_words=True)
        labels = torch.full(encoded["input_ids"].shape, -100, dtype=torch.long)
        for b, row in enumerate(rows):
            previous = None
            for position, word in enumerate(encoded.word_ids(b)):
                if word is not None and word != previous:  # the first sub-word of each word carries its tag
                    labels[b, position] = row["tags"][word]
                previous = word
        return {**_group("tokens", encoded), "label": labels}

    def _windows(self, rows: list[dict], max_length: int) -> dict[str, Any]:
        width = max(len(r["window_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, : len(row["window_ids"])] = torch.tensor(row["window_ids"])
            mask[b, : len(row["window_ids"])] = 1
        labels = torch.tensor([[r["start"], r["end"]] for r in rows])
        return {"window_input_ids": ids, "window_attention_mask": mask, "label": labels}

    def _masked(self, rows: list[dict], max_length: int) -> dict[str, Any]:
        encoded = self._encode([r["text"] for r in rows], max_length=max_length, return_special_tokens_mask=True)
        ids = encoded["input_ids"]
        special = encoded.pop("special_tokens_mask").bool() | (encoded["attention_mask"] == 0)
        chosen = (torch.rand(ids.shape) < self.mlm_probability) & ~special
        labels = torch.where(chosen, ids, torch.full_like(ids, -100))
        roll = torch.rand(ids.shape)
        masked = ids.masked_fill(chosen & (roll < 0.8), self.tokenizer.mask_token_id)
        random_ids = torch.randint(len(self.tokenizer), ids.shape)
        encoded["input_ids"] = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), random_ids, masked)
        return {**_group("mlm", encoded), "label": labels}


def split_batch(batch: dict[str, Any]) -> tuple[list[dict[str, torch.Tensor]], torch.Tensor]:
    """A collated batch as a head takes it: ``([feature group], label)``, as the trainer splits it."""
    prefixes = [key[: -len("input_ids")] for key in batch if key.endswith("_input_ids")]
    features = [{key[len(p) :]: value for key, value in batch.items() if key.startswith(p)} for p in prefixes]
    return features, batch["label"]
