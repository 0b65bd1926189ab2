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

from retrieval_xfer.modeling.features import IGNORED


def _group(name: str, encoded: dict[str, Any]) -> dict[str, torch.Tensor]:
    return {f"{name}_{key}": value for key, value in encoded.items()}


@dataclass
class MultiTaskCollator:
    """Pads the rows of ``modeling.features.build_rows`` (already tokenized) into one batch.

    ``tasks`` maps a task name to its format (as in ``modeling.features``)."""

    tokenizer: Any
    tasks: dict[str, str]
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
        return {"dataset_name": name, **self._by_format[self.tasks[name]](rows)}

    def _pad(self, sequences: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        """Token sequences (rows; their ``label`` and ``dataset_name`` are left out) padded to the longest on the
        tokenizer's padding side, with the attention mask; ``token_type_ids`` pad with 0, ``special_tokens_mask``
        with 1, ``tag_ids`` with -100."""
        width = max(len(s["input_ids"]) for s in sequences)
        fill = {"input_ids": self.tokenizer.pad_token_id, "special_tokens_mask": 1, "tag_ids": IGNORED}
        keys = [key for key in sequences[0] if key not in ("label", "dataset_name")]
        out = {key: torch.full((len(sequences), width), fill.get(key, 0), dtype=torch.long) for key in keys}
        out["attention_mask"] = torch.zeros((len(sequences), width), dtype=torch.long)
        left = self.tokenizer.padding_side == "left"
        for b, sequence in enumerate(sequences):
            length = len(sequence["input_ids"])
            span = slice(width - length, width) if left else slice(0, length)
            for key in keys:
                out[key][b, span] = torch.tensor(sequence[key], dtype=torch.long)
            out["attention_mask"][b, span] = 1
        return out

    def _pairs(self, rows: list[dict]) -> dict[str, Any]:
        return {**_group("pair", self._pad(rows)), "label": torch.tensor([r["label"] for r in rows])}

    def _choices(self, rows: list[dict]) -> dict[str, Any]:
        keys = [k for k in rows[0] if k.startswith("choice_")]
        choices = [
            {k.removeprefix("choice_"): r[k][c] for k in keys} for r in rows for c in range(len(r["choice_input_ids"]))
        ]
        return {**_group("choices", self._pad(choices)), "label": torch.tensor([r["label"] for r in rows])}

    def _tags(self, rows: list[dict]) -> dict[str, Any]:
        encoded = self._pad(rows)
        labels = encoded.pop("tag_ids")
        return {**_group("tokens", encoded), "label": labels}

    def _windows(self, rows: list[dict]) -> dict[str, Any]:
        width = max(len(r["window_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, : len(row["window_ids"])] = torch.tensor(row["window_ids"])
            mask[b, : len(row["window_ids"])] = 1
        labels = torch.tensor([[r["start"], r["end"]] for r in rows])
        return {"window_input_ids": ids, "window_attention_mask": mask, "label": labels}

    def _masked(self, rows: list[dict]) -> dict[str, Any]:
        encoded = self._pad(rows)
        ids = encoded["input_ids"]
        special = encoded.pop("special_tokens_mask").bool() | (encoded["attention_mask"] == 0)
        chosen = (torch.rand(ids.shape) < self.mlm_probability) & ~special
        labels = torch.where(chosen, ids, torch.full_like(ids, IGNORED))
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
